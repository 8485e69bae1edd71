using System.Text.Json.Nodes;
using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Core.Threading;
using Quanta.Models.HuggingFace;
using Xunit.Abstractions;

namespace Quanta.Models.Tests.HuggingFace;

/// <summary>
/// Hugging Face checkpoints of a small random llama written in the published layouts: F32 safetensors against the same
/// weights as a GGUF (Q/K permuted as llama.cpp's converter does), sharded against single-file, and every quantized
/// layout against an F32 checkpoint holding exactly its dequantized values (weights compared element by element, logits
/// within the activation-quantization tolerance, greedy tokens identical where the margin exceeds it), plus the errors
/// malformed checkpoints give.
/// </summary>
public sealed class HuggingFaceCheckpointTests(ITestOutputHelper output) : IDisposable
{
    private const int Seed = 4242;
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"quanta-hf-{Environment.ProcessId}-{Guid.NewGuid():N}");
    private readonly WorkerPool _pool = new(2);

    public void Dispose()
    {
        _pool.Dispose();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private string Dir(string name) => Path.Combine(_root, name);

    private const int Candidates = 64, Steps = 3;

    private static readonly int[] Prompt = [1, 17, 300, 42, 7, 511, 250, 3, 99, 128, 64, 400, 12, 5, 333, 271];

    private float[] AllLogits(LoadedModel model, int[] tokens)
    {
        using var s = model.CreateSession(new SessionOptions { ContextLength = 64, Pool = _pool });
        var logits = new float[tokens.Length * model.Config.VocabSize];
        s.Prefill(tokens, logits);
        return logits;
    }

    /// <summary>max |a - b| / max |b| over all positions.</summary>
    private static double RelativeError(float[] a, float[] b)
    {
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++)
        {
            num = Math.Max(num, Math.Abs(a[i] - b[i]));
            den = Math.Max(den, Math.Abs(b[i]));
        }
        return num / den;
    }

    [Fact]
    public void F32_safetensors_equal_the_permuted_F32_gguf()
    {
        var model = new TinyLlamaCheckpoint(Seed);
        model.Write(Dir("f32"), null);
        model.WriteGguf(Dir("f32.gguf"));
        using var hf = ModelLoader.Load(Dir("f32"));
        using var gguf = ModelLoader.Load(Dir("f32.gguf"));
        Assert.Equal(ModelSourceKind.Safetensors, hf.Kind);
        Assert.Equal(WeightFormat.F32, hf.Weights.Layers[0].Query.Format);
        Assert.False(hf.Weights.Layers[0].Query.OwnsMemory); // zero-copy view of the mapping
        double err = RelativeError(AllLogits(hf, Prompt), AllLogits(gguf, Prompt));
        output.WriteLine($"HF F32 vs GGUF F32: relative error {err:E3}");
        Assert.True(err <= 1e-5, $"HF (NeoX RoPE) and GGUF (permuted Q/K, normal RoPE) logits differ by {err:E3} relative (> 1e-5)");
    }

    [Fact]
    public void Sharded_checkpoint_loads_identically()
    {
        var model = new TinyLlamaCheckpoint(Seed);
        model.Write(Dir("single"), null);
        model.Write(Dir("sharded"), null, shards: 2);
        Assert.True(File.Exists(Path.Combine(Dir("sharded"), "model.safetensors.index.json")));
        using var single = ModelLoader.Load(Dir("single"));
        using var sharded = ModelLoader.Load(Dir("sharded"));
        using (var ckpt = SafetensorsCheckpoint.Open(Dir("sharded"))) Assert.Equal(2, ckpt.Shards.Count);
        float[] a = AllLogits(single, Prompt), b = AllLogits(sharded, Prompt);
        for (int i = 0; i < a.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(a[i]) == BitConverter.SingleToInt32Bits(b[i]), $"logit {i}: sharded {b[i]} vs single {a[i]}");
    }

    /// <summary>
    /// Storage, expected weight format, tolerance on logits relative to max |logit| (from the activation format only:
    /// FP8 kernels take F32 activations, so only summation order differs; INT8/INT4 kernels quantize activations to
    /// Q8_0, |error| ≤ amax/254 per element; observed 1.2e-2 to 1.5e-2 on this model), and a per-element weight tolerance relative to the
    /// largest |scale·zero| (0 where Quanta's rows hold the dequantized value exactly; AWQ's asymmetric offset −s·z is
    /// stored as F16 in the Int4 rows, a rounding of at most 2^-11 relative).
    /// </summary>
    public static TheoryData<string> Storages() => new() { "fp8-tensor", "fp8-channel", "modelopt-fp8", "int8-channel", "gptq-g128", "awq-g128", "pack-quantized-g32" };

    private static (ILinearStorage Storage, WeightFormat Format, double LogitTolerance) Case(string name) => name switch
    {
        "fp8-tensor" => (new LinearStorages.Fp8CompressedTensors(perChannel: false), WeightFormat.Fp8E4M3, 1e-5),
        "fp8-channel" => (new LinearStorages.Fp8CompressedTensors(perChannel: true), WeightFormat.Fp8E4M3, 1e-5),
        "modelopt-fp8" => (new LinearStorages.ModelOptFp8(), WeightFormat.Fp8E4M3, 1e-5),
        "int8-channel" => (new LinearStorages.Int8Channel(), WeightFormat.Int8, 2.5e-2),
        "gptq-g128" => (new LinearStorages.Gptq(128), WeightFormat.Int4G128, 2.5e-2),
        "awq-g128" => (new LinearStorages.Awq(128), WeightFormat.Int4G128, 2.5e-2),
        "pack-quantized-g32" => (new LinearStorages.PackQuantized(32), WeightFormat.Int4G32, 2.5e-2),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Storages))]
    public void Quantized_checkpoint_matches_its_dequantized_F32_model(string storageName)
    {
        var (storage, format, tol) = Case(storageName);
        var model = new TinyLlamaCheckpoint(Seed);
        TinyLlamaCheckpoint deq = model.Write(Dir(storageName), storage);
        deq.Write(Dir(storageName + "-deq"), null);
        using var q = ModelLoader.Load(Dir(storageName));
        using var r = ModelLoader.Load(Dir(storageName + "-deq"));

        // Weights: every quantized matrix dequantizes to the first-principles values.
        var layer = q.Weights.Layers[1];
        Assert.Equal(format, layer.Down.Format);
        Assert.Equal(WeightFormat.F32, q.Weights.Output.Format); // lm_head stays unquantized
        foreach (var (name, m) in new[] { ("model.layers.1.self_attn.q_proj.weight", layer.Query), ("model.layers.1.self_attn.k_proj.weight", layer.Key),
            ("model.layers.1.mlp.down_proj.weight", layer.Down), ("model.layers.1.mlp.gate_proj.weight", layer.Gate) })
        {
            Assert.Equal(format, m.Format);
            float[] expected = deq.MatrixValues(name);
            var row = new float[m.Cols];
            double maxAbs = expected.Max(Math.Abs), worst = 0;
            for (int i = 0; i < m.Rows; i++)
            {
                m.DequantizeRow(i, row);
                for (int j = 0; j < m.Cols; j++) worst = Math.Max(worst, Math.Abs(row[j] - expected[i * m.Cols + j]));
            }
            // Exact for FP8/INT8/symmetric INT4 (zero 8: -8s is exact in F16); AWQ's offset -s·z rounds to F16:
            // |s·z| ≤ ~2·maxAbs, rounding ≤ 2^-11 of it, plus F32 rounding of s·q + m.
            double weightTol = storageName.StartsWith("awq", StringComparison.Ordinal) ? maxAbs * 2 * Math.Pow(2, -11) + 1e-6 : 0;
            output.WriteLine($"{storageName} {name}: max weight error {worst:E3} (allowed {weightTol:E3})");
            Assert.True(worst <= weightTol, $"{storageName} {name}: dequantized weights differ by {worst:E3} > {weightTol:E3}");
        }

        // Logits at every position.
        double err = RelativeError(AllLogits(q, Prompt), AllLogits(r, Prompt));
        output.WriteLine($"{storageName}: logits relative error {err:E3} (tolerance {tol:E1})");
        Assert.True(err <= tol, $"{storageName}: logits differ from the dequantized F32 model by {err:E3} relative (> {tol:E1})");

        // Greedy decoding on prompts whose every step has a top-1 margin above the tolerance.
        int usable = 0;
        using var rs = r.CreateSession(new SessionOptions { ContextLength = 16, Pool = _pool });
        using var qs = q.CreateSession(new SessionOptions { ContextLength = 16, Pool = _pool });
        for (int seed = 0; seed < Candidates && usable < 5; seed++)
        {
            var rng = new Random(seed);
            int[] prompt = Enumerable.Range(0, 5).Select(_ => rng.Next(3, TinyLlamaCheckpoint.Vocab)).ToArray();
            var (refTokens, minMargin, scale) = Greedy(rs, prompt, Steps, null);
            double tolAbs = tol * scale;
            if (minMargin <= 2 * tolAbs) continue;
            usable++;
            Assert.True(minMargin > 2 * tolAbs, $"margin {minMargin} ≤ 2·{tolAbs}");
            var (qTokens, _, _) = Greedy(qs, prompt, Steps, refTokens);
            Assert.True(refTokens.SequenceEqual(qTokens),
                $"{storageName} prompt seed {seed}: greedy tokens [{string.Join(",", qTokens)}] vs dequantized F32 [{string.Join(",", refTokens)}] (min margin {minMargin:F4}, tolerance {tolAbs:F4})");
        }
        output.WriteLine($"{storageName}: {usable} prompts (of up to {Candidates} tried, stopping at 5) have margins above 2x tolerance");
        Assert.True(usable >= 3, $"{storageName}: only {usable} of {Candidates} prompts have greedy margins above twice the tolerance");
    }

    /// <summary>
    /// Greedy decode of <paramref name="steps"/> tokens (teacher-forced on <paramref name="force"/> when given, so a
    /// mismatch shows at its first step); returns the argmax tokens, the smallest top-1 minus top-2 margin and the largest |logit|.
    /// </summary>
    private static (int[] Tokens, double MinMargin, double Scale) Greedy(InferenceSession s, int[] prompt, int steps, int[]? force)
    {
        s.Reset();
        ReadOnlySpan<float> logits = s.Prefill(prompt);
        var tokens = new int[steps];
        double minMargin = double.MaxValue, scale = 0;
        for (int t = 0; t < steps; t++)
        {
            int best = 0;
            for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
            double second = double.MinValue;
            for (int i = 0; i < logits.Length; i++)
            {
                if (i != best) second = Math.Max(second, logits[i]);
                scale = Math.Max(scale, Math.Abs(logits[i]));
            }
            minMargin = Math.Min(minMargin, logits[best] - second);
            tokens[t] = best;
            if (t + 1 < steps) logits = s.Decode(force?[t] ?? best);
        }
        return (tokens, minMargin, scale);
    }

    private void WriteConfig(string dir, JsonObject quantization)
    {
        new TinyLlamaCheckpoint(Seed).Write(dir, null);
        File.WriteAllText(Path.Combine(dir, "config.json"), TinyLlamaCheckpoint.Config(quantization).ToJsonString());
    }

    [Fact]
    public void Unknown_quant_method_is_named_in_the_error()
    {
        WriteConfig(Dir("bnb"), new JsonObject { ["quant_method"] = "bitsandbytes", ["load_in_4bit"] = true });
        var e = Assert.Throws<NotSupportedException>(() => ModelLoader.Load(Dir("bnb")));
        Assert.Contains("'bitsandbytes'", e.Message);
        Assert.Contains("quant_method", e.Message);
    }

    [Fact]
    public void Unsupported_compressed_tensors_format_and_gptq_bits_are_named()
    {
        var cs = new LinearStorages.PackQuantized(32).QuantizationConfig!;
        cs["format"] = "marlin-24";
        WriteConfig(Dir("marlin"), cs);
        var e = Assert.Throws<NotSupportedException>(() => ModelLoader.Load(Dir("marlin")));
        Assert.Contains("'marlin-24'", e.Message);

        var gptq = new LinearStorages.Gptq(128).QuantizationConfig!;
        gptq["bits"] = 3;
        WriteConfig(Dir("gptq3"), gptq);
        e = Assert.Throws<NotSupportedException>(() => ModelLoader.Load(Dir("gptq3")));
        Assert.Contains("gptq bits=3", e.Message);
    }

    /// <summary>Wraps a storage but leaves out or reshapes one module's tensors.</summary>
    private sealed class Broken(ILinearStorage inner, string prefix, Func<SafetensorsWriter, string, float[], int, int, float[]> write) : ILinearStorage
    {
        public string Name => inner.Name + "-broken";
        public JsonObject? QuantizationConfig => inner.QuantizationConfig;
        public float[] Write(SafetensorsWriter writer, string p, float[] w, int rows, int cols) =>
            p == prefix ? write(writer, p, w, rows, cols) : inner.Write(writer, p, w, rows, cols);
    }

    [Fact]
    public void Missing_scale_tensor_is_named()
    {
        const string p = "model.layers.1.mlp.up_proj";
        var storage = new Broken(new LinearStorages.Fp8CompressedTensors(perChannel: false), p, (writer, name, w, rows, cols) =>
        {
            writer.AddTensor(name + ".weight", SafetensorsDType.F8_E4M3, [rows, cols], new byte[rows * cols]);
            return w;
        });
        new TinyLlamaCheckpoint(Seed).Write(Dir("noscale"), storage);
        var e = Assert.Throws<InvalidDataException>(() => ModelLoader.Load(Dir("noscale")));
        Assert.Contains($"'{p}.weight_scale'", e.Message);
    }

    [Fact]
    public void Shape_mismatches_are_named()
    {
        const string p = "model.layers.0.self_attn.k_proj";
        var gptq = new LinearStorages.Gptq(128);
        var storage = new Broken(gptq, p, (writer, name, w, rows, cols) =>
        {
            var sw = new SafetensorsWriter();
            float[] deq = gptq.Write(sw, name + ".x", w, rows, cols); // the real tensors, under other names
            writer.AddTensor(name + ".qweight", SafetensorsDType.I32, [rows, cols / 8], new byte[rows * cols / 2]); // AWQ-like, wrong for GPTQ
            writer.AddTensor(name + ".qzeros", SafetensorsDType.I32, [cols / 128, rows / 8], new byte[cols / 128 * rows / 8 * 4]);
            writer.AddTensor(name + ".scales", SafetensorsDType.F16, [cols / 128, rows], new byte[cols / 128 * rows * 2]);
            return deq;
        });
        new TinyLlamaCheckpoint(Seed).Write(Dir("badshape"), storage);
        var e = Assert.Throws<InvalidDataException>(() => ModelLoader.Load(Dir("badshape")));
        Assert.Contains($"'{p}.qweight'", e.Message);
        Assert.Contains("[128, 32]", e.Message); // what the file has: [out, in/8]; GPTQ wants [in/8, out] = [32, 128]

        const string f = "model.layers.1.self_attn.o_proj";
        var transposed = new Broken(new LinearStorages.Int8Channel(), f, (writer, name, w, rows, cols) =>
        {
            writer.AddTensor(name + ".weight", SafetensorsDType.F32, [cols + 8, rows], new byte[(cols + 8) * rows * 4]);
            return w;
        });
        new TinyLlamaCheckpoint(Seed).Write(Dir("badf32"), transposed);
        e = Assert.Throws<InvalidDataException>(() => ModelLoader.Load(Dir("badf32")));
        Assert.Contains($"'{f}.weight'", e.Message);
    }

    [Fact]
    public void Quantization_config_parsing_reads_group_sizes_and_formats()
    {
        static HuggingFaceQuantization Parse(JsonObject q) =>
            HuggingFaceQuantization.Parse(System.Text.Json.JsonDocument.Parse(TinyLlamaCheckpoint.Config(q).ToJsonString()).RootElement);
        Assert.Equal(HuggingFaceQuantMethod.None, HuggingFaceQuantization.Parse(System.Text.Json.JsonDocument.Parse("{}").RootElement).Method);
        var g = Parse(new LinearStorages.Gptq(64).QuantizationConfig!);
        Assert.Equal((HuggingFaceQuantMethod.Gptq, 64), (g.Method, g.GroupSize));
        var a = Parse(new JsonObject { ["quant_method"] = "awq", ["w_bit"] = 4, ["q_group_size"] = 32, ["version"] = "GEMM", ["zero_point"] = true });
        Assert.Equal((HuggingFaceQuantMethod.Awq, 32), (a.Method, a.GroupSize));
        var c = Parse(new LinearStorages.PackQuantized(128).QuantizationConfig!);
        Assert.Equal(("pack-quantized", 128), (c.Format, c.GroupSize));
        var m = Parse(new JsonObject { ["quant_method"] = "modelopt", ["quant_algo"] = "FP8" });
        Assert.Equal(HuggingFaceQuantMethod.ModelOpt, m.Method);
        var gemv = Assert.Throws<NotSupportedException>(() => Parse(new JsonObject { ["quant_method"] = "awq", ["bits"] = 4, ["group_size"] = 128, ["version"] = "gemv" }));
        Assert.Contains("'gemv'", gemv.Message);
        var nvfp4 = Assert.Throws<NotSupportedException>(() => Parse(new JsonObject { ["quant_method"] = "modelopt", ["quant_algo"] = "NVFP4" }));
        Assert.Contains("'NVFP4'", nvfp4.Message);
    }
}
