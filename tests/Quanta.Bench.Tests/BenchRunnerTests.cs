namespace Quanta.Bench.Tests;

public class BenchRunnerTests
{
    private sealed class FakeEngine : IBenchEngine
    {
        public List<string> Calls { get; } = [];
        public string Name => "fake";
        public int VocabSize => 50;
        public void Reset() => Calls.Add("reset");
        public void Prefill(ReadOnlySpan<int> tokens)
        {
            foreach (int t in tokens) Assert.InRange(t, 0, 49);
            Calls.Add($"prefill {tokens.Length}");
        }
        public void Decode(int token)
        {
            Assert.InRange(token, 0, 49);
            Calls.Add("decode");
        }
        public void Dispose() { }
    }

    private static readonly BenchModelInfo Model = new("m.gguf", "llama 1M Q8_0", 1000, 500, new TokenFootprint(1000, 10, 8));

    [Fact]
    public void Each_test_runs_a_warm_up_then_r_timed_repetitions_from_an_empty_cache_plus_depth()
    {
        var e = new FakeEngine();
        var o = new BenchOptions { Prompt = 6, Gen = 3, Repetitions = 2, Threads = 1, Depth = 5, PromptGen = (4, 2), BandwidthSeconds = 0 };
        var results = BenchRunner.Run(e, Model, o, compiledMethods: () => 0);
        Assert.Equal(["pp6 @ d5", "tg3 @ d5", "pp4+tg2 @ d5"], results.Select(r => r.Test));
        string[] pp = ["reset", "prefill 5", "prefill 6"];
        string[] tg = ["reset", "prefill 5", "decode", "decode", "decode"];
        string[] pg = ["reset", "prefill 5", "prefill 4", "decode", "decode"];
        string[] expected = [.. pp, .. pp, .. pp, .. tg, .. tg, .. tg, .. pg, .. pg, .. pg];
        Assert.Equal(expected, e.Calls);
        foreach (var r in results)
        {
            Assert.Equal(2, r.SamplesNs.Count);
            int tokens = r.NPrompt + r.NGen;
            for (int i = 0; i < 2; i++) Assert.Equal(tokens / (r.SamplesNs[i] / 1e9), r.SamplesTs[i], 6);
            Assert.Equal(r.SamplesTs.Average(), r.AvgTs, 9);
        }
        Assert.Equal(new[] { 6, 0, 4 }, results.Select(r => r.NPrompt));
        Assert.Equal(new[] { 0, 3, 2 }, results.Select(r => r.NGen));
        Assert.All(results, r => Assert.Equal(5, r.NDepth));
    }

    [Fact]
    public void Warm_ups_repeat_while_the_jit_compiles_up_to_the_limit()
    {
        // compiled-method counter readings around each warm-up: 40 methods, then 3, then none -> three warm-ups
        var counts = new Queue<long>([100, 140, 140, 143, 143, 143]);
        var e = new FakeEngine();
        var o = new BenchOptions { Prompt = 0, Gen = 2, Repetitions = 2, Threads = 1, BandwidthSeconds = 0, MaxWarmUps = 5 };
        var lines = new List<string>();
        var r = Assert.Single(BenchRunner.Run(e, Model, o, lines.Add, compiledMethods: () => counts.Dequeue()));
        Assert.Empty(counts);
        Assert.Equal(5, e.Calls.Count(c => c == "reset"));   // 3 warm-ups + 2 timed
        Assert.Equal(2, r.SamplesNs.Count);
        Assert.Equal(3, lines.Count(l => l.Contains("warm-up", StringComparison.Ordinal)));

        // the limit stops warm-ups even while the JIT keeps compiling
        long n = 0;
        var e2 = new FakeEngine();
        BenchRunner.Run(e2, Model, o with { MaxWarmUps = 2 }, compiledMethods: () => n += 7);
        Assert.Equal(4, e2.Calls.Count(c => c == "reset"));  // 2 warm-ups + 2 timed
    }

    [Fact]
    public void Unstable_bandwidth_reruns_tg_at_most_three_times_then_flags_it()
    {
        var readings = new Queue<double>([10e9, 20e9, 10e9, 20e9, 10e9, 20e9]);
        var e = new FakeEngine();
        var o = new BenchOptions { Prompt = 0, Gen = 2, Repetitions = 1, Threads = 1, BandwidthSeconds = 0.01 };
        var r = Assert.Single(BenchRunner.Run(e, Model, o, probe: (_, _) => readings.Dequeue(), compiledMethods: () => 0));
        Assert.Empty(readings);
        Assert.Equal(3, r.BwAttempts);
        Assert.True(r.BwUnstable);
        Assert.Equal(6, e.Calls.Count(c => c == "reset"));   // 3 attempts x (warm-up + 1)
    }

    [Fact]
    public void Stable_bandwidth_runs_tg_once_and_reports_the_bound()
    {
        var readings = new Queue<double>([20e9, 21e9, 99e9]);
        var o = new BenchOptions { Prompt = 0, Gen = 4, Repetitions = 1, Threads = 1, Depth = 2, BandwidthSeconds = 0.01 };
        var r = Assert.Single(BenchRunner.Run(new FakeEngine(), Model, o, probe: (_, _) => readings.Dequeue(), compiledMethods: () => 0));
        Assert.Equal(1, r.BwAttempts);
        Assert.False(r.BwUnstable);
        Assert.Equal(20.0, r.BwBeforeGbps!.Value, 9);
        Assert.Equal(21.0, r.BwAfterGbps!.Value, 9);
        double bytes = 1000 + 10 + 8 * (2 + 2.5);   // weights + one embedding row + KV at mean 4.5 positions
        Assert.Equal(bytes, r.BytesPerToken!.Value, 9);
        Assert.Equal(20.5e9 / bytes, r.BoundTs!.Value, 6);
        Assert.Equal(r.AvgTs / (20.5e9 / bytes), r.BoundFraction!.Value, 9);
        Assert.Equal(bytes * r.AvgTs / 1e9, r.EffectiveGbps!.Value, 9);
    }

    [Fact]
    public void Standard_deviation_is_the_sample_one()
    {
        Assert.Equal(0, BenchRunner.StdDev([5.0]));
        Assert.Equal(Math.Sqrt(2.5), BenchRunner.StdDev([1.0, 2, 3, 4, 5]), 12);
    }
}
