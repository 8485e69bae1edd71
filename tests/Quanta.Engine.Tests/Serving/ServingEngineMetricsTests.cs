using Quanta.Core.Devices;
using Quanta.Engine.Energy;
using Quanta.Engine.Execution;
using Quanta.Engine.Generation;
using Quanta.Engine.Metrics;
using Quanta.Engine.Sampling;
using Quanta.Engine.Serving;
using Quanta.Engine.Tests.Generation;

namespace Quanta.Engine.Tests.Serving;

/// <summary>A ServingEngine's usage comes from its metrics recorder, and failed or cancelled choices leave no tracker.</summary>
public sealed class ServingEngineMetricsTests
{
    private sealed class FailAfter(IExecutor inner, int okSteps) : IExecutor
    {
        private int _calls;
        public int VocabSize => inner.VocabSize;
        public int MaxBatchTokens => inner.MaxBatchTokens;
        public int MaxBatchSequences => inner.MaxBatchSequences;

        public ExecutionResult Execute(ExecutionBatch batch) =>
            ++_calls > okSteps ? throw new InvalidOperationException("executor failed") : inner.Execute(batch);
    }

    private static ServingEngine Load(ServingOptions options) =>
        ServingEngine.Load("stories", TestData.Stories, options with { TokenizerPath = TestData.Tok512, Threads = 1 });

    [Fact]
    public async Task Usage_carries_the_recorders_energy_and_cost_and_choices_sum()
    {
        // 10 W busy, 0 W idle, $3.6/hour: every step's joules / dollars = 10 × 3600 / 3.6 = 1e4
        using var metrics = new ServingMetrics(new ServingMetricsOptions
        {
            PowerSource = new ModeledPowerSource(new PowerModel(0, 10), "test"),
            PriceUsdPerHour = 3.6,
        });
        using ServingEngine engine = Load(new ServingOptions { Metrics = metrics });
        Assert.Same(metrics, engine.Metrics);
        int[] prompt = engine.Model.Tokenizer.Encode("Once upon a time", addSpecial: true, parseSpecial: false);
        ServingCall call = engine.Submit(new ServingRequest { Prompt = prompt, Sampling = new SamplingParameters { N = 3, MaxTokens = 5, Temperature = 1, Seed = 7 } });
        await foreach (ServingDelta _ in call.ReadAllAsync()) { }
        ServingUsage u = await call.Usage.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(15, u.CompletionTokens);
        Assert.True(u.EnergyJoules > 0);
        Assert.True(u.EnergyEstimated);
        Assert.NotNull(u.CostUsd);
        double ratio = u.EnergyJoules / u.CostUsd!.Value;
        Assert.True(Math.Abs(ratio - 1e4) < 500, $"J/$ = {ratio}");
        Assert.Equal(0, metrics.TrackedRequests);
    }

    [Fact]
    public async Task Without_a_recorder_the_engine_uses_its_own_with_the_catalog_price()
    {
        using ServingEngine engine = Load(new ServingOptions());
        Assert.Equal(DevicePowerCatalog.ThisCpu.PriceUsdPerHour?.Value, engine.Metrics.PriceUsdPerHour);
        ServingCall call = engine.Submit(new ServingRequest { Prompt = [1, 403], Sampling = new SamplingParameters { MaxTokens = 3 } });
        ServingUsage u = await call.Usage.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(u.EnergyJoules > 0);
        Assert.True(u.CostUsd > 0);
    }

