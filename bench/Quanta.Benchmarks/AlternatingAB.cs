using System.Globalization;
using Quanta.Core.Formats;
using Quanta.Core.Kernels;

namespace Quanta.Benchmarks;

/// <summary>
/// The few-token benchmarks' shared pieces (<see cref="QuickSmallM"/>, <see cref="QuickKSmallM"/>): the token counts
/// (1..8, 12, 16 or the list in SMALLM_M, e.g. 9,10,11) and the same-process A/B: a warm-up, then every round times
/// A and B back to back, alternating which goes first, and returns the medians and the median and quartiles of the
/// per-round ratio B / A.
/// </summary>
internal static unsafe class AlternatingAB
{
    /// <summary><paramref name="count"/> copies of one matrix of random rows in [-1, 1) quantized by
    /// <paramref name="codec"/> (row stride <paramref name="rb"/>) at w, w + rows·rb, ..., then <paramref name="m"/>
    /// random activation rows quantized by <paramref name="kernel"/> at acts + t·ab (seed 7).</summary>
    public static void Fill(IRowCodec codec, IVecDotKernel kernel, int rows, int cols, long rb, int count, byte* w, int m, int ab, byte* acts)
    {
        var rng = new Random(7);
        var row = new float[cols];
        byte[] q = new byte[rb];
        long matBytes = rb * rows;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++) row[c] = (float)(rng.NextDouble() * 2 - 1);
            codec.Quantize(row, q);
            for (int k = 0; k < count; k++) q.CopyTo(new Span<byte>(w + k * matBytes + r * rb, (int)rb));
        }
        for (int t = 0; t < m; t++)
        {
            for (int c = 0; c < cols; c++) row[c] = (float)(rng.NextDouble() * 2 - 1);
            kernel.QuantizeActivation(row, new Span<byte>(acts + t * ab, ab));
        }
    }

    /// <summary>`[hot|dram] [rounds]`: whether the weights come from DRAM, and the rounds (default <paramref name="rounds"/>).</summary>
    public static (bool Dram, int Rounds) Mode(string[] args, int rounds) =>
        (args.Length > 0 && args[0] == "dram", args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : rounds);

    public static int[] TokenCounts() => Environment.GetEnvironmentVariable("SMALLM_M") is { } list
        ? [.. list.Split(',').Select(a => int.Parse(a, CultureInfo.InvariantCulture))]
        : [1, 2, 3, 4, 5, 6, 7, 8, 12, 16];

    public static (double A, double B, double Ratio, double Q1, double Q3) Run(int rounds, Func<double> a, Func<double> b)
    {
        for (int i = 0; i < 3; i++) { a(); b(); }   // warm-up (JIT tiers, pages)
        var ra = new double[rounds];
        var rb = new double[rounds];
        var ratio = new double[rounds];
        for (int i = 0; i < rounds; i++)
        {
            if ((i & 1) == 0) { ra[i] = a(); rb[i] = b(); }
            else { rb[i] = b(); ra[i] = a(); }
            ratio[i] = rb[i] / ra[i];
        }
        Array.Sort(ra); Array.Sort(rb); Array.Sort(ratio);
        return (ra[rounds / 2], rb[rounds / 2], ratio[rounds / 2], ratio[rounds / 4], ratio[3 * rounds / 4]);
    }

    /// <summary>The weight matrices a timing reads: hot, the first again and again; dram, each timing the next
    /// <c>perTiming</c> of the <c>count</c> copies (about 48 MB, more than the L3).</summary>
    public sealed class Pool(byte* w, long matBytes, int count, int perTiming, bool dram)
    {
        private int _next;

        /// <summary>GOP/s over this thread's CPU time of <paramref name="run"/> (given a matrix's address) doing
        /// <paramref name="ops"/> operations per matrix; hot, repeated to about 4e8 operations (a few ms).</summary>
        public double Rate(long ops, Action<nint> run)
        {
            double t0 = GemmRate.ThreadSeconds();
            int mats = 0;
            int reps = dram ? 1 : (int)Math.Max(1, 400_000_000L / ops);
            for (int it = 0; it < reps; it++)
                for (int k = 0; k < perTiming; k++, mats++)
                    run((nint)(w + (dram ? _next++ % count : 0) * matBytes));
            return (double)ops * mats / (GemmRate.ThreadSeconds() - t0) / 1e9;
        }
    }
}
