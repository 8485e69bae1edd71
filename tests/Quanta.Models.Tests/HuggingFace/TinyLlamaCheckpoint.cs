using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Float;
using Quanta.Core.Formats.Integer;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Safetensors;

namespace Quanta.Models.Tests.HuggingFace;

/// <summary>
/// How one nn.Linear is stored in a test checkpoint: writes the module's tensors (names P.*, the published layout of
/// the format) into a safetensors writer and returns the values a loader must reproduce, dequantized from first
/// principles (the format's formula applied to the stored codes and scales).
/// </summary>
public interface ILinearStorage
{
    /// <summary>Name for messages.</summary>
    string Name { get; }

    /// <summary>The config.json quantization_config object, or null.</summary>
    JsonObject? QuantizationConfig { get; }

    /// <summary>hf_quant_config.json content (ModelOpt), or null.</summary>
    JsonObject? HfQuantConfig => null;

    /// <summary>Writes P.* for the F32 matrix <paramref name="w"/> [rows, cols]; returns the dequantized matrix.</summary>
    float[] Write(SafetensorsWriter writer, string prefix, float[] w, int rows, int cols);
}

/// <summary>
/// A small random llama (dim 256, 2 layers, 4 heads, 2 KV heads, head dim 64, ffn 512, vocab 512; weights from a fixed
/// seed) held as F32 arrays under the Hugging Face names, written as a safetensors checkpoint (single, or sharded with an
/// index) + config.json, with the linear layers in any <see cref="ILinearStorage"/>, or as an F32 GGUF with the Q/K rows
/// permuted as llama.cpp's convert_hf_to_gguf.py does (rotate-half → adjacent pairs).
/// </summary>
public sealed class TinyLlamaCheckpoint
{
    public const int Dim = 256, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 64, Ffn = 512, Vocab = 512, Context = 128;
    public const float Eps = 1e-5f, Theta = 10000f;

    private readonly List<(string Name, float[] Values, int Rows, int Cols)> _matrices = [];
    private readonly List<(string Name, float[] Values)> _norms = [];

