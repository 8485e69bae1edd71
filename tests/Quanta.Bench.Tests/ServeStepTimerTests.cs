using Quanta.Bench.Serve;
using Quanta.Engine.Serving;

namespace Quanta.Bench.Tests;

/// <summary>The scaling benchmark's step timer: every engine step of the measured requests is recorded with its shape.</summary>
public sealed class ServeStepTimerTests
{
    private static string Shared(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", relative);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"test data file missing: shared/{relative}");
    }

    [Fact]
    public async Task Timer_records_one_step_per_engine_step_with_every_output_token_accounted()
    {
        ServeStepTimer? timer = null;
        using ServingEngine engine = ServingEngine.Load("stories", Shared("testdata/llama2c/stories260K.bin"), new ServingOptions
        {
            TokenizerPath = Shared("testdata/llama2c/tok512.bin"),
            Threads = 1,
            MaxRunning = 4,
            WrapExecutor = inner => timer = new ServeStepTimer(inner),
        });
        Assert.NotNull(engine.WarmUpResult);   // on by default; runs the executor itself, not through the wrapper
        ServeScalingResult r = await ServeScalingRunner.RunAsync(engine,
            new ServeScalingOptions { Concurrency = [1, 4], RequestsPerStream = 2, PromptTokens = 4, OutputTokens = 10, Int8OpsPerSecond = 1e9, MeasureBandwidth = false },
            steps: timer);
        foreach (ServeScalingPoint p in r.Points)
        {
            // each request: one step with its 4 prompt tokens (which samples the first token), then 9 decode steps;
            // a step samples one token per sequence in it, so the steps' sequences add up to the tokens generated
            long requests = p.Concurrency * 2;
            Assert.Equal(10 * requests, p.OutputTokens);
            Assert.Equal(p.OutputTokens, p.Steps.Sum(s => (long)s.Sequences));
            Assert.Equal((4 + 9) * requests, p.Steps.Sum(s => (long)s.Tokens));
            Assert.All(p.Steps, s => Assert.True(s.ExecuteSeconds > 0 && s.Sequences >= 1 && s.Sequences <= p.Concurrency));
        }
        foreach (ServeScalingPoint p in r.Points)
        {
            double d = ServeStepTimer.DecodeTokensPerSecond(p.Steps, p.Concurrency) ?? double.NaN;
            Assert.True(d > 0 && double.IsFinite(d), $"decode rate {d} at {p.Concurrency}");
        }
        Assert.Null(ServeStepTimer.DecodeTokensPerSecond(r.Points[0].Steps, 3));   // no step had 3 sequences at 1 stream
        string text = r.ToText();
        Assert.Contains("decode x1 |", text, StringComparison.Ordinal);
        Assert.Contains("with prompt tokens", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_rate_is_sequences_over_median_step_and_gap_and_the_summary_groups_by_batch_size()
    {
        TimedStep[] steps =
        [
            new(4, 4, 0.30, double.NaN, true),
            new(4, 4, 0.10, 0.02, false),
            new(4, 4, 0.20, 0.04, false),
            new(4, 20, 0.90, 0.01, true),   // prompt tokens: not a decode step
            new(2, 2, 0.05, 0.03, true),
        ];
        // decode x4: median executor 0.20 s, median gap of the two measured gaps (0.02, 0.04) 0.03 s
        Assert.Equal(4 / 0.23, ServeStepTimer.DecodeTokensPerSecond(steps, 4)!.Value, 9);
        Assert.Equal(2 / 0.08, ServeStepTimer.DecodeTokensPerSecond(steps, 2)!.Value, 9);
        string table = ServeStepTimer.Summary(steps);
        Assert.Contains("| decode x2 | 1 | 50.00 | 50.00 | 30.00 | 50.00 |", table, StringComparison.Ordinal);
        Assert.Contains("| decode x4 | 3 | 200.00 | 300.00 | 30.00 | 100.00 |", table, StringComparison.Ordinal);
        Assert.Contains("| with prompt tokens | 1 | 900.00 | 900.00 | 10.00 | 900.00 |", table, StringComparison.Ordinal);
        Assert.Contains("| first of their shape | 3 | 300.00 | 900.00 | 20.00 | 50.00 |", table, StringComparison.Ordinal);
    }

    [Fact]
    public void The_report_splits_the_round_into_executor_gaps_and_time_outside_steps()
    {
        TimedStep[] steps =
        [
            new(4, 20, 0.90, double.NaN, true),   // prompt tokens; NaN gap: the engine waited for requests
            new(4, 4, 0.30, 0.02, true),
            new(4, 4, 0.20, 0.04, false),
            new(2, 2, 0.05, 0.03, true),
        ];
        var point = new ServeScalingPoint(4, 100, 2.0, steps, 0, 0, 0, 0);
        string text = new ServeScalingResult([point], 1000, 467e9).ToText();
        // executor 1.45 s, gaps 0.09 s, outside 2.0 - 1.54 = 0.46 s; full-batch decode steps: 2 of 0.56 s, mean 280 ms
        Assert.Contains("where the round's 2.00 s went: executor 1.45 s (2 full-batch decode steps 0.56 s incl. their gaps, mean 280.00 ms), loop gaps 0.09 s, outside any step (engine idle, request hand-over) 0.46 s", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_report_names_the_measured_int8_readings_and_judges_against_the_reference_rate_too()
    {
        var point = new ServeScalingPoint(16, 100, 1.0, [], 0, 0, 0, 0);
        // 1e9 weights per token: 400 GOP/s allows 200 tok/s, 500 GOP/s 250; 100 tok/s is 50% and 40% of them
        var result = new ServeScalingResult([point], 1_000_000_000, 400e9, [390e9, 410e9], 500e9, [32.54e9, 51.96e9]);
        string text = result.ToText();
        Assert.Equal(250, result.ReferenceCeilingTokensPerSecond, 9);
        Assert.Contains("at 400.0 GOP/s int8, measured in this run", text, StringComparison.Ordinal);
        Assert.Contains("readings 390.0, 410.0 GOP/s", text, StringComparison.Ordinal);
        Assert.Contains("reference ceiling 250.0 tok/s at a fixed 500.0 GOP/s int8", text, StringComparison.Ordinal);
        Assert.Contains("| 16 | 100 | 1.00 | 100.0 | 50.0 % | 40.0 % |", text, StringComparison.Ordinal);
        Assert.Contains("of reference ceiling", text, StringComparison.Ordinal);
        Assert.Contains("read bandwidth before / after the rounds: 32.5 / 52.0 GB/s", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_given_rate_equal_to_the_reference_prints_one_ceiling_column()
    {
        var point = new ServeScalingPoint(1, 100, 1.0, [], 0, 0, 0, 0);
        string text = new ServeScalingResult([point], 1000, 467e9, [], 467e9).ToText();
        Assert.Contains("int8, given", text, StringComparison.Ordinal);
        Assert.DoesNotContain("of reference ceiling", text, StringComparison.Ordinal);
        Assert.DoesNotContain("read bandwidth", text, StringComparison.Ordinal);
    }
}