    [Fact]
    public async Task A_failing_engine_leaves_no_tracker_and_counts_each_request_once_as_aborted()
    {
        using var metrics = new ServingMetrics();
        using ServingEngine engine = Load(new ServingOptions { Metrics = metrics, WrapExecutor = inner => new FailAfter(inner, 4) });
        var calls = Enumerable.Range(0, 3).Select(i => engine.Submit(new ServingRequest { Prompt = [1, 403 + i], Sampling = new SamplingParameters { MaxTokens = 50 } })).ToList();
        foreach (ServingCall c in calls) await Assert.ThrowsAsync<InvalidOperationException>(() => c.Usage.WaitAsync(TimeSpan.FromSeconds(30)));
        for (int i = 0; i < 500 && (metrics.TrackedRequests > 0 || engine.Outstanding > 0); i++) await Task.Delay(10);
        Assert.Equal(0, metrics.TrackedRequests);
        Assert.Equal(0, engine.ActiveRequests);
        Assert.Equal(0, engine.Cache.Pool.UsedBlocks);
        // each failed request still ends in one outcome: aborted, with its end-to-end latency
        using var w = new StringWriter();
        metrics.WritePrometheus(w);
        string text = w.ToString();
        Assert.Contains("quanta:request_success_total{finished_reason=\"aborted\",model_name=\"stories\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("quanta:e2e_request_latency_seconds_count{model_name=\"stories\"} 3\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelled_requests_are_finished_as_cancelled_and_forgotten()
    {
        using var metrics = new ServingMetrics();
        using ServingEngine engine = Load(new ServingOptions { Metrics = metrics });
        // BOS (1) and EOS (2) are banned so the story cannot end by itself before the cancellation lands. On a loaded
        // machine the reader can still be scheduled only after the engine has produced all 400 tokens (the tiny model
        // runs ~1,000 tokens/s): such an attempt tests nothing, so it is repeated, up to 5 times.
        ServingUsage? u = null;
        for (int attempt = 0; attempt < 5 && (u is null || u.CompletionTokens >= 400); attempt++)
        {
            using var cts = new CancellationTokenSource();
            ServingCall call = engine.Submit(new ServingRequest
            {
                Prompt = [1, 403],
                Sampling = new SamplingParameters { MaxTokens = 400, LogitBias = new Dictionary<int, float> { [1] = -100f, [2] = -100f } },
            }, cts.Token);
            await foreach (ServingDelta _ in call.ReadAllAsync())
            {
                await cts.CancelAsync();
            }
            u = await call.Usage.WaitAsync(TimeSpan.FromSeconds(30));
        }
        Assert.True(u!.CompletionTokens < 400, "in 5 attempts the request always finished its 400 tokens before the cancellation landed");
        for (int i = 0; i < 500 && metrics.TrackedRequests > 0; i++) await Task.Delay(10);
        Assert.Equal(0, metrics.TrackedRequests);
        using var w = new StringWriter();
        metrics.WritePrometheus(w);
        Assert.Contains("finished_reason=\"cancelled\"", w.ToString(), StringComparison.Ordinal);
    }

    private sealed class UnusedExecutor(int vocab) : IExecutor
    {
        public int VocabSize => vocab;
        public int MaxBatchTokens => 16;
        public int MaxBatchSequences => 1;
        public ExecutionResult Execute(ExecutionBatch batch) => throw new InvalidOperationException("not run in this test");
    }

    // An executor that stores K/V itself: the engine keeps block tables only, sized in the executor's element size
    // (here 1 MiB of F16 blocks for stories260K: 5 layers, 4 KV heads of 8 → 2·5·16·32·2 = 10,240 bytes per block).
    [Fact]
    public void Executor_kv_storage_gives_a_blocks_only_cache_sized_in_the_executors_elements()
    {
        using ServingEngine engine = Load(new ServingOptions
        {
            KvCacheMegabytes = 1,
            CreateExecutor = r => new UnusedExecutor(r.Model.Config.VocabSize),
            ExecutorKvStorage = Quanta.Models.KvCache.KvCacheType.F16,
        });
        Assert.False(engine.Cache.HasHostStorage);
        var c = engine.Model.Model.Config;
        long perBlock = 2L * c.Layers * 16 * c.KvHeads * c.HeadDim * 2;
        Assert.Equal(perBlock, engine.Cache.BytesPerBlock);
        Assert.Equal((1L << 20) / perBlock + 1, engine.Cache.Pool.NumBlocks);   // + the null block
        using ServingEngine host = Load(new ServingOptions());
        Assert.True(host.Cache.HasHostStorage);
        var e = Assert.Throws<ArgumentException>(() => Load(new ServingOptions { ExecutorKvStorage = Quanta.Models.KvCache.KvCacheType.F16 }));
        Assert.Contains("CreateExecutor", e.Message);
    }
}