    public TinyLlamaCheckpoint(int seed)
    {
        var rng = new Random(seed);
        float[] Rand(int n, float amp)
        {
            var v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1) * amp;
            return v;
        }
        void M(string name, int rows, int cols, float amp) => _matrices.Add((name, Rand(rows * cols, amp), rows, cols));
        void N(string name)
        {
            var v = Rand(Dim, 0.2f);
            for (int i = 0; i < v.Length; i++) v[i] += 1f;
            _norms.Add((name, v));
        }
        float a = 1.7f / MathF.Sqrt(Dim);
        M("model.embed_tokens.weight", Vocab, Dim, 1f);
        for (int l = 0; l < Layers; l++)
        {
            string b = $"model.layers.{l}.";
            N(b + "input_layernorm.weight");
            M(b + "self_attn.q_proj.weight", Heads * HeadDim, Dim, a);
            M(b + "self_attn.k_proj.weight", KvHeads * HeadDim, Dim, a);
            M(b + "self_attn.v_proj.weight", KvHeads * HeadDim, Dim, a);
            M(b + "self_attn.o_proj.weight", Dim, Heads * HeadDim, a);
            N(b + "post_attention_layernorm.weight");
            M(b + "mlp.gate_proj.weight", Ffn, Dim, a);
            M(b + "mlp.up_proj.weight", Ffn, Dim, a);
            M(b + "mlp.down_proj.weight", Dim, Ffn, 1.7f / MathF.Sqrt(Ffn));
        }
        N("model.norm.weight");
        M("lm_head.weight", Vocab, Dim, 0.5f);
    }

    /// <summary>True for the linear layers a quantized checkpoint quantizes (everything but embedding and lm_head).</summary>
    public static bool IsQuantizedLinear(string name) => name.StartsWith("model.layers.", StringComparison.Ordinal);

    /// <summary>The config.json of the model.</summary>
    public static JsonObject Config(JsonObject? quantization)
    {
        var c = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["hidden_size"] = Dim,
            ["intermediate_size"] = Ffn,
            ["num_attention_heads"] = Heads,
            ["num_key_value_heads"] = KvHeads,
            ["num_hidden_layers"] = Layers,
            ["vocab_size"] = Vocab,
            ["max_position_embeddings"] = Context,
            ["rms_norm_eps"] = Eps,
            ["rope_theta"] = Theta,
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = "float32",
        };
        if (quantization != null) c["quantization_config"] = quantization;
        return c;
    }

    /// <summary>
    /// Writes <paramref name="dir"/>/config.json and the weights: linear layers through <paramref name="storage"/> (null:
    /// F32), everything else F32. <paramref name="shards"/> = 1 writes model.safetensors, more writes
    /// model-0000k-of-0000n.safetensors + model.safetensors.index.json. Returns the dequantized model: a checkpoint
    /// writer for the same model with every matrix replaced by the values the storage stands for.
    /// </summary>
    public TinyLlamaCheckpoint Write(string dir, ILinearStorage? storage, int shards = 1)
    {
        Directory.CreateDirectory(dir);
        var deqMatrices = new List<(string Name, float[] Values, int Rows, int Cols)>();
        var writers = Enumerable.Range(0, shards).Select(_ => new SafetensorsWriter()).ToArray();
        var weightMap = new JsonObject();
        string ShardName(int i) => shards == 1 ? "model.safetensors" : $"model-{i + 1:D5}-of-{shards:D5}.safetensors";
        int k = 0;
        foreach (var (name, values, rows, cols) in _matrices)
        {
            int shard = k++ * shards / _matrices.Count;
            var w = writers[shard];
            var before = w.BuildHeader();
            float[] deq;
            if (storage != null && IsQuantizedLinear(name)) deq = storage.Write(w, name[..^".weight".Length], values, rows, cols);
            else
            {
                w.AddTensor(name, SafetensorsDType.F32, [rows, cols], MemoryMarshal.AsBytes(values.AsSpan()));
                deq = values;
            }
            deqMatrices.Add((name, deq, rows, cols));
            foreach (var t in NewTensors(before, w.BuildHeader())) weightMap[t] = ShardName(shard);
        }
        foreach (var (name, values) in _norms)
        {
            writers[^1].AddTensor(name, SafetensorsDType.F32, [values.Length], MemoryMarshal.AsBytes(values.AsSpan()));
            weightMap[name] = ShardName(shards - 1);
        }
        for (int i = 0; i < shards; i++)
        {
            writers[i].WriteTo(Path.Combine(dir, ShardName(i)));
        }
        if (shards > 1)
        {
            var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = 0 }, ["weight_map"] = weightMap };
            File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), index.ToJsonString());
        }
        File.WriteAllText(Path.Combine(dir, "config.json"), Config(storage?.QuantizationConfig).ToJsonString());
        if (storage?.HfQuantConfig is { } hq) File.WriteAllText(Path.Combine(dir, "hf_quant_config.json"), hq.ToJsonString());
        return new TinyLlamaCheckpoint(deqMatrices, _norms);
    }

    private TinyLlamaCheckpoint(List<(string Name, float[] Values, int Rows, int Cols)> matrices, List<(string Name, float[] Values)> norms)
    {
        _matrices = matrices;
        _norms = norms;
    }

    /// <summary>F32 values of the matrix <paramref name="name"/> ([rows, cols] row-major).</summary>
    public float[] MatrixValues(string name) => _matrices.First(m => m.Name == name).Values;

    private static IEnumerable<string> NewTensors(byte[] before, byte[] after)
    {
        using var a = JsonDocument.Parse(before);
        using var b = JsonDocument.Parse(after);
        var old = a.RootElement.EnumerateObject().Select(p => p.Name).ToHashSet();
        return b.RootElement.EnumerateObject().Select(p => p.Name).Where(n => !old.Contains(n) && n != "__metadata__").ToList();
    }

    /// <summary>
    /// The same F32 weights as a llama GGUF, Q and K rows permuted the way convert_hf_to_gguf.py's LlamaModel.permute does
    /// (per head, row 2j + t of the GGUF is row t·HeadDim/2 + j of the HF tensor), so that llama.cpp's normal RoPE on the
    /// GGUF equals NeoX RoPE on the HF layout.
    /// </summary>
    public void WriteGguf(string path)
    {
        var w = new GgufWriter();
        w.Add("general.architecture", "llama");
        w.Add("llama.context_length", (uint)Context);
        w.Add("llama.embedding_length", (uint)Dim);
        w.Add("llama.block_count", (uint)Layers);
        w.Add("llama.feed_forward_length", (uint)Ffn);
        w.Add("llama.attention.head_count", (uint)Heads);
        w.Add("llama.attention.head_count_kv", (uint)KvHeads);
        w.Add("llama.attention.layer_norm_rms_epsilon", Eps);
        w.Add("llama.rope.dimension_count", (uint)HeadDim);
        w.Add("llama.rope.freq_base", Theta);
        w.Add("llama.vocab_size", (uint)Vocab);
        static string GgufName(string hf) => hf
            .Replace("model.embed_tokens", "token_embd", StringComparison.Ordinal)
            .Replace("lm_head", "output", StringComparison.Ordinal)
            .Replace("model.norm", "output_norm", StringComparison.Ordinal)
            .Replace("model.layers.", "blk.", StringComparison.Ordinal)
            .Replace(".self_attn.q_proj", ".attn_q", StringComparison.Ordinal)
            .Replace(".self_attn.k_proj", ".attn_k", StringComparison.Ordinal)
            .Replace(".self_attn.v_proj", ".attn_v", StringComparison.Ordinal)
            .Replace(".self_attn.o_proj", ".attn_output", StringComparison.Ordinal)
            .Replace(".mlp.gate_proj", ".ffn_gate", StringComparison.Ordinal)
            .Replace(".mlp.up_proj", ".ffn_up", StringComparison.Ordinal)
            .Replace(".mlp.down_proj", ".ffn_down", StringComparison.Ordinal)
            .Replace(".input_layernorm", ".attn_norm", StringComparison.Ordinal)
            .Replace(".post_attention_layernorm", ".ffn_norm", StringComparison.Ordinal);
        foreach (var (name, values, rows, cols) in _matrices)
        {
            float[] v = values;
            if (name.EndsWith("q_proj.weight", StringComparison.Ordinal)) v = Permute(values, Heads, cols);
            if (name.EndsWith("k_proj.weight", StringComparison.Ordinal)) v = Permute(values, KvHeads, cols);
            w.AddTensor(GgufName(name), GgmlType.F32, [cols, rows], MemoryMarshal.AsBytes(v.AsSpan()));
        }
        foreach (var (name, values) in _norms)
            w.AddTensor(GgufName(name), GgmlType.F32, [values.Length], MemoryMarshal.AsBytes(values.AsSpan()));
        w.WriteTo(path);
    }

    private static float[] Permute(float[] hf, int heads, int cols)
    {
        int rows = hf.Length / cols, hd = rows / heads, half = hd / 2;
        var g = new float[hf.Length];
        for (int h = 0; h < heads; h++)
            for (int j = 0; j < half; j++)
                for (int t = 0; t < 2; t++)
                    Array.Copy(hf, (h * hd + t * half + j) * cols, g, (h * hd + 2 * j + t) * cols, cols);
        return g;
    }
}

