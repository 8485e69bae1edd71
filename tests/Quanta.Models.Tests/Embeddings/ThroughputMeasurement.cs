using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Quanta.Models.Tests.Vision;
using Xunit.Abstractions;

namespace Quanta.Models.Tests.Embeddings;

/// <summary>
/// Throughput of MiniLM (batch 1 × 16 tokens, batch 32 × 128 tokens) and ResNet-18 (batch 1) against ONNX Runtime
/// (2 intra-op threads) on the same inputs. Not a timed test: it asserts only that both engines agree, and prints
/// the rates. One timed iteration and batch 4 × 128 by default; set QUANTA_MEASURE_ITERS for a real measurement.
/// </summary>
[Trait("Category", "Measurement")]
public sealed class ThroughputMeasurement(MiniLmFixture lm, ResNet18Fixture rn, ITestOutputHelper output) : IClassFixture<MiniLmFixture>, IClassFixture<ResNet18Fixture>
{
    private static int Iters => int.TryParse(Environment.GetEnvironmentVariable("QUANTA_MEASURE_ITERS"), out int n) && n > 0 ? n : 1;

    private static double Rate(int items, Action run)
    {
        run(); // warm-up (plans, packing buffers, JIT)
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < Iters; i++) run();
        return items * Iters / sw.Elapsed.TotalSeconds;
    }

    private float[][] OrtEmbed(long[][] ids)
    {
        int b = ids.Length, s = ids[0].Length;
        var flat = ids.SelectMany(x => x).ToArray();
        using var r = lm.Ort.Run([
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(flat, [b, s])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, b * s).ToArray(), [b, s])),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[b * s], [b, s])),
        ], ["last_hidden_state"]);
        var h = r.First().AsTensor<float>().ToArray();
        return Enumerable.Range(0, b).Select(i =>
        {
            var e = new float[384];
            for (int t = 0; t < s; t++) for (int j = 0; j < 384; j++) e[j] += h[(i * s + t) * 384 + j] / s;
            float n = MathF.Sqrt(e.Sum(v => v * v));
            return e.Select(v => v / n).ToArray();
        }).ToArray();
    }

    private static long[][] RandomIds(Random r, int batch, int len) =>
        Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, len).Select(t => t == 0 ? 101L : t == len - 1 ? 102L : r.Next(1000, 29000)).ToArray()).ToArray();

    [Fact]
    public void MiniLm_and_ResNet18_throughput_against_onnx_runtime()
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        // Without QUANTA_MEASURE_ITERS the large case shrinks to batch 4 to keep the suite fast.
        foreach (var (batch, len) in new[] { (1, 16), (Environment.GetEnvironmentVariable("QUANTA_MEASURE_ITERS") is null ? 4 : 32, 128) })
        {
            var ids = RandomIds(r, batch, len);
            float[][] ours = [], theirs = [];
            double q = Rate(batch, () => ours = lm.Model.EmbedTokens(ids));
            double o = Rate(batch, () => theirs = OrtEmbed(ids));
            for (int i = 0; i < batch; i++)
            {
                double cos = ours[i].Zip(theirs[i], (a, b) => (double)a * b).Sum();
                Assert.True(cos >= 0.9999, $"batch {batch}×{len} row {i} (seed {seed}): cosine {cos:F7}");
            }
            output.WriteLine($"MiniLM batch {batch} × {len} tokens: Quanta {q:F1}/s, ONNX Runtime {o:F1}/s, ratio {q / o:F2} ({Iters} iterations)");
        }
        var chw = Enumerable.Range(0, 3 * 224 * 224).Select(_ => (float)r.Next(256)).ToArray();
        float[] fo = [], ft = [];
        double qi = Rate(1, () => fo = rn.Ours.Featurize(chw));
        double oi = Rate(1, () => ft = rn.OrtFeatures(chw));
        double dot = fo.Zip(ft, (a, b) => (double)a * b).Sum(), na = fo.Sum(v => (double)v * v), nb = ft.Sum(v => (double)v * v);
        Assert.True(dot / Math.Sqrt(na * nb) >= 0.9999, $"ResNet-18 (seed {seed}): cosine {dot / Math.Sqrt(na * nb):F7}");
        output.WriteLine($"ResNet-18 batch 1: Quanta {qi:F2} images/s, ONNX Runtime {oi:F2} images/s, ratio {qi / oi:F2}");
    }
}
