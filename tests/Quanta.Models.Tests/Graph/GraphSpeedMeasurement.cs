using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Quanta.Core.ModelFiles.Onnx;
using Quanta.Models.Embeddings;
using Quanta.Models.Graph;
using Quanta.Models.Tests.Vision;
using Xunit.Abstractions;
using OrtOptions = Microsoft.ML.OnnxRuntime.SessionOptions;
using OrtSession = Microsoft.ML.OnnxRuntime.InferenceSession;

namespace Quanta.Models.Tests.Graph;

/// <summary>
/// Same-run speed of the graph executor against ONNX Runtime (CPU, 2 intra-op threads) for the targets:
/// ResNet-18 FP32 images/s at batch 1 and batch 16 (on a copy of the model with a symbolic batch dimension, for both
/// engines), INT8 against ORT FP32, and MiniLM embeddings/s at batch 1 × 16 tokens and batch 32 × 128 tokens; then a
/// per-op-type profile (<see cref="GraphProfile"/>) of ResNet-18 batch 1 and MiniLM batch 1 × 16. Our runs and ORT's
/// alternate and the best of QUANTA_MEASURE_ITERS runs each is kept (default: 1 run, batches cut to 2 and 4 to keep
/// the suite fast). Not a timed test: it asserts only that both engines agree.
/// Run: QUANTA_MEASURE_ITERS=20 dotnet test tests/Quanta.Models.Tests -c Release --filter "FullyQualifiedName~GraphSpeedMeasurement" --logger "console;verbosity=detailed"
/// </summary>
[Trait("Category", "Measurement")]
public sealed class GraphSpeedMeasurement(ITestOutputHelper output)
{
    private static int Iters => int.TryParse(Environment.GetEnvironmentVariable("QUANTA_MEASURE_ITERS"), out int n) && n > 0 ? n : 1;
    private static bool Full => Environment.GetEnvironmentVariable("QUANTA_MEASURE_ITERS") is not null;

    /// <summary>Best seconds per run of each action, alternating them so both see the same machine load.</summary>
    private static (double Ours, double Theirs) Best(Action ours, Action theirs)
    {
        ours();
        theirs();
        double a = double.MaxValue, b = double.MaxValue;
        for (int i = 0; i < Iters; i++)
        {
            var sw = Stopwatch.StartNew();
            ours();
            a = Math.Min(a, sw.Elapsed.TotalSeconds);
            sw.Restart();
            theirs();
            b = Math.Min(b, sw.Elapsed.TotalSeconds);
        }
        return (a, b);
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double d = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { d += (double)a[i] * b[i]; na += (double)a[i] * a[i]; nb += (double)b[i] * b[i]; }
        return d / Math.Sqrt(na * nb);
    }

    private static float[] Image(Random r) => Enumerable.Range(0, 3 * 224 * 224).Select(_ => (float)(r.NextDouble() * 4 - 2)).ToArray();