/// <summary>The published quantized layouts, written from F32 weights with Quanta's Core quantizers.</summary>
public static class LinearStorages
{
    private static byte[] Bytes<T>(T[] a) where T : struct => MemoryMarshal.AsBytes(a.AsSpan()).ToArray();

    private static JsonObject CompressedTensors(string format, JsonObject weights) => new()
    {
        ["quant_method"] = "compressed-tensors",
        ["format"] = format,
        ["quantization_status"] = "compressed",
        ["ignore"] = new JsonArray("lm_head"),
        ["config_groups"] = new JsonObject
        {
            ["group_0"] = new JsonObject { ["targets"] = new JsonArray("Linear"), ["weights"] = weights, ["input_activations"] = null },
        },
    };

    /// <summary>compressed-tensors float-quantized FP8 E4M3, strategy tensor (scale F32 [1]) or channel (scale BF16 [out, 1]).</summary>
    public sealed class Fp8CompressedTensors(bool perChannel) : ILinearStorage
    {
        public string Name => perChannel ? "fp8-channel" : "fp8-tensor";

        public JsonObject? QuantizationConfig => CompressedTensors("float-quantized", new JsonObject
        {
            ["num_bits"] = 8, ["type"] = "float", ["strategy"] = perChannel ? "channel" : "tensor", ["symmetric"] = true, ["dynamic"] = false,
        });

