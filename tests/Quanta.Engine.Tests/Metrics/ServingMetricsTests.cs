using System.Globalization;
using System.Text.RegularExpressions;
using Quanta.Engine.Energy;
using Quanta.Engine.Metrics;
using Quanta.Engine.Scheduling;
using Quanta.Engine.Tests.Energy;

namespace Quanta.Engine.Tests.Metrics;

public sealed partial class ServingMetricsTests
{
    private static ServingMetrics Create(SteppedClock clock) => new(new ServingMetricsOptions
    {
        TimeProvider = clock,
        PowerSource = new ModeledPowerSource(new PowerModel(10, 50), "model:test", clock),
        PriceUsdPerHour = 3600,
    });

    private static double Sample(string text, string series)
    {
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
                return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
        }
        throw new Xunit.Sdk.XunitException($"no sample {series} in:\n{text}");
    }

    [Fact]
    public void Request_latencies_by_hand()
    {
        var clock = new SteppedClock();
        using ServingMetrics m = Create(clock);
        long t0 = m.Now;
        RequestTracker r = m.RequestQueued(1, "llama", promptTokens: 5, t0);
        clock.Advance(1);                              // waits 1 s
        StepToken s = m.BeginStep();
        clock.Advance(0.5);                            // prefill step 0.5 s
        m.EndStep(s, "llama", [new StepShare(1, 5)]);
        r.Token();                                     // first token at 1.5 s
        clock.Advance(0.25);
        r.Token();                                     // ITL 0.25
        clock.Advance(0.5);
        r.Token();                                     // ITL 0.5, last token at 2.25 s
        clock.Advance(0.25);
        RequestUsage u = r.Finished(FinishReason.Stop, generatedTokens: 3, cachedPromptTokens: 4);   // e2e 2.5 s

        Assert.Equal(1.5, u.TimeToFirstTokenSeconds);
        Assert.Equal(1.0, u.QueueSeconds);
        Assert.Equal(2.5, u.E2eSeconds);
        Assert.Equal(5, u.PromptTokens);
        Assert.Equal(3, u.CompletionTokens);
        Assert.Equal(25, u.EnergyJoules, 9);
        Assert.Equal(u, r.Finished(FinishReason.Length, 99));   // idempotent: the first result stays

        string text = m.Exporter.Scrape();
        const string L = "{model_name=\"llama\"}";
        Assert.Equal(1.5, Sample(text, "quanta:time_to_first_token_seconds_sum" + L));
        Assert.Equal(1, Sample(text, "quanta:time_to_first_token_seconds_count" + L));
        Assert.Equal(0, Sample(text, "quanta:time_to_first_token_seconds_bucket{model_name=\"llama\",le=\"1\"}"));
        Assert.Equal(1, Sample(text, "quanta:time_to_first_token_seconds_bucket{model_name=\"llama\",le=\"2.5\"}"));
        Assert.Equal(0.75, Sample(text, "quanta:inter_token_latency_seconds_sum" + L));
        Assert.Equal(2, Sample(text, "quanta:inter_token_latency_seconds_count" + L));
        Assert.Equal(1, Sample(text, "quanta:inter_token_latency_seconds_bucket{model_name=\"llama\",le=\"0.3\"}"));
        Assert.Equal(0.375, Sample(text, "quanta:request_time_per_output_token_seconds_sum" + L));   // (2.25 - 1.5) / 2
        Assert.Equal(2.5, Sample(text, "quanta:e2e_request_latency_seconds_sum" + L));
        Assert.Equal(1.0, Sample(text, "quanta:request_queue_time_seconds_sum" + L));
        Assert.Equal(1, Sample(text, "quanta:request_queue_time_seconds_bucket{model_name=\"llama\",le=\"1\"}"));
        Assert.Equal(5, Sample(text, "quanta:prompt_tokens_total" + L));
        Assert.Equal(3, Sample(text, "quanta:generation_tokens_total" + L));
        Assert.Equal(1, Sample(text, "quanta:request_success_total{finished_reason=\"stop\",model_name=\"llama\"}"));
        Assert.Equal(5, Sample(text, "quanta:prefix_cache_queries_total" + L));
        Assert.Equal(4, Sample(text, "quanta:prefix_cache_hits_total" + L));
        Assert.Equal(0.8, Sample(text, "quanta:prefix_cache_hit_rate" + L));
        Assert.Equal(1, Sample(text, "quanta:iteration_tokens_total_bucket{model_name=\"llama\",le=\"8\"}"));
        Assert.Equal(0, m.TrackedRequests);
    }

    [Fact]
    public void Scheduler_state_gauges_and_preemptions()
    {
        var clock = new SteppedClock();
        using ServingMetrics m = Create(clock);
        m.RecordSchedulerState("q", new SchedulerSnapshot(Running: 3, Waiting: 7, KvCacheUsage: 0.5, Preemptions: 2));
        m.RecordSchedulerState("q", new SchedulerSnapshot(Running: 4, Waiting: 6, KvCacheUsage: 0.625, Preemptions: 1));
        string text = m.Exporter.Scrape();
        Assert.Equal(4, Sample(text, "quanta:num_requests_running{model_name=\"q\"}"));
        Assert.Equal(6, Sample(text, "quanta:num_requests_waiting{model_name=\"q\"}"));
        Assert.Equal(0.625, Sample(text, "quanta:kv_cache_usage_perc{model_name=\"q\"}"));
        Assert.Equal(3, Sample(text, "quanta:num_preemptions_total{model_name=\"q\"}"));
        Assert.Contains("# TYPE quanta:num_requests_running gauge\n", text);
        Assert.Contains("# TYPE quanta:num_preemptions_total counter\n", text);
    }

    [Fact]
    public void Tokens_not_reported_one_by_one_are_counted_at_finish()
    {
        var clock = new SteppedClock();
        using ServingMetrics m = Create(clock);
        RequestTracker r = m.RequestQueued(9, "m", 2);
        clock.Advance(1);
        RequestUsage u = r.Finished(FinishReason.Length, generatedTokens: 4);
        Assert.Null(u.TimeToFirstTokenSeconds);
        string text = m.Exporter.Scrape();
        Assert.Equal(4, Sample(text, "quanta:generation_tokens_total{model_name=\"m\"}"));
        Assert.Equal(2, Sample(text, "quanta:prompt_tokens_total{model_name=\"m\"}"));
        Assert.DoesNotContain("quanta:time_to_first_token_seconds_count", text);
        Assert.Equal(1, Sample(text, "quanta:request_success_total{finished_reason=\"length\",model_name=\"m\"}"));
    }

    [Fact]
    public void Concurrent_requests_and_steps_keep_counts_exact()
    {
        using var m = new ServingMetrics(new ServingMetricsOptions { PriceUsdPerHour = 1 });
        const int threads = 8, requestsPerThread = 200, tokensPerRequest = 5;
        var engine = new Thread(() =>
        {
            for (int i = 0; i < 2000; i++)
            {
                StepToken s = m.BeginStep();
                m.EndStep(s, "m", [new StepShare(-1 - (i % 3), 1)]);
            }
        });
        engine.Start();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (int i = 0; i < requestsPerThread; i++)
            {
                RequestTracker r = m.RequestQueued(t * 1_000_000L + i, "m", promptTokens: 3);
                for (int k = 0; k < tokensPerRequest; k++) r.Token();
                r.Finished(FinishReason.Stop, tokensPerRequest);
            }
        });
        engine.Join();
        for (int i = 1; i <= 3; i++) m.Forget(-i);
        string text = m.Exporter.Scrape();
        const int n = threads * requestsPerThread;
        Assert.Equal(n * tokensPerRequest, Sample(text, "quanta:generation_tokens_total{model_name=\"m\"}"));
        Assert.Equal(n * 3, Sample(text, "quanta:prompt_tokens_total{model_name=\"m\"}"));
        Assert.Equal(n, Sample(text, "quanta:request_success_total{finished_reason=\"stop\",model_name=\"m\"}"));
        Assert.Equal(n, Sample(text, "quanta:time_to_first_token_seconds_count{model_name=\"m\"}"));
        Assert.Equal(n * (tokensPerRequest - 1), Sample(text, "quanta:inter_token_latency_seconds_count{model_name=\"m\"}"));
        Assert.Equal(2000, Sample(text, "quanta:iteration_tokens_total_count{model_name=\"m\"}"));
        Assert.Equal(0, m.TrackedRequests);
    }

    [Fact]
    public void Docs_list_every_metric()
    {
        string docs = File.ReadAllText(FindRepoFile("docs/metrics.md"));
        var names = typeof(MetricNames).GetFields().Where(f => f.IsLiteral && f.GetValue(null) is string s && s.StartsWith("quanta:", StringComparison.Ordinal))
            .Select(f => (string)f.GetValue(null)!).ToList();
        Assert.True(names.Count >= 18);
        foreach (string name in names)
        {
            string exposed = IsCounter(name) ? name + "_total" : name;
            Assert.True(docs.Contains("`" + exposed + "`", StringComparison.Ordinal), $"docs/metrics.md lacks `{exposed}`");
        }
        Assert.Matches(VllmName(), docs);
    }

    private static bool IsCounter(string name) => name is MetricNames.PrefixCacheQueries or MetricNames.PrefixCacheHits or MetricNames.PromptTokens
        or MetricNames.GenerationTokens or MetricNames.Preemptions or MetricNames.RequestSuccess or MetricNames.Energy or MetricNames.Cost;

    [GeneratedRegex("vllm:time_to_first_token_seconds")]
    private static partial Regex VllmName();

    private static string FindRepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }
}
