using Quanta.Engine.Sampling;

namespace Quanta.Engine.Tests.Sampling;

/// <summary>Vectorized sampling helpers against their scalar references, fresh random data per run.</summary>
[Trait("Category", "Kernels")]
public sealed class SamplingKernelTests
{
    private static readonly int[] LargeSizes = [1000, 4099, 32000, 128_256];

    private static IEnumerable<int> Sizes() => Enumerable.Range(1, 300).Concat(LargeSizes);

    /// <summary>Logits ~ N(0, 3²) with some −∞ (banned) entries and repeated values (ties).</summary>
    private static float[] RandomLogits(Random rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            x[i] = (float)(3 * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            int r = rng.Next(20);
            if (r == 0) x[i] = float.NegativeInfinity;
            else if (r == 1 && i > 0) x[i] = x[rng.Next(i)];
        }
        return x;
    }

    private static float Max(float[] x) => x.Length == 0 ? 0 : x.Max();

    [Fact]
    public void ChunkedExp_MatchesReference()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        foreach (int n in Sizes())
        {
            var x = RandomLogits(rng, n);
            float max = MathF.Max(Max(x), -50f);
            float scale = (float)(0.3 + rng.NextDouble() * 2);
            var w = new float[n];
            var wr = new float[n];
            var s = new double[ChunkedExp.ChunkCount(n)];
            var sr = new double[s.Length];
            ChunkedExp.Compute(x, max, scale, w, s);
            ChunkedExp.ComputeReference(x, max, scale, wr, sr);
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(w[i] - wr[i]) <= 1e-6 * wr[i] + 1e-37, $"seed {seed} n {n} i {i}: {w[i]} vs {wr[i]}");
            for (int c = 0; c < s.Length; c++)
            {
                double direct = 0;
                for (int i = c * ChunkedExp.ChunkSize; i < Math.Min(n, (c + 1) * ChunkedExp.ChunkSize); i++)
                    direct += Math.Exp(((double)x[i] - max) * scale);
                Assert.True(Math.Abs(s[c] - direct) <= 1e-5 * direct + 1e-30, $"seed {seed} n {n} chunk {c}: {s[c]} vs exact {direct}");
                Assert.True(Math.Abs(sr[c] - direct) <= 1e-5 * direct + 1e-30, $"seed {seed} n {n} chunk {c}: reference {sr[c]} vs exact {direct}");
            }
        }
    }

    [Fact]
    public void CompactAbove_MatchesReference()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        foreach (int n in Sizes())
        {
            var x = RandomLogits(rng, n);
            float t = rng.Next(4) == 0 ? -float.MaxValue : (float)(rng.NextDouble() * 8 - 2);
            var a = new Candidate[n];
            var b = new Candidate[n];
            int ma = CompactAbove.Run(x, t, a);
            int mb = CompactAbove.RunReference(x, t, b);
            int expected = x.Count(v => v >= t);
            Assert.True(ma == expected && mb == expected, $"seed {seed} n {n}: counts {ma}, {mb}, expected {expected}");
            for (int i = 0; i < ma; i++)
            {
                Assert.True(a[i].Id == b[i].Id && a[i].Logit == b[i].Logit && a[i].Key == a[i].Logit, $"seed {seed} n {n} i {i}");
                Assert.True(x[a[i].Id] >= t && (i == 0 || a[i].Id > a[i - 1].Id), $"seed {seed} n {n} i {i}");
            }
        }
    }

    [Fact]
    public void ThresholdMass_MatchesExactSums()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var gaps = ThresholdMass.Gaps.ToArray();
        foreach (int n in Sizes())
        {
            var x = RandomLogits(rng, n);
            float max = Max(x);
            if (float.IsNegativeInfinity(max)) continue;
            float scale = (float)(0.3 + rng.NextDouble() * 2);
            var mass = new double[ThresholdMass.Levels];
            var massRef = new double[ThresholdMass.Levels];
            if (rng.Next(2) == 0) for (int j = 0; j < gaps.Length; j++) gaps[j] = (float)(rng.NextDouble() * 10);
            else gaps = ThresholdMass.Gaps.ToArray();
            double z = ThresholdMass.Compute(x, max, scale, gaps, mass);
            double zRef = ThresholdMass.ComputeReference(x, max, scale, gaps, massRef);
            double zExact = 0;
            var exact = new double[ThresholdMass.Levels];
            for (int i = 0; i < n; i++)
            {
                double zi = ((double)x[i] - max) * scale;
                double e = Math.Exp(zi);
                zExact += e;
                for (int j = 0; j < gaps.Length; j++) if ((float)((x[i] - max) * scale) >= -gaps[j]) exact[j] += e;
            }
            Assert.True(Math.Abs(z - zExact) <= 1e-5 * zExact, $"seed {seed} n {n}: Z {z} vs {zExact}");
            Assert.True(Math.Abs(zRef - zExact) <= 1e-5 * zExact, $"seed {seed} n {n}: reference Z {zRef} vs {zExact}");
            for (int j = 0; j < gaps.Length; j++)
            {
                Assert.True(Math.Abs(mass[j] - exact[j]) <= 1e-5 * zExact, $"seed {seed} n {n} level {j}: {mass[j]} vs {exact[j]}");
                Assert.True(Math.Abs(massRef[j] - exact[j]) <= 1e-5 * zExact, $"seed {seed} n {n} level {j}: reference {massRef[j]} vs {exact[j]}");
            }
        }
    }

    [Fact]
    public void TopNHeap_MatchesReferenceAndFullSort()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        foreach (int n in Sizes())
        {
            var x = RandomLogits(rng, n);
            int k = 1 + rng.Next(Math.Min(n, 64));
            var a = new Candidate[k];
            var b = new Candidate[k];
            int ca = TopNHeap.Select(x, k, a);
            int cb = TopNHeap.SelectReference(x, k, b);
            Assert.Equal(Math.Min(k, n), ca);
            Assert.Equal(ca, cb);
            TopNHeap.SortDescending(a.AsSpan(0, ca));
            TopNHeap.SortDescending(b.AsSpan(0, cb));
            // Expected from a full sort: value descending, index ascending.
            var expected = Enumerable.Range(0, n).OrderByDescending(i => x[i]).ThenBy(i => i).Take(k).ToArray();
            for (int i = 0; i < ca; i++)
            {
                Assert.True(a[i].Id == expected[i], $"seed {seed} n {n} k {k} rank {i}: {a[i].Id} vs {expected[i]}");
                Assert.True(b[i].Id == expected[i], $"seed {seed} n {n} k {k} rank {i}: reference {b[i].Id} vs {expected[i]}");
            }
        }
    }
}
