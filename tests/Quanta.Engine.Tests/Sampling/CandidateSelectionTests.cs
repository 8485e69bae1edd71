using Quanta.Engine.Sampling;

namespace Quanta.Engine.Tests.Sampling;

/// <summary>Quickselect-based selections against a full sort.</summary>
public sealed class CandidateSelectionTests
{
    private static Candidate[] RandomCandidates(Random rng, int n, int distinctKeys)
    {
        var c = new Candidate[n];
        for (int i = 0; i < n; i++)
        {
            float key = rng.Next(distinctKeys) * 0.25f - 3f; // few distinct keys: many ties
            c[i] = new Candidate(i, key) { Weight = (float)rng.NextDouble() };
        }
        // Shuffle so ids are not in order.
        for (int i = n - 1; i > 0; i--) { int j = rng.Next(i + 1); (c[i], c[j]) = (c[j], c[i]); }
        return c;
    }

    private static int[] SortedIds(Candidate[] c) => c.OrderByDescending(x => x.Key).ThenBy(x => x.Id).Select(x => x.Id).ToArray();

    [Theory]
    [InlineData(1, 3)]
    [InlineData(17, 5)]
    [InlineData(1000, 7)]
    [InlineData(1000, 1000000)]
    [InlineData(20000, 40)]
    public void SelectTopK_KeepsTheKBest(int n, int distinctKeys)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        for (int trial = 0; trial < 20; trial++)
        {
            var c = RandomCandidates(rng, n, distinctKeys);
            var sorted = SortedIds(c);
            int k = rng.Next(n + 2);
            int kept = CandidateSelection.SelectTopK(c, k);
            Assert.Equal(Math.Min(k, n), kept);
            var got = c.Take(kept).Select(x => x.Id).Order().ToArray();
            var want = sorted.Take(kept).Order().ToArray();
            Assert.True(got.SequenceEqual(want), $"seed {seed} n {n} k {k}");
        }
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(17, 5)]
    [InlineData(1000, 7)]
    [InlineData(1000, 1000000)]
    [InlineData(20000, 40)]
    public void SelectByMass_KeepsSmallestPrefixReachingTheMass(int n, int distinctKeys)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        for (int trial = 0; trial < 20; trial++)
        {
            var c = RandomCandidates(rng, n, distinctKeys);
            var byId = c.ToDictionary(x => x.Id, x => (double)x.Weight);
            var sorted = SortedIds(c);
            double total = byId.Values.Sum();
            double fraction = rng.NextDouble();
            double need = fraction * total;
            // Expected: walk the sorted order until the running sum reaches need.
            int expectedCount = n;
            double acc = 0;
            for (int i = 0; i < n; i++)
            {
                acc += byId[sorted[i]];
                if (acc >= need) { expectedCount = i + 1; break; }
            }
            int kept = CandidateSelection.SelectByMass(c, need);
            // Summation order differs, so allow a one-token difference only when the boundary is within rounding.
            double massBefore = sorted.Take(expectedCount - 1).Sum(id => byId[id]);
            bool nearBoundary = Math.Abs(massBefore - need) < 1e-9 * total || Math.Abs(acc - need) < 1e-9 * total;
            if (!nearBoundary) Assert.True(kept == expectedCount, $"seed {seed} n {n} fraction {fraction}: kept {kept}, expected {expectedCount}");
            var got = c.Take(kept).Select(x => x.Id).Order().ToArray();
            var want = sorted.Take(kept).Order().ToArray();
            Assert.True(got.SequenceEqual(want), $"seed {seed} n {n}: kept set is not the best-first prefix");
        }
    }

    [Fact]
    public void SelectByMass_ZeroMassKeepsTheBestToken()
    {
        var c = new[] { new Candidate(5, 1f) { Weight = 0.2f }, new Candidate(2, 3f) { Weight = 0.7f }, new Candidate(9, 2f) { Weight = 0.1f } };
        Assert.Equal(1, CandidateSelection.SelectByMass(c, 0));
        Assert.Equal(2, c[0].Id);
    }
}
