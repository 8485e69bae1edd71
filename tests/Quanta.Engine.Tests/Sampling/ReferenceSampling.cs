using Quanta.Engine.Sampling;

namespace Quanta.Engine.Tests.Sampling;

/// <summary>
/// First-principles expected distribution for the tests: double precision, full sorts, written from the definitions
/// (temperature → top-k → typical → top-p → min-p → renormalize), independent of the sampler's partial selections.
/// </summary>
internal static class ReferenceSampling
{
    /// <summary>Probability of each token after truncation (0 for excluded tokens).</summary>
    public static double[] Distribution(float[] logits, SamplingParameters p)
    {
        int n = logits.Length;
        double t = p.Temperature;
        // Candidates in best-first order: logit descending, id ascending.
        var order = Enumerable.Range(0, n).Where(i => !float.IsNegativeInfinity(logits[i]))
            .OrderByDescending(i => logits[i]).ThenBy(i => i).ToList();
        if (p.TopK > 0) order = order.Take(p.TopK).ToList();

        if (p.TypicalP < 1)
        {
            var prob = Normalize(logits, order, t);
            double h = -order.Sum(i => prob[i] > 0 ? prob[i] * Math.Log(prob[i]) : 0);
            var byTypicality = order.OrderBy(i => Math.Abs(-Math.Log(prob[i]) - h)).ThenBy(i => i).ToList();
            order = TakeMass(byTypicality, prob, p.TypicalP).OrderByDescending(i => logits[i]).ThenBy(i => i).ToList();
        }
        if (p.TopP < 1)
        {
            var prob = Normalize(logits, order, t);
            order = TakeMass(order, prob, p.TopP);
        }
        if (p.MinP > 0)
        {
            var prob = Normalize(logits, order, t);
            double pmax = order.Max(i => prob[i]);
            order = order.Where(i => prob[i] >= p.MinP * pmax).ToList();
        }
        return Normalize(logits, order, t);
    }

    private static List<int> TakeMass(List<int> order, double[] prob, double mass)
    {
        var kept = new List<int>();
        double acc = 0;
        foreach (int i in order)
        {
            kept.Add(i);
            acc += prob[i];
            if (acc >= mass) break;
        }
        return kept;
    }

    private static double[] Normalize(float[] logits, List<int> kept, double t)
    {
        var prob = new double[logits.Length];
        double max = kept.Max(i => (double)logits[i]);
        double z = kept.Sum(i => Math.Exp((logits[i] - max) / t));
        foreach (int i in kept) prob[i] = Math.Exp((logits[i] - max) / t) / z;
        return prob;
    }

    /// <summary>log-softmax in double.</summary>
    public static double[] LogSoftmax(float[] x)
    {
        double max = x.Max();
        double lse = max + Math.Log(x.Sum(v => Math.Exp(v - max)));
        return x.Select(v => v - lse).ToArray();
    }

    /// <summary>
    /// Upper critical value of χ² with <paramref name="df"/> degrees of freedom at tail probability ~1e-5
    /// (Wilson–Hilferty approximation, z = 4.265).
    /// </summary>
    public static double ChiSquareCritical(int df)
    {
        double a = 2.0 / (9.0 * df);
        return df * Math.Pow(1 - a + 4.265 * Math.Sqrt(a), 3);
    }

    /// <summary>
    /// Asserts that <paramref name="counts"/> over <paramref name="draws"/> fit <paramref name="expected"/>: tokens with
    /// probability 0 never appear, and Pearson's χ² over the rest (bins expecting &lt; 5 pooled) stays under the 1e-5 critical value.
    /// </summary>
    public static void AssertFits(int[] counts, double[] expected, int draws, string context)
    {
        double chi2 = 0;
        int bins = 0;
        double pooledExpected = 0, pooledCount = 0; // bins expecting < 5 draws are pooled into one
        for (int i = 0; i < counts.Length; i++)
        {
            if (expected[i] == 0)
            {
                Assert.True(counts[i] == 0, $"{context}: token {i} has probability 0 but was drawn {counts[i]} times");
                continue;
            }
            double e = expected[i] * draws;
            if (e < 5) { pooledExpected += e; pooledCount += counts[i]; continue; }
            chi2 += (counts[i] - e) * (counts[i] - e) / e;
            bins++;
        }
        if (pooledExpected > 0)
        {
            chi2 += (pooledCount - pooledExpected) * (pooledCount - pooledExpected) / Math.Max(pooledExpected, 1);
            bins++;
        }
        if (bins <= 1) return;
        double crit = ChiSquareCritical(bins - 1);
        Assert.True(chi2 < crit, $"{context}: chi-square {chi2:F1} over {bins} bins exceeds {crit:F1}");
    }
}