    [Fact]
    public void ResNet18_float_and_int8_against_onnx_runtime()
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        var bytes = SymbolicBatch.Rewrite(File.ReadAllBytes(Path.Combine(ResNet18Fixture.Folder, "ResNet18Onnx", "ResNet18.onnx")));
        var ours = new GraphSession(OnnxModel.Parse(bytes, "ResNet18 (symbolic batch)"));
        var int8 = new GraphSession(OnnxModel.Parse(bytes, "ResNet18 (symbolic batch)"));
        string input = ours.InputNames[0];
        GraphQuantizer.Quantize(int8, Enumerable.Range(0, 3).Select(_ => (IReadOnlyDictionary<string, GraphTensor>)new Dictionary<string, GraphTensor> { [input] = GraphTensor.FromFloats([1, 3, 224, 224], Image(r)) }));
        using var opts = new OrtOptions { IntraOpNumThreads = 2 };
        using var ort = new OrtSession(bytes, opts);
        foreach (int batch in new[] { 1, Full ? 16 : 2 })
        {
            var x = Enumerable.Range(0, batch).SelectMany(_ => Image(r)).ToArray();
            var inputs = new Dictionary<string, GraphTensor> { [input] = GraphTensor.FromFloats([batch, 3, 224, 224], x) };
            var tensor = new DenseTensor<float>(x, [batch, 3, 224, 224]);
            float[] mine = [], theirs = [], quant = [];
            var (tq, to) = Best(() => mine = ours.Run(inputs)[ours.OutputNames[0]].Floats.ToArray(),
                () => { using var res = ort.Run([NamedOnnxValue.CreateFromTensor(input, tensor)]); theirs = res.First().AsTensor<float>().ToArray(); });
            var (ti, _) = Best(() => quant = int8.Run(inputs)[int8.OutputNames[0]].Floats.ToArray(), () => { });
            double cos = Cosine(mine, theirs), cosQ = Cosine(quant, theirs);
            Assert.True(cos >= 0.9999, $"ResNet-18 batch {batch} (seed {seed}): cosine {cos:F7} against ONNX Runtime");
            output.WriteLine($"ResNet-18 batch {batch} (best of {Iters}): FP32 {batch / tq:F2} images/s, INT8 {batch / ti:F2} images/s, ORT FP32 {batch / to:F2} images/s; FP32/ORT {to / tq:F2}, INT8/ORT {to / ti:F2} (INT8 cosine {cosQ:F4})");
        }
        var one = new Dictionary<string, GraphTensor> { [input] = GraphTensor.FromFloats([1, 3, 224, 224], Image(r)) };
        ours.Run(one);
        ours.Profile = new GraphProfile();
        for (int i = 0; i < Math.Max(Iters, 3); i++) ours.Run(one);
        output.WriteLine("ResNet-18 FP32 batch 1 profile:\n" + ours.Profile);
    }

    [Fact]
    public void MiniLm_against_onnx_runtime()
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        var bytes = ManifestResourceReader.Read(EmbeddingModel.DefaultAssemblyPath, EmbeddingModel.MiniLmModelResource);
        var ours = new GraphSession(OnnxModel.Parse(bytes, "all-MiniLM-L6-v2"));
        using var opts = new OrtOptions { IntraOpNumThreads = 2 };
        using var ort = new OrtSession(bytes, opts);
        Dictionary<string, GraphTensor>? profileInputs = null;
        foreach (var (batch, len) in new[] { (1, 16), (Full ? 32 : 4, 128) })
        {
            var ids = Enumerable.Range(0, batch * len).Select(i => i % len == 0 ? 101L : i % len == len - 1 ? 102L : r.Next(1000, 29000)).ToArray();
            var mask = Enumerable.Repeat(1L, batch * len).ToArray();
            var types = new long[batch * len];
            var inputs = new Dictionary<string, GraphTensor>
            {
                ["input_ids"] = GraphTensor.FromLongs([batch, len], ids),
                ["attention_mask"] = GraphTensor.FromLongs([batch, len], mask),
                ["token_type_ids"] = GraphTensor.FromLongs([batch, len], types),
            };
            profileInputs ??= inputs;
            float[] mine = [], theirs = [];
            var (tq, to) = Best(() => mine = ours.Run(inputs)["last_hidden_state"].Floats.ToArray(), () =>
            {
                using var res = ort.Run([
                    NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [batch, len])),
                    NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, [batch, len])),
                    NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(types, [batch, len]))], ["last_hidden_state"]);
                theirs = res.First().AsTensor<float>().ToArray();
            });
            double worst = 1;
            for (int t = 0; t < batch * len; t++) worst = Math.Min(worst, Cosine(mine.AsSpan(t * 384, 384), theirs.AsSpan(t * 384, 384)));
            Assert.True(worst >= 0.9999, $"MiniLM batch {batch} × {len} (seed {seed}): worst token cosine {worst:F7} against ONNX Runtime");
            output.WriteLine($"MiniLM batch {batch} × {len} tokens (best of {Iters}): Quanta {batch / tq:F1}/s, ORT {batch / to:F1}/s, ratio {to / tq:F2}");
        }
        ours.Run(profileInputs!);
        ours.Profile = new GraphProfile();
        for (int i = 0; i < Math.Max(Iters, 3); i++) ours.Run(profileInputs!);
        output.WriteLine("MiniLM batch 1 × 16 profile:\n" + ours.Profile);
    }
}
