using Quanta.Engine.Sampling;

namespace Quanta.Engine.Tests.Sampling;

public sealed class SamplerTests
{
    private static float[] RandomLogits(Random rng, int n, double std = 3)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            x[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return x;
    }

    private static float[] LogitsOf(params double[] probabilities) => probabilities.Select(p => (float)Math.Log(p)).ToArray();

    private static int[] Histogram(float[] logits, SamplingParameters p, int draws)
    {
        var sampler = new Sampler(logits.Length, p);
        var counts = new int[logits.Length];
        for (int i = 0; i < draws; i++) counts[sampler.Sample(logits, out _)]++;
        return counts;
    }

    private static int ArgmaxLowestId(float[] x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    // ---- greedy ----

    [Fact]
    public void Greedy_PicksArgmax_TiesGoToLowestId()
    {
        var logits = new float[] { 0.5f, 1f, -2f, 3f, 0f, 2.9f, 1f, 3f };
        var sampler = new Sampler(logits.Length, new SamplingParameters { Temperature = 0 });
        Assert.Equal(3, sampler.Sample(logits, out _));
        Assert.Equal(3, sampler.Sample(logits, out _));
    }

    [Fact]
    public void Greedy_OnRandomVocabularies_EqualsArgmax()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        foreach (int n in new[] { 1, 7, 300, 32000 })
        {
            var sampler = new Sampler(n, new SamplingParameters { Temperature = 0 });
            for (int trial = 0; trial < 10; trial++)
            {
                var x = RandomLogits(rng, n);
                Assert.True(sampler.Sample(x, out _) == ArgmaxLowestId(x), $"seed {seed} n {n} trial {trial}");
            }
        }
    }

    [Fact]
    public void PlainGreedy_EqualsGreedyThroughTheWorkingCopy()
    {
        // plain greedy takes the argmax of the input; with logprobs on it goes through the biased/penalized copy
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var plain = new Sampler(32000, new SamplingParameters { Temperature = 0 });
        var copied = new Sampler(32000, new SamplingParameters { Temperature = 0, Logprobs = true });
        for (int trial = 0; trial < 20; trial++)
        {
            var x = RandomLogits(rng, 32000);
            if (trial % 2 == 1) x[rng.Next(32000)] = x[ArgmaxLowestId(x)];   // a tie
            Assert.True(plain.Sample(x, out var none) == copied.Sample(x, out _), $"seed {seed} trial {trial}");
            Assert.Null(none);
        }
        var banned = Enumerable.Repeat(float.NegativeInfinity, 5).ToArray();
        Assert.Throws<InvalidOperationException>(() => new Sampler(5, new SamplingParameters { Temperature = 0 }).Sample(banned, out _));
    }

