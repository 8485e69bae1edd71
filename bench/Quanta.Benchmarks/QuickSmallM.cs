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
        bool dram = args.Length > 0 && args[0] == "dram";
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
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
            var rng = new Random(7);
            var row = new float[cols];
            byte[] q = new byte[rb];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++) row[c] = (float)(rng.NextDouble() * 2 - 1);
                codec.Quantize(row, q);
                for (int k = 0; k < count; k++) q.CopyTo(new Span<byte>(w + k * matBytes + r * rb, (int)rb));
            }
            for (int t = 0; t < mMax; t++)
            {
                for (int c = 0; c < cols; c++) row[c] = (float)(rng.NextDouble() * 2 - 1);
                kernel.QuantizeActivation(row, new Span<byte>(acts + t * ab, ab));
                Q8Gemm.Pack(kernel, acts + t * ab, nb, panels + t * pb);
            }
            int next = 0;
            double Time(int m, int direct)
            {
                Q8Gemm.DirectTokens = direct;
                double t0 = GemmRate.ThreadSeconds();
                int mats = 0;
                // hot: about 4e8 operations per timing (a few ms)
                int reps = dram ? 1 : (int)Math.Max(1, 400_000_000L / (2L * rows * cols * m));
                for (int it = 0; it < reps; it++)
                    for (int k = 0; k < perTiming; k++, mats++)
                    {
                        byte* wm = w + (dram ? next++ % count : 0) * matBytes;
                        Q8Gemm.Rows(kernel, wm, rb, 0, rows, acts, ab, panels, pb, m, nb, y, rows);
                    }
                return 2.0 * rows * cols * m * mats / (GemmRate.ThreadSeconds() - t0) / 1e9;
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
