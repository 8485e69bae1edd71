using System.Globalization;
using System.Text.RegularExpressions;
using Quanta.Engine.Execution;
using Quanta.Engine.Metrics;
using Quanta.Engine.Sampling;
using Quanta.Engine.Serving;
using Quanta.Engine.Tests.Generation;

namespace Quanta.Engine.Tests.Serving;

/// <summary>Every request ends in exactly one outcome record, however it ends: run, cancelled while queued, cancelled before it was queued, or running.</summary>
public sealed partial class RequestOutcomeTests
{
    private sealed class GateExecutor(IExecutor inner, ManualResetEventSlim gate) : IExecutor
    {
        public int VocabSize => inner.VocabSize;
        public int MaxBatchTokens => inner.MaxBatchTokens;
        public int MaxBatchSequences => inner.MaxBatchSequences;

        public ExecutionResult Execute(ExecutionBatch batch)
        {
            gate.Wait(TimeSpan.FromSeconds(30));
            return inner.Execute(batch);
        }
    }

    [GeneratedRegex(@"^(?<name>[a-z0-9_:]+)\{(?<labels>[^}]*)\} (?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex Sample();

    private static double Sum(string text, string name, string? label = null)
    {
        double sum = 0;
        foreach (Match m in Sample().Matches(text))
            if (m.Groups["name"].Value == name && (label is null || m.Groups["labels"].Value.Contains(label, StringComparison.Ordinal)))
                sum += double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        return sum;
    }

    [Fact]
    public async Task Requests_cancelled_in_the_queue_are_counted_once_as_cancelled()
    {
        using var gate = new ManualResetEventSlim(false);
        using var metrics = new ServingMetrics();
        using ServingEngine engine = ServingEngine.Load("stories", TestData.Stories, new ServingOptions
        {
            TokenizerPath = TestData.Tok512, Threads = 1, MaxRunning = 1, MaxQueue = 64, Metrics = metrics,
            WrapExecutor = inner => new GateExecutor(inner, gate),
        });
        int[] prompt = engine.Model.Tokenizer.Encode("Once upon a time", addSpecial: true, parseSpecial: false);
        var sampling = new SamplingParameters { MaxTokens = 3, Temperature = 0 };
        var calls = new List<ServingCall> { engine.Submit(new ServingRequest { Prompt = prompt, Sampling = sampling }) };   // runs (held at the gate)
        var sources = new List<CancellationTokenSource>();
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        const int queued = 20;
        for (int i = 0; i < queued; i++)
        {
            var cts = new CancellationTokenSource();
            if (rng.Next(4) == 0) await cts.CancelAsync();   // some are cancelled before they are even submitted
            sources.Add(cts);
            calls.Add(engine.Submit(new ServingRequest { Prompt = prompt, Sampling = sampling }, cts.Token));
        }
        await Task.Delay(rng.Next(20));
        foreach (var cts in sources) await cts.CancelAsync();
        gate.Set();
        foreach (ServingCall call in calls)
        {
            await foreach (ServingDelta _ in call.ReadAllAsync()) { }
            await call.Usage.WaitAsync(TimeSpan.FromSeconds(30));
        }
        for (int i = 0; i < 500 && (engine.Outstanding > 0 || metrics.TrackedRequests > 0); i++) await Task.Delay(10);
        using var writer = new StringWriter();
        metrics.WritePrometheus(writer);
        string text = writer.ToString();
        Assert.Equal(0, metrics.TrackedRequests);
        Assert.True(Sum(text, "quanta:request_success_total") == queued + 1, $"seed {seed}\n{text}");
        Assert.True(Sum(text, "quanta:e2e_request_latency_seconds_count") == queued + 1, $"seed {seed}\n{text}");
        Assert.True(Sum(text, "quanta:request_success_total", "finished_reason=\"cancelled\"") == queued, $"seed {seed}\n{text}");
        Assert.True(Sum(text, "quanta:request_success_total", "finished_reason=\"length\"") == 1, $"seed {seed}\n{text}");
        foreach (var cts in sources) cts.Dispose();
    }
}