        public float[] Write(SafetensorsWriter writer, string p, float[] w, int rows, int cols)
        {
            var codes = new byte[w.Length];
            float[] scales;
            if (perChannel)
            {
                scales = new float[rows];
                Fp8Quantization.QuantizePerChannel(w, rows, cols, Fp8Format.E4M3, codes, scales);
                var bf = new ushort[rows];
                for (int r = 0; r < rows; r++)
                {
                    bf[r] = (ushort)(BitConverter.SingleToUInt32Bits(scales[r]) >> 16); // truncation: any BF16 value will do
                    scales[r] = BitConverter.UInt32BitsToSingle((uint)bf[r] << 16);
                }
                writer.AddTensor(p + ".weight", SafetensorsDType.F8_E4M3, [rows, cols], codes);
                writer.AddTensor(p + ".weight_scale", SafetensorsDType.BF16, [rows, 1], Bytes(bf));
            }
            else
            {
                scales = [Fp8Quantization.QuantizePerTensor(w, Fp8Format.E4M3, codes)];
                writer.AddTensor(p + ".weight", SafetensorsDType.F8_E4M3, [rows, cols], codes);
                writer.AddTensor(p + ".weight_scale", SafetensorsDType.F32, [1], Bytes(scales));
                writer.AddTensor(p + ".input_scale", SafetensorsDType.F32, [1], Bytes(new[] { 0.02f }));
            }
            var deq = new float[w.Length];
            for (int i = 0; i < w.Length; i++) deq[i] = Fp8E4M3.Decode(codes[i]) * scales[perChannel ? i / cols : 0];
            return deq;
        }
    }

    /// <summary>ModelOpt FP8: weight F8_E4M3, weight_scale and input_scale F32 scalars []; declared in hf_quant_config.json.</summary>
    public sealed class ModelOptFp8 : ILinearStorage
    {
        public string Name => "modelopt-fp8";

        public JsonObject? QuantizationConfig => null;

        public JsonObject? HfQuantConfig => new()
        {
            ["producer"] = new JsonObject { ["name"] = "modelopt", ["version"] = "0.19.0" },
            ["quantization"] = new JsonObject { ["quant_algo"] = "FP8", ["kv_cache_quant_algo"] = null, ["exclude_modules"] = new JsonArray("lm_head") },
        };

        public float[] Write(SafetensorsWriter writer, string p, float[] w, int rows, int cols)
        {
            var codes = new byte[w.Length];
            float scale = Fp8Quantization.QuantizePerTensor(w, Fp8Format.E4M3, codes);
            writer.AddTensor(p + ".weight", SafetensorsDType.F8_E4M3, [rows, cols], codes);
            writer.AddTensor(p + ".weight_scale", SafetensorsDType.F32, [], Bytes(new[] { scale }));
            writer.AddTensor(p + ".input_scale", SafetensorsDType.F32, [], Bytes(new[] { 0.01f }));
            var deq = new float[w.Length];
            for (int i = 0; i < w.Length; i++) deq[i] = Fp8E4M3.Decode(codes[i]) * scale;
            return deq;
        }
    }

    /// <summary>compressed-tensors int-quantized INT8, strategy channel: weight I8 [out, in], weight_scale F16 [out, 1].</summary>
    public sealed class Int8Channel : ILinearStorage
    {
        public string Name => "int8-channel";

        public JsonObject? QuantizationConfig => CompressedTensors("int-quantized", new JsonObject
        {
            ["num_bits"] = 8, ["type"] = "int", ["strategy"] = "channel", ["symmetric"] = true, ["dynamic"] = false,
        });

        public float[] Write(SafetensorsWriter writer, string p, float[] w, int rows, int cols)
        {
            var q = new sbyte[w.Length];
            var scales = new Half[rows];
            var deq = new float[w.Length];
            for (int r = 0; r < rows; r++)
            {
                float amax = 0;
                for (int c = 0; c < cols; c++) amax = MathF.Max(amax, MathF.Abs(w[r * cols + c]));
                scales[r] = (Half)(amax / 127f);
                float s = (float)scales[r];
                for (int c = 0; c < cols; c++)
                {
                    int i = r * cols + c;
                    q[i] = (sbyte)Math.Clamp(MathF.Round(w[i] / s), -128, 127);
                    deq[i] = s * q[i];
                }
            }
            writer.AddTensor(p + ".weight", SafetensorsDType.I8, [rows, cols], Bytes(q));
            writer.AddTensor(p + ".weight_scale", SafetensorsDType.F16, [rows, 1], Bytes(scales));
            return deq;
        }
    }