    [Fact]
    public void PlainGreedy_AllocatesNoVocabularyBuffers_AndStillChecksPromptTokens()
    {
        var p = new SamplingParameters { Temperature = 0 };
        _ = new Sampler(32000, p);   // JIT and statics outside the measurement
        long before = GC.GetAllocatedBytesForCurrentThread();
        var plain = new Sampler(32000, p);
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(bytes < 4096, $"a plain greedy sampler allocated {bytes} bytes");
        // a sampler that uses them still gets them (logprobs: the working copy and the normalizer)
        before = GC.GetAllocatedBytesForCurrentThread();
        _ = new Sampler(32000, new SamplingParameters { Temperature = 0, Logprobs = true });
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before > 32000 * 4);
        // the history it no longer keeps changes nothing: prompt, tokens, reset, the same argmax
        plain.AcceptPrompt([1, 2, 31999]);
        Assert.Throws<ArgumentOutOfRangeException>(() => plain.AcceptPrompt([32000]));
        var x = new float[32000];
        x[7] = 1f;
        Assert.Equal(7, plain.Sample(x, out _));
        plain.Reset();
        Assert.Equal(7, plain.Sample(x, out _));
    }

    public static TheoryData<string> TruncationConfigs() => ["none", "topk40", "topp0.9", "minp0.05", "typical0.9", "all"];

    private static SamplingParameters Config(string name, float temperature, ulong seed) => name switch
    {
        "none" => new SamplingParameters { Temperature = temperature, Seed = seed },
        "topk40" => new SamplingParameters { Temperature = temperature, Seed = seed, TopK = 40 },
        "topp0.9" => new SamplingParameters { Temperature = temperature, Seed = seed, TopP = 0.9f },
        "minp0.05" => new SamplingParameters { Temperature = temperature, Seed = seed, MinP = 0.05f },
        "typical0.9" => new SamplingParameters { Temperature = temperature, Seed = seed, TypicalP = 0.9f },
        _ => new SamplingParameters { Temperature = temperature, Seed = seed, TopK = 40, TopP = 0.95f, MinP = 0.05f },
    };

    [Theory]
    [MemberData(nameof(TruncationConfigs))]
    public void TemperatureTowardZero_EqualsGreedy(string config)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var sampler = new Sampler(5000, Config(config, 1e-3f, (ulong)seed));
        for (int trial = 0; trial < 50; trial++)
        {
            var x = RandomLogits(rng, 5000);
            int best = ArgmaxLowestId(x);
            x[best] += 0.1f; // a clear winner: the runner-up has weight ≤ e^-100
            Assert.True(sampler.Sample(x, out _) == best, $"seed {seed} config {config} trial {trial}");
        }
    }

    [Fact]
    public void TopK1_EqualsGreedy_IncludingTies()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var sampler = new Sampler(3000, new SamplingParameters { TopK = 1, Temperature = 1.5f, Seed = (ulong)seed });
        for (int trial = 0; trial < 100; trial++)
        {
            var x = RandomLogits(rng, 3000);
            if (trial % 2 == 0)
            {
                int best = ArgmaxLowestId(x);
                int other = rng.Next(3000);
                x[other] = x[best]; // tie: the lower id must win, as in greedy
            }
            Assert.True(sampler.Sample(x, out _) == ArgmaxLowestId(x), $"seed {seed} trial {trial}");
        }
    }

    // ---- distributions ----

    public static TheoryData<string> DistributionConfigs() =>
    [
        "small T=0.7", "small topk4", "small topp0.8", "small minp0.1", "small typical0.6", "small combined T=1.3",
        "full300 T=1", "large5000 topp0.5 T=0.8", "large2000 topk300", "large5000 minp0.01 T=2",
    ];

    [Theory]
    [MemberData(nameof(DistributionConfigs))]
    public void EmpiricalFrequencies_MatchTruncatedSoftmax(string config)
    {
        var rng = new Random(20240601); // fixed data and seed: the outcome is deterministic
        const ulong seed = 987654321;
        float[] small = RandomLogits(rng, 10, 1.2);
        (float[] logits, SamplingParameters p) = config switch
        {
            "small T=0.7" => (small, new SamplingParameters { Temperature = 0.7f, Seed = seed }),
            "small topk4" => (small, new SamplingParameters { TopK = 4, Seed = seed }),
            "small topp0.8" => (small, new SamplingParameters { TopP = 0.8f, Seed = seed }),
            "small minp0.1" => (small, new SamplingParameters { MinP = 0.1f, Seed = seed }),
            "small typical0.6" => (small, new SamplingParameters { TypicalP = 0.6f, Seed = seed }),
            "small combined T=1.3" => (small, new SamplingParameters { Temperature = 1.3f, TopK = 6, TopP = 0.9f, MinP = 0.05f, Seed = seed }),
            "full300 T=1" => (RandomLogits(rng, 300, 1), new SamplingParameters { Seed = seed }),
            "large5000 topp0.5 T=0.8" => (RandomLogits(rng, 5000, 2.5), new SamplingParameters { Temperature = 0.8f, TopP = 0.5f, Seed = seed }),
            "large2000 topk300" => (RandomLogits(rng, 2000, 1), new SamplingParameters { TopK = 300, Seed = seed }),
            _ => (RandomLogits(rng, 5000, 1.5), new SamplingParameters { Temperature = 2f, MinP = 0.01f, Seed = seed }),
        };
        const int draws = 20_000;
        var expected = ReferenceSampling.Distribution(logits, p);
        ReferenceSampling.AssertFits(Histogram(logits, p, draws), expected, draws, config);
    }

    [Fact]
    public void TopP_KeepsSmallestSetReachingP_HandExample()
    {
        // p = 0.4, 0.3, 0.2, 0.1. top_p = 0.65 → {0, 1} (0.4 < 0.65 ≤ 0.7); 0.75 → {0, 1, 2}; 0.35 → {0}.
        var logits = LogitsOf(0.3, 0.4, 0.1, 0.2); // ids permuted: token 1 is the most likely
        const int draws = 20_000;
        var c65 = Histogram(logits, new SamplingParameters { TopP = 0.65f, Seed = 1 }, draws);
        ReferenceSampling.AssertFits(c65, [0.3 / 0.7, 0.4 / 0.7, 0, 0], draws, "top_p 0.65");
        var c75 = Histogram(logits, new SamplingParameters { TopP = 0.75f, Seed = 2 }, draws);
        ReferenceSampling.AssertFits(c75, [0.3 / 0.9, 0.4 / 0.9, 0, 0.2 / 0.9], draws, "top_p 0.75");
        var c35 = Histogram(logits, new SamplingParameters { TopP = 0.35f, Seed = 3 }, 1000);
        Assert.Equal(1000, c35[1]);
    }

    [Fact]
    public void MinP_KeepsTokensAboveFractionOfMax_HandExample()
    {
        // p = 0.5, 0.3, 0.15, 0.05; min_p = 0.2 → threshold 0.1: keeps the first three, renormalized by 0.95.
        var logits = LogitsOf(0.05, 0.5, 0.15, 0.3);
        const int draws = 20_000;
        var counts = Histogram(logits, new SamplingParameters { MinP = 0.2f, Seed = 4 }, draws);
        ReferenceSampling.AssertFits(counts, [0, 0.5 / 0.95, 0.15 / 0.95, 0.3 / 0.95], draws, "min_p 0.2");
        // With temperature 2 the probabilities flatten (∝ sqrt p): 0.05 → sqrt(0.1) ≈ 0.316 of the max, kept.
        var hot = Histogram(logits, new SamplingParameters { MinP = 0.2f, Temperature = 2f, Seed = 5 }, draws);
        double[] s = [Math.Sqrt(0.05), Math.Sqrt(0.5), Math.Sqrt(0.15), Math.Sqrt(0.3)];
        double z = s.Sum();
        ReferenceSampling.AssertFits(hot, s.Select(v => v / z).ToArray(), draws, "min_p 0.2, T 2");
    }

    [Fact]
    public void TopK_KeepsKMostLikely_HandExample()
    {
        var logits = LogitsOf(0.1, 0.25, 0.05, 0.35, 0.25); // tie between 1 and 4 at the cut: lower id kept
        const int draws = 20_000;
        var counts = Histogram(logits, new SamplingParameters { TopK = 2, Seed = 6 }, draws);
        ReferenceSampling.AssertFits(counts, [0, 0.25 / 0.6, 0, 0.35 / 0.6, 0], draws, "top_k 2");
    }

    // ---- penalties and bias, observed through the logprobs of the adjusted logits ----

    private static double[] AdjustedLogprobs(Sampler sampler, float[] logits)
    {
        sampler.Sample(logits, out var info);
        Assert.True(info.HasValue);
        var lp = new double[logits.Length];
        foreach (var t in info.Value.TopLogprobs.Span) lp[t.Token] = t.Logprob;
        return lp;
    }

    private static void AssertLogprobs(double[] expectedLogits, double[] actual, string context)
    {
        var expected = ReferenceSampling.LogSoftmax(expectedLogits.Select(v => (float)v).ToArray());
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5 || (double.IsNegativeInfinity(expected[i]) && double.IsNegativeInfinity(actual[i])),
                $"{context}: token {i} logprob {actual[i]}, expected {expected[i]}");
    }

    [Fact]
    public void RepetitionPenalty_DividesPositiveMultipliesNegative_InWindow()
    {
        var logits = new float[] { 2f, -1f, 0.5f, 1f, 0f };
        var p = new SamplingParameters { Temperature = 0, RepetitionPenalty = 2f, RepetitionPenaltyLastN = 3, Logprobs = true, TopLogprobs = 5 };
        var sampler = new Sampler(5, p);
        sampler.AcceptPrompt([0, 1, 0, 4]); // window of 3: {1, 0, 4}; 0 is penalized once although seen twice
        AssertLogprobs([1, -2, 0.5, 1, 0], AdjustedLogprobs(sampler, logits), "prompt window");
        // That call generated token 0 (adjusted 0 and 3 tie at 1.0: lowest id). Window now {0, 4, 0}: 1 left it.
        AssertLogprobs([1, -1, 0.5, 1, 0], AdjustedLogprobs(sampler, logits), "after one generated token");
    }

    [Fact]
    public void FrequencyAndPresencePenalties_FollowOpenAIFormula_OverGeneratedTokens()
    {
        var p = new SamplingParameters { Temperature = 0, FrequencyPenalty = 0.5f, PresencePenalty = 0.25f, Logprobs = true, TopLogprobs = 4 };
        var sampler = new Sampler(4, p);
        sampler.AcceptPrompt([1, 1, 1]); // prompt tokens do not count for presence / frequency
        Assert.Equal(2, sampler.Sample([0f, 0f, 10f, 0f], out _));
        Assert.Equal(2, sampler.Sample([0f, 0f, 10f, 0f], out _));
        Assert.Equal(3, sampler.Sample([0f, 0f, 0f, 10f], out _));
        var logits = new float[] { 1f, 1f, 1f, 1f };
        // token 2: 1 − (2·0.5 + 0.25) = −0.25; token 3: 1 − (0.5 + 0.25) = 0.25.
        AssertLogprobs([1, 1, -0.25, 0.25], AdjustedLogprobs(sampler, logits), "penalized");
    }

    [Fact]
    public void Penalties_Combine_RepetitionFirstThenOpenAI()
    {
        var p = new SamplingParameters { Temperature = 0, RepetitionPenalty = 1.5f, RepetitionPenaltyLastN = -1, FrequencyPenalty = 1f, Logprobs = true, TopLogprobs = 3 };
        var sampler = new Sampler(3, p);
        sampler.AcceptPrompt([0]);
        Assert.Equal(1, sampler.Sample([0f, 5f, 0f], out _));
        // token 0 (prompt): 3/1.5 = 2; token 1 (generated once): 3/1.5 − 1 = 1; token 2 untouched: −3.
        AssertLogprobs([2, 1, -3], AdjustedLogprobs(sampler, [3f, 3f, -3f]), "combined");
    }

    [Fact]
    public void LogitBias_Minus100_BansToken_AndBiasShiftsLogits()
    {
        var logits = new float[] { 1f, 2f, 9f, 0f };
        var bias = new Dictionary<int, float> { [2] = -100f, [3] = 1.5f };
        var greedy = new Sampler(4, new SamplingParameters { Temperature = 0, LogitBias = bias, Logprobs = true, TopLogprobs = 4 });
        Assert.Equal(1, greedy.Sample(logits, out var info));
        var lp = new double[4];
        foreach (var t in info!.Value.TopLogprobs.Span) lp[t.Token] = t.Logprob;
        AssertLogprobs([1, 2, double.NegativeInfinity, 1.5], lp, "bias");
        Assert.Equal(2, info.Value.TopLogprobs.Span[^1].Token); // the banned token ranks last

        var counts = Histogram(logits, new SamplingParameters { Temperature = 1.5f, LogitBias = bias, Seed = 7 }, 5000);
        Assert.Equal(0, counts[2]);
        Assert.True(counts[0] > 0 && counts[1] > 0 && counts[3] > 0);
    }

    [Fact]
    public void AllTokensBanned_Throws()
    {
        var sampler = new Sampler(2, new SamplingParameters { LogitBias = new Dictionary<int, float> { [0] = -100, [1] = -100 } });
        Assert.Throws<InvalidOperationException>(() => sampler.Sample([1f, 2f], out _));
    }

    // ---- seeds ----

    [Theory]
    [MemberData(nameof(TruncationConfigs))]
    public void SameSeed_SameSequence_DifferentSeed_DifferentSequence(string config)
    {
        var rng = new Random(99);
        var steps = Enumerable.Range(0, 200).Select(_ => RandomLogits(rng, 1000, 1)).ToArray();
        int[] Run(ulong seed)
        {
            var s = new Sampler(1000, Config(config, 1f, seed));
            return steps.Select(x => s.Sample(x, out _)).ToArray();
        }
        Assert.Equal(Run(42), Run(42));
        Assert.NotEqual(Run(42), Run(43));
        // Reset restarts the stream.
        var sampler = new Sampler(1000, Config(config, 1f, 42));
        var first = steps.Select(x => sampler.Sample(x, out _)).ToArray();
        sampler.Reset();
        Assert.Equal(first, steps.Select(x => sampler.Sample(x, out _)).ToArray());
    }

    [Fact]
    public void ForChoice_GivesDistinctReproducibleSeeds()
    {
        var p = new SamplingParameters { Seed = 5, N = 3 };
        Assert.Same(p, p.ForChoice(0));
        Assert.Equal(p.ForChoice(1).Seed, p.ForChoice(1).Seed);
        Assert.NotEqual(p.ForChoice(1).Seed, p.ForChoice(2).Seed);
        Assert.NotEqual(p.Seed, p.ForChoice(1).Seed);
    }

    // ---- logprobs ----

    [Fact]
    public void Logprobs_EqualDoubleLogSoftmax_BeforeTemperatureAndTruncation()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        foreach (int n in new[] { 5, 1000, 50_000 })
        {
            var x = RandomLogits(rng, n, 4);
            var sampler = new Sampler(n, new SamplingParameters { Temperature = 0.5f, TopK = 3, Logprobs = true, TopLogprobs = 20, Seed = (ulong)seed });
            var expected = ReferenceSampling.LogSoftmax(x);
            int token = sampler.Sample(x, out var info);
            Assert.True(info.HasValue);
            Assert.Equal(token, info.Value.Token);
            Assert.True(Math.Abs(info.Value.Logprob - expected[token]) < 1e-4, $"seed {seed} n {n}: {info.Value.Logprob} vs {expected[token]}");
            var top = info.Value.TopLogprobs.ToArray();
            var want = Enumerable.Range(0, n).OrderByDescending(i => expected[i]).ThenBy(i => i).Take(20).ToArray();
            Assert.Equal(want.Length, top.Length);
            for (int i = 0; i < top.Length; i++)
            {
                Assert.True(top[i].Token == want[i], $"seed {seed} n {n} rank {i}: token {top[i].Token} vs {want[i]}");
                Assert.True(Math.Abs(top[i].Logprob - expected[want[i]]) < 1e-4, $"seed {seed} n {n} rank {i}");
                if (i > 0) Assert.True(top[i].Logprob <= top[i - 1].Logprob, $"seed {seed} n {n}: not sorted at {i}");
            }
        }
    }

    [Fact]
    public void TopLogprobs_SortedDescending_TiesByLowerId_AndOptional()
    {
        var x = new float[] { 0f, 3f, 1f, 3f, 2f, 1f };
        var s = new Sampler(6, new SamplingParameters { Temperature = 0, Logprobs = true, TopLogprobs = 4 });
        s.Sample(x, out var info);
        Assert.Equal([1, 3, 4, 2], info!.Value.TopLogprobs.ToArray().Select(t => t.Token).ToArray());

        var none = new Sampler(6, new SamplingParameters { Logprobs = true });
        none.Sample(x, out info);
        Assert.True(info.HasValue && info.Value.TopLogprobs.IsEmpty);

        var off = new Sampler(6, new SamplingParameters());
        off.Sample(x, out info);
        Assert.Null(info);
    }

    // ---- validation and allocation ----

    [Fact]
    public void Validate_RejectsOutOfRangeParameters()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(10, new SamplingParameters { TopLogprobs = 21, Logprobs = true }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(10, new SamplingParameters { TopLogprobs = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(10, new SamplingParameters { Temperature = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(10, new SamplingParameters { TopP = 1.5f }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(10, new SamplingParameters { PresencePenalty = 3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(10, new SamplingParameters { LogitBias = new Dictionary<int, float> { [10] = 1 } }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(10, new SamplingParameters { LogitBias = new Dictionary<int, float> { [1] = -101 } }));
        Assert.Throws<ArgumentException>(() => new Sampler(10, new SamplingParameters()).Sample(new float[9], out _));
    }

    public static TheoryData<string> AllocationConfigs() => ["none", "topk40", "topp0.9", "minp0.05", "typical0.9", "all", "everything", "greedy", "topk1000"];

    [Theory]
    [MemberData(nameof(AllocationConfigs))]
    public void Sample_AllocatesNothing_AfterWarmUp(string config)
    {
        const int vocab = 128_256;
        var p = config switch
        {
            "everything" => Config("all", 0.8f, 1) with
            {
                TypicalP = 0.95f, RepetitionPenalty = 1.1f, FrequencyPenalty = 0.3f, PresencePenalty = 0.2f,
                LogitBias = new Dictionary<int, float> { [5] = -100, [17] = 3 }, Logprobs = true, TopLogprobs = 20,
            },
            "greedy" => new SamplingParameters { Temperature = 0, Logprobs = true, TopLogprobs = 5 },
            "topk1000" => new SamplingParameters { TopK = 1000, Seed = 1 },
            _ => Config(config, 1f, 1),
        };
        var sampler = new Sampler(vocab, p);
        var rng = new Random(3);
        var steps = Enumerable.Range(0, 4).Select(_ => RandomLogits(rng, vocab)).ToArray();
        for (int i = 0; i < 20; i++) sampler.Sample(steps[i % steps.Length], out _);
        (long fewest, string seen) = SteadyAllocation.Measure(() => { for (int i = 0; i < 20; i++) sampler.Sample(steps[i % steps.Length], out _); });
        Assert.True(fewest == 0, $"{config}: 20 Sample calls allocate; {seen}");
    }
}
