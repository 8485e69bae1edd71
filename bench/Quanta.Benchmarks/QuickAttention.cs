using System.Diagnostics;
using System.Globalization;
using Quanta.Core.Kernels.Attention;

namespace Quanta.Benchmarks;

/// <summary>
/// BenchmarkDotNet-free check of one decode row of <see cref="CausalAttention.ForwardRow{T, TView}"/> (one query head
/// over a contiguous cache), 1 thread: `dotnet run -c Release --project bench/Quanta.Benchmarks -- attention`. For
/// head size 64 and context lengths 16 … 1024, F32 and F16 caches (12 KV heads, the 160M shape), prints the minimum of 15
/// timed batches: nanoseconds per call, per attended position, and the K/V bytes read per second (what bounds decode
/// attention at long contexts). Minimums damp a shared machine's noise but do not remove it.
/// </summary>
public static class QuickAttention
{
    public static void Run(string[] args)
    {
        _ = args;
        const int heads = 12, kvHeads = 12, d = 64;
        var p = new AttentionParameters(heads, kvHeads, d);
        var rng = new Random(1);
        Console.WriteLine("decode attention, 1 row, head size 64, 1 thread: min of 15 batches");
        foreach (int len in new[] { 16, 48, 128, 512, 1024 })
        {
            float[] k32 = new float[len * kvHeads * d], v32 = new float[k32.Length];
            for (int i = 0; i < k32.Length; i++) { k32[i] = (float)(rng.NextDouble() - 0.5); v32[i] = (float)(rng.NextDouble() - 0.5); }
            Half[] k16 = k32.Select(x => (Half)x).ToArray(), v16 = v32.Select(x => (Half)x).ToArray();
            float[] q = new float[heads * d];
            for (int i = 0; i < q.Length; i++) q[i] = (float)(rng.NextDouble() - 0.5);
            float[] o = new float[heads * d];
            float[] scratch = new float[CausalAttention.ScratchLength(len, d)];
            double f32 = Measure(len, heads, () =>
            {
                var view = new ContiguousKvView<float>(k32, v32, len, kvHeads, d);
                for (int h = 0; h < heads; h++)
                    CausalAttention.ForwardRow<float, ContiguousKvView<float>>(q.AsSpan(h * d, d), len - 1, h, view, p, o.AsSpan(h * d, d), scratch);
            });
            double f16 = Measure(len, heads, () =>
            {
                var view = new ContiguousKvView<Half>(k16, v16, len, kvHeads, d);
                for (int h = 0; h < heads; h++)
                    CausalAttention.ForwardRow<Half, ContiguousKvView<Half>>(q.AsSpan(h * d, d), len - 1, h, view, p, o.AsSpan(h * d, d), scratch);
            });
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"len {len,5}: F32 {f32,8:F0} ns/call {f32 / len,6:F1} ns/pos {2.0 * len * d * 4 / f32,6:F1} GB/s | " +
                $"F16 {f16,8:F0} ns/call {f16 / len,6:F1} ns/pos {2.0 * len * d * 2 / f16,6:F1} GB/s"));
        }
    }

    /// <summary>Nanoseconds per call (one head) over <paramref name="heads"/> heads per batch.</summary>
    private static double Measure(int len, int heads, Action allHeads)
    {
        int reps = Math.Max(1, 20_000 / len);
        allHeads();
        double best = double.MaxValue;
        for (int b = 0; b < 15; b++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int r = 0; r < reps; r++) allHeads();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalNanoseconds / (reps * heads));
        }
        return best;
    }
}