    private static float[] Dequantize(Int4QuantizedMatrix m)
    {
        int inF = m.InFeatures, g = m.GroupSize;
        var deq = new float[m.OutFeatures * inF];
        for (int o = 0; o < m.OutFeatures; o++)
            for (int i = 0; i < inF; i++)
            {
                int gi = o * m.GroupsPerRow + i / g;
                deq[o * inF + i] = (float)m.Scales[gi] * (m.Codes[o * inF + i] - m.Zeros[gi]);
            }
        return deq;
    }

    /// <summary>GPTQ (AutoGPTQ v1 "gptq" checkpoint format), 4 bits, symmetric, desc_act false.</summary>
    public sealed class Gptq(int groupSize) : ILinearStorage
    {
        public string Name => $"gptq-g{groupSize}";

        public JsonObject? QuantizationConfig => new()
        {
            ["quant_method"] = "gptq", ["bits"] = 4, ["group_size"] = groupSize, ["desc_act"] = false, ["sym"] = true,
            ["damp_percent"] = 0.01, ["true_sequential"] = true, ["checkpoint_format"] = "gptq",
        };

        public float[] Write(SafetensorsWriter writer, string p, float[] w, int rows, int cols)
        {
            var m = Int4QuantizedMatrix.FromF32(w, rows, cols, groupSize, symmetric: true);
            var t = GptqPacking.Pack(m, GptqCheckpointFormat.V1);
            writer.AddTensor(p + ".qweight", SafetensorsDType.I32, [cols / 8, rows], Bytes(t.QWeight));
            writer.AddTensor(p + ".qzeros", SafetensorsDType.I32, [cols / groupSize, rows / 8], Bytes(t.QZeros));
            writer.AddTensor(p + ".scales", SafetensorsDType.F16, [cols / groupSize, rows], Bytes(t.Scales));
            writer.AddTensor(p + ".g_idx", SafetensorsDType.I32, [cols], Bytes(t.GIdx));
            return Dequantize(m);
        }
    }

    /// <summary>AutoAWQ gemm, 4 bits, asymmetric (zero_point true).</summary>
    public sealed class Awq(int groupSize) : ILinearStorage
    {
        public string Name => $"awq-g{groupSize}";

        public JsonObject? QuantizationConfig => new()
        {
            ["quant_method"] = "awq", ["bits"] = 4, ["group_size"] = groupSize, ["version"] = "gemm", ["zero_point"] = true,
        };

        public float[] Write(SafetensorsWriter writer, string p, float[] w, int rows, int cols)
        {
            var m = Int4QuantizedMatrix.FromF32(w, rows, cols, groupSize, symmetric: false);
            var t = AwqPacking.Pack(m);
            writer.AddTensor(p + ".qweight", SafetensorsDType.I32, [cols, rows / 8], Bytes(t.QWeight));
            writer.AddTensor(p + ".qzeros", SafetensorsDType.I32, [cols / groupSize, rows / 8], Bytes(t.QZeros));
            writer.AddTensor(p + ".scales", SafetensorsDType.F16, [cols / groupSize, rows], Bytes(t.Scales));
            return Dequantize(m);
        }
    }

    /// <summary>compressed-tensors pack-quantized, 4 bits, strategy group, symmetric (no zero point tensor).</summary>
    public sealed class PackQuantized(int groupSize) : ILinearStorage
    {
        public string Name => $"pack-quantized-g{groupSize}";

        public JsonObject? QuantizationConfig => CompressedTensors("pack-quantized", new JsonObject
        {
            ["num_bits"] = 4, ["type"] = "int", ["strategy"] = "group", ["group_size"] = groupSize, ["symmetric"] = true, ["dynamic"] = false,
        });

        public float[] Write(SafetensorsWriter writer, string p, float[] w, int rows, int cols)
        {
            var m = Int4QuantizedMatrix.FromF32(w, rows, cols, groupSize, symmetric: true);
            var t = CompressedTensorsPacking.Pack(m, symmetric: true);
            writer.AddTensor(p + ".weight_packed", SafetensorsDType.I32, [rows, cols / 8], Bytes(t.WeightPacked));
            writer.AddTensor(p + ".weight_scale", SafetensorsDType.F16, [rows, cols / groupSize], Bytes(t.WeightScale));
            writer.AddTensor(p + ".weight_shape", SafetensorsDType.I64, [2], Bytes(new long[] { rows, cols }));
            return Dequantize(m);
        }
    }
}
