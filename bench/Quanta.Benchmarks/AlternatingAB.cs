using System.Globalization;

namespace Quanta.Benchmarks;

/// <summary>
/// The few-token benchmarks' shared pieces (<see cref="QuickSmallM"/>, <see cref="QuickKSmallM"/>): the token counts
/// (1..8, 12, 16 or the list in SMALLM_M, e.g. 9,10,11) and the same-process A/B: a warm-up, then every round times
/// A and B back to back, alternating which goes first, and returns the medians and the median and quartiles of the
/// per-round ratio B / A.
/// </summary>
internal static class AlternatingAB
{
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
}
