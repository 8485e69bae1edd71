using System.Globalization;
using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Gemm;

namespace Quanta.Benchmarks;

/// <summary>
/// Same-process A/B of the Q4_0/Q8_0 512-bit GEMM at few tokens, 1 thread (per-thread GOP/s over the thread's CPU time):
/// `dotnet run -c Release --project bench/Quanta.Benchmarks -- smallm [hot|dram] [rounds] [cols ...]`. For each format,
/// row length and m in 1..8, 12, 16 (or the list in SMALLM_M, e.g. 9,10,11), every round times the tile path (<c>Q8Gemm.DirectTokens = 1</c>) and the direct
/// path (<c>DirectTokens = DirectTokensMax</c>) back to back, alternating which goes first, and prints the medians
/// and the median and quartiles of the per-round ratio. hot: one matrix (about 1-4 MB) again and again; dram: each
/// timing reads the next matrices of a 320 MB pool (more than the L3), so the weights come from memory.
/// </summary>
public static unsafe class QuickSmallM
{
    public static void Run(string[] args)
    {
        var (dram, rounds) = AlternatingAB.Mode(args, 15);
        int[] colsList = args.Length > 2 ? [.. args[2..].Select(a => int.Parse(a, CultureInfo.InvariantCulture))] : [768, 2048, 3072, 8192];
        int[] ms = AlternatingAB.TokenCounts();
        Console.WriteLine($"{(dram ? "dram" : "hot")}, {rounds} rounds, 1 thread: GOP/s (2·rows·cols·m / thread CPU s), medians; ratio = direct / tiles speed (q1..q3)");
        foreach (var format in new[] { WeightFormat.Q4_0, WeightFormat.Q8_0 })
            foreach (int cols in colsList)
                Measure(format, cols, dram, rounds, ms);
        Q8Gemm.DirectTokens = Q8Gemm.DirectTokensDefault;
    }

    private static void Measure(WeightFormat format, int cols, bool dram, int rounds, int[] ms)
    {
        var kernel = KernelRegistry.VecDot(format);
        var codec = CodecRegistry.For(format);
        int rows = cols <= 1024 ? 3072 : 2048, nb = cols / 32, mMax = ms.Max();
        long rb = kernel.WeightRowBytes(cols), matBytes = rb * rows;
        int count = dram ? (int)Math.Max(2, 320L * 1024 * 1024 / matBytes) : 1;
        int perTiming = dram ? (int)Math.Max(1, 48L * 1024 * 1024 / matBytes) : 1;   // 48 MB read per timing (> L3)
        int ab = kernel.ActivationRowBytes(cols), pb = Q8Gemm.PanelBytes(cols);
        byte* w = (byte*)NativeMemory.AlignedAlloc((nuint)(matBytes * count), 64);
        byte* acts = (byte*)NativeMemory.AlignedAlloc((nuint)(ab * mMax), 64);
        byte* panels = (byte*)NativeMemory.AlignedAlloc((nuint)(pb * mMax), 64);
        float* y = (float*)NativeMemory.AlignedAlloc((nuint)rows * (nuint)mMax * sizeof(float), 64);
        try
        {
            AlternatingAB.Fill(codec, kernel, rows, cols, rb, count, w, mMax, ab, acts);
            for (int t = 0; t < mMax; t++) Q8Gemm.Pack(kernel, acts + t * ab, nb, panels + t * pb);
            var pool = new AlternatingAB.Pool(w, matBytes, count, perTiming, dram);
            double Time(int m, int direct)
            {
                Q8Gemm.DirectTokens = direct;
                return pool.Rate(2L * rows * cols * m, wm => Q8Gemm.Rows(kernel, (byte*)wm, rb, 0, rows, acts, ab, panels, pb, m, nb, y, rows));
            }
            foreach (int m in ms)
            {
                var (tiles, direct, ratio, q1, q3) = AlternatingAB.Run(rounds, () => Time(m, 1), () => Time(m, Q8Gemm.DirectTokensMax));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{format,-5} {rows,5}x{cols,-5} m={m,-3} tiles {tiles,7:F1}  direct {direct,7:F1}  ratio {ratio,5:F2} ({q1:F2}..{q3:F2})"));
            }
        }
        finally
        {
            NativeMemory.AlignedFree(w);
            NativeMemory.AlignedFree(acts);
            NativeMemory.AlignedFree(panels);
            NativeMemory.AlignedFree(y);
        }
    }
}
