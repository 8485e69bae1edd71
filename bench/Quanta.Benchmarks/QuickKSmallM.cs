using System.Globalization;
using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Gemm;
using Quanta.Core.Kernels.Quantized;

namespace Quanta.Benchmarks;

/// <summary>
/// Same-process A/B of the Q4_K/Q6_K 512-bit GEMM at few tokens, 1 thread (per-thread GOP/s over the thread's CPU time):
/// `dotnet run -c Release --project bench/Quanta.Benchmarks -- ksmall [hot|dram] [rounds] [format:cols ...]` (default
/// q6_k:2048 q4_k:2048 q4_k:8192). For each shape and m in 1..8, 12, 16 (or SMALLM_M), every round times the old path
/// (<c>KQuantGemvMulti.Tokens = 0</c>: tiles) and the few-token path (<c>Tokens = TokensMax</c>) back to back, alternating
/// which goes first; m = 1 is the one-token row kernel (<c>DotRows</c>, what MatMul runs) in both columns. Prints the
/// medians, the median and quartiles of the per-round ratio, and cost(m) / cost(1) of the new path. hot: one matrix
/// (2-9 MB) again and again; dram: each timing reads the next 48 MB of a 320 MB pool.
/// </summary>
public static unsafe class QuickKSmallM
{
    public static void Run(string[] args)
    {
        var (dram, rounds) = AlternatingAB.Mode(args, 9);
        string[] shapes = args.Length > 2 ? args[2..] : ["q6_k:2048", "q4_k:2048", "q4_k:8192"];
        int[] ms = AlternatingAB.TokenCounts();
        if (Environment.GetEnvironmentVariable("KSMALL_PF") is { } pf) KQuantGemvMulti.PrefetchAhead = int.Parse(pf, CultureInfo.InvariantCulture);
        if (Environment.GetEnvironmentVariable("KSMALL_ROWS") == "1") KQuantGemvMulti.FourRows = false;
        Console.WriteLine($"prefetch {KQuantGemvMulti.PrefetchAhead} bytes ahead, {(KQuantGemvMulti.FourRows ? 4 : 1)}-row steps");
        Console.WriteLine($"{(dram ? "dram" : "hot")}, {rounds} rounds, 1 thread: GOP/s (2·rows·cols·m / thread CPU s), medians; ratio = new / old speed (q1..q3); cost = new m-token call / 1-token call");
        foreach (string shape in shapes)
        {
            var parts = shape.Split(':');
            var format = parts[0].ToLowerInvariant() == "q6_k" ? WeightFormat.Q6_K : WeightFormat.Q4_K;
            Measure(format, int.Parse(parts[1], CultureInfo.InvariantCulture), dram, rounds, ms);
        }
        KQuantGemvMulti.Tokens = KQuantGemvMulti.TokensDefault;
        KQuantGemvMulti.PrefetchAhead = KQuantGemvMulti.PrefetchAheadDefault;
        KQuantGemvMulti.FourRows = true;
    }

    private static void Measure(WeightFormat format, int cols, bool dram, int rounds, int[] ms)
    {
        var kernel = (KQuantVecDotKernel)KernelRegistry.VecDot(format);
        var codec = CodecRegistry.For(format);
        int rows = 2048, nb = cols / 256, mMax = ms.Max();
        long rb = kernel.WeightRowBytes(cols), matBytes = rb * rows;
        int count = dram ? (int)Math.Max(2, 320L * 1024 * 1024 / matBytes) : 1;
        int perTiming = dram ? (int)Math.Max(1, 48L * 1024 * 1024 / matBytes) : 1;
        int ab = kernel.ActivationRowBytes(cols);
        byte* w = (byte*)NativeMemory.AlignedAlloc((nuint)(matBytes * count), 64);
        byte* acts = (byte*)NativeMemory.AlignedAlloc((nuint)(ab * mMax), 64);
        float* y = (float*)NativeMemory.AlignedAlloc((nuint)rows * (nuint)mMax * sizeof(float), 64);
        try
        {
            AlternatingAB.Fill(codec, kernel, rows, cols, rb, count, w, mMax, ab, acts);
            var pool = new AlternatingAB.Pool(w, matBytes, count, perTiming, dram);
            double Time(int m, int tokens)
            {
                KQuantGemvMulti.Tokens = tokens;
                return pool.Rate(2L * rows * cols * m, wm =>
                {
                    if (m == 1) kernel.DotRows((byte*)wm, rb, 0, rows, acts, cols, y);
                    else KQuantGemm.Rows(kernel, (byte*)wm, rb, 0, rows, acts, ab, m, nb, y, rows);
                });
            }
            double one = 0;
            foreach (int m in ms)
            {
                var (old, mn, ratio, q1, q3) = AlternatingAB.Run(rounds, () => Time(m, 0), () => Time(m, KQuantGemvMulti.TokensMax));
                if (m == 1) one = mn;
                string cost = one > 0 ? (m * one / mn).ToString("F2", CultureInfo.InvariantCulture) : "-";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{format,-5} {rows,5}x{cols,-5} m={m,-3} old {old,7:F1}  new {mn,7:F1}  ratio {ratio,5:F2} ({q1:F2}..{q3:F2})  cost {cost}"));
            }
        }
        finally
        {
            NativeMemory.AlignedFree(w);
            NativeMemory.AlignedFree(acts);
            NativeMemory.AlignedFree(y);
        }
    }
}
