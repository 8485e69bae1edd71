using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Quanta.Engine.Energy;
using Quanta.Engine.Scheduling;

namespace Quanta.Engine.Metrics;

/// <summary>
/// The serving metrics recorder: owns the "Quanta" <see cref="Meter"/> and its instruments (see <see cref="MetricNames"/>
/// and docs/metrics.md), a <see cref="PrometheusExporter"/> on that meter, the device's <see cref="IPowerSource"/>, and
/// the per-request state that turns events into latencies, energy and cost.
/// <para>Calls (all labelled by the model name given):</para>
/// <list type="number">
/// <item>Server, per request: <c>long t0 = metrics.Now;</c> before EngineLoop.Submit, then
/// <c>var tr = metrics.RequestQueued(handle.Id, model, promptTokens, t0);</c>; <c>tr.Token()</c> for each token read
/// from handle.Tokens(); after handle.Completion: <c>RequestUsage u = tr.Finished(r.Finish, r.Tokens.Count, r.CachedTokens);</c>.</item>
/// <item>Engine loop, per step: <c>StepToken s = metrics.BeginStep();</c> just before IExecutor.Execute;
/// <c>metrics.EndStep(s, model, shares);</c> right after it returns and BEFORE IScheduler.Update (so a request that finishes
/// in this step has its energy before its completion is published), with shares[i] = (handle id, work.Count) for each
/// work item of the plan; after Update: <c>metrics.RecordSchedulerState(model, new SchedulerSnapshot(running, waiting,
/// kvUsage, plan.Preempted.Count));</c>.</item>
/// <item>Server, GET /metrics: <c>await metrics.WritePrometheusAsync(response.Body, ct)</c> with Content-Type
/// <see cref="PrometheusExporter.ContentType"/>.</item>
/// </list>
/// <para>Energy: a step's energy is the power source's reading at EndStep minus that at BeginStep (the modelled source is
/// told utilization 1 for the step and 0 outside it); it and the step's device cost (duration × $/hour) are split across
/// the step's requests by token share. Idle time between steps is charged to nobody and not counted.</para>
/// <para>Thread safety: every member may be called from any thread. Steps are expected one at a time (the engine loop);
/// overlapping steps would each see the other's energy.</para>
/// </summary>
public sealed class ServingMetrics : IDisposable
{
    private static readonly string[] FinishReasonText = ["stop", "length", "cancelled", "deadline", "aborted"];

    private readonly TimeProvider _time;
    private readonly bool _ownsMeter;
    private readonly ConcurrentDictionary<long, RequestTracker> _requests = new();
    private readonly ConcurrentDictionary<string, PrefixTotals> _prefix = new(StringComparer.Ordinal);
    private readonly double _costPerSecond;
    private readonly KeyValuePair<string, object?> _estimatedTag;

    private readonly Histogram<double> _ttft;
    private readonly Histogram<double> _tpot;
    private readonly Histogram<double> _itl;
    private readonly Histogram<double> _e2e;
    private readonly Histogram<double> _queue;
    private readonly Histogram<long> _iterationTokens;
    private readonly Gauge<long> _running;
    private readonly Gauge<long> _waiting;
    private readonly Gauge<double> _kvUsage;
    private readonly Gauge<double> _prefixHitRate;
    private readonly Counter<long> _prefixQueries;
    private readonly Counter<long> _prefixHits;
    private readonly Counter<long> _promptTokens;
    private readonly Counter<long> _generationTokens;
    private readonly Counter<long> _preemptions;
    private readonly Counter<long> _requestSuccess;
    private readonly Counter<double> _energy;
    private readonly Counter<double> _cost;

    /// <summary>Creates the meter, its instruments, the exporter and (unless disabled) the power source.</summary>
    public ServingMetrics(ServingMetricsOptions? options = null)
    {
        options ??= new ServingMetricsOptions();
        _time = options.TimeProvider ?? TimeProvider.System;
        if (options.EnableEnergy)
        {
            string reason = "configured";
            PowerSource = options.PowerSource ?? PowerSources.Detect(options.Device, out reason, _time);
            PowerSourceNote = reason;
        }
        else
        {
            PowerSourceNote = "energy disabled";
        }
        PriceUsdPerHour = options.PriceUsdPerHour ?? options.Device.PriceUsdPerHour?.Value;
        _costPerSecond = (PriceUsdPerHour ?? 0) / 3600.0;
        _estimatedTag = new(MetricNames.EstimatedLabel, EnergyEstimated ? "true" : "false");

        if (options.MeterFactory is IMeterFactory factory)
        {
            Meter = factory.Create(new MeterOptions(MetricNames.MeterName));
        }
        else
        {
            Meter = new Meter(MetricNames.MeterName);
            _ownsMeter = true;
        }
        Exporter = new PrometheusExporter(Meter);

        _ttft = Seconds(MetricNames.TimeToFirstToken, "Histogram of time to first token in seconds.", MetricNames.TimeToFirstTokenBuckets);
        _tpot = Seconds(MetricNames.TimePerOutputToken, "Histogram of time per output token in seconds (per request: (last token - first token) / (tokens - 1)).", MetricNames.TokenLatencyBuckets);
        _itl = Seconds(MetricNames.InterTokenLatency, "Histogram of inter-token latency in seconds.", MetricNames.TokenLatencyBuckets);
        _e2e = Seconds(MetricNames.E2eRequestLatency, "Histogram of end to end request latency in seconds.", MetricNames.RequestLatencyBuckets);
        _queue = Seconds(MetricNames.RequestQueueTime, "Histogram of time spent waiting before the first scheduled step, in seconds.", MetricNames.RequestLatencyBuckets);
        _iterationTokens = Meter.CreateHistogram(MetricNames.IterationTokens, "{token}", "Histogram of number of tokens per engine step.", null,
            new InstrumentAdvice<long> { HistogramBucketBoundaries = [.. MetricNames.IterationTokenBuckets.Select(b => (long)b)] });
        _running = Meter.CreateGauge<long>(MetricNames.RequestsRunning, "{request}", "Number of requests running (holding KV blocks).");
        _waiting = Meter.CreateGauge<long>(MetricNames.RequestsWaiting, "{request}", "Number of requests waiting to be scheduled.");
        _kvUsage = Meter.CreateGauge<double>(MetricNames.KvCacheUsage, "1", "KV-cache usage. 1 means 100 percent usage.");
        _prefixHitRate = Meter.CreateGauge<double>(MetricNames.PrefixCacheHitRate, "1", "Prefix cache hit rate: cached prompt tokens / prompt tokens queried, since start.");
        _prefixQueries = Meter.CreateCounter<long>(MetricNames.PrefixCacheQueries, "{token}", "Prefix cache queries, in prompt tokens.");
        _prefixHits = Meter.CreateCounter<long>(MetricNames.PrefixCacheHits, "{token}", "Prefix cache hits, in prompt tokens served from the cache.");
        _promptTokens = Meter.CreateCounter<long>(MetricNames.PromptTokens, "{token}", "Number of prompt tokens processed.");
        _generationTokens = Meter.CreateCounter<long>(MetricNames.GenerationTokens, "{token}", "Number of generation tokens processed.");
        _preemptions = Meter.CreateCounter<long>(MetricNames.Preemptions, "{preemption}", "Cumulative number of preemptions from the engine.");
        _requestSuccess = Meter.CreateCounter<long>(MetricNames.RequestSuccess, "{request}", "Count of finished requests by finish reason.");
        _energy = Meter.CreateCounter<double>(MetricNames.Energy, "J", "Energy of engine steps in joules (estimated=\"true\": power model, not measured).");
        _cost = Meter.CreateCounter<double>(MetricNames.Cost, "USD", "Device cost of engine steps in dollars (step time x device $/hour).");
    }

    /// <summary>The "Quanta" meter holding every instrument.</summary>
    public Meter Meter { get; }

    /// <summary>The Prometheus exporter on <see cref="Meter"/>.</summary>
    public PrometheusExporter Exporter { get; }

    /// <summary>The energy meter, or null when energy is disabled.</summary>
    public IPowerSource? PowerSource { get; }

    /// <summary>Why the power source is what it is (e.g. why RAPL was not usable).</summary>
    public string PowerSourceNote { get; }

    /// <summary>Device price in $/hour, or null when none is configured (costs are then not reported).</summary>
    public double? PriceUsdPerHour { get; }

    /// <summary>True when energy is modelled, not measured.</summary>
    public bool EnergyEstimated => PowerSource?.IsEstimated ?? true;

    /// <summary>Requests being tracked (registered or seen in a step, not yet finished).</summary>
    public int TrackedRequests => _requests.Count;

    /// <summary>The current timestamp of the recorder's clock (pass it to <see cref="RequestQueued"/>).</summary>
    public long Now => _time.GetTimestamp();

    internal bool HasPrice => PriceUsdPerHour is not null;

    /// <summary>
    /// Starts tracking request <paramref name="requestId"/> of <paramref name="model"/> queued at
    /// <paramref name="queuedTimestamp"/> (a <see cref="Now"/> value; default now). Safe to call after the engine has
    /// already reported steps for this id.
    /// </summary>
    public RequestTracker RequestQueued(long requestId, string model, int promptTokens, long? queuedTimestamp = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegative(promptTokens);
        long now = Now;
        RequestTracker t = Track(requestId, now);
        t.Register(model, promptTokens, queuedTimestamp ?? now);
        return t;
    }

    /// <summary>Stops tracking a request without recording anything (for ids that will never be finished).</summary>
    public void Forget(long requestId) => _requests.TryRemove(requestId, out _);

    /// <summary>The power source when it is a model on this instance's clock: a step's energy is then integrated over
    /// exactly the step's timestamps, so its energy and its cost (priced on the same interval) stay in the model's
    /// ratio even when the thread is preempted between reading the clock and the source.</summary>
    private ModeledPowerSource? SameClockModel => PowerSource is ModeledPowerSource m && ReferenceEquals(m.Clock, _time) ? m : null;

    /// <summary>Marks the start of an engine step (call just before the executor runs).</summary>
    /// <param name="utilization">Device utilization during the step, for the power model (1 = busy).</param>
    public StepToken BeginStep(double utilization = 1.0)
    {
        long start = Now;
        double joules = 0;
        if (SameClockModel is ModeledPowerSource m) joules = m.TransitionAt(utilization, start);
        else if (PowerSource is IPowerSource p)
        {
            joules = p.ReadEnergyJoules();
            p.ReportUtilization(utilization);
        }
        return new StepToken(start, joules);
    }

    /// <summary>
    /// Ends the step begun with <paramref name="step"/>: counts its energy and cost, splits both across
    /// <paramref name="shares"/> by token share, marks those requests as scheduled, and records the step's token count.
    /// Returns the step's energy in joules.
    /// </summary>
    public double EndStep(StepToken step, string model, ReadOnlySpan<StepShare> shares)
    {
        ArgumentNullException.ThrowIfNull(model);
        long end = Now;
        double joules = 0;
        if (SameClockModel is ModeledPowerSource m) joules = Math.Max(0, m.TransitionAt(0, end) - step.StartJoules);
        else if (PowerSource is IPowerSource p)
        {
            p.ReportUtilization(0);
            joules = Math.Max(0, p.ReadEnergyJoules() - step.StartJoules);
        }
        double cost = _costPerSecond * Seconds(step.StartTimestamp, end);
        var modelTag = new KeyValuePair<string, object?>(MetricNames.ModelLabel, model);
        if (PowerSource != null) _energy.Add(joules, modelTag, _estimatedTag);
        if (HasPrice) _cost.Add(cost, modelTag);

        long tokens = 0;
        foreach (StepShare s in shares)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(s.Tokens);
            tokens += s.Tokens;
        }
        _iterationTokens.Record(tokens, modelTag);
        if (shares.IsEmpty) return joules;

        double[]? rented = null;
        Span<int> counts = shares.Length <= 256 ? stackalloc int[shares.Length] : new int[shares.Length];
        Span<double> part = shares.Length <= 128 ? stackalloc double[shares.Length] : (rented = ArrayPool<double>.Shared.Rent(shares.Length)).AsSpan(0, shares.Length);
        try
        {
            for (int i = 0; i < shares.Length; i++) counts[i] = shares[i].Tokens;
            EnergyAttribution.Split(joules, counts, part);
            Span<double> costPart = shares.Length <= 128 ? stackalloc double[shares.Length] : new double[shares.Length];
            EnergyAttribution.Split(cost, counts, costPart);
            for (int i = 0; i < shares.Length; i++) Track(shares[i].RequestId, step.StartTimestamp).AddStep(step.StartTimestamp, part[i], costPart[i]);
        }
        finally
        {
            if (rented != null) ArrayPool<double>.Shared.Return(rented);
        }
        return joules;
    }

    /// <summary>Records the scheduler's state after a step: running and waiting gauges, KV usage, preemptions in the step.</summary>
    public void RecordSchedulerState(string model, SchedulerSnapshot state)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tag = new KeyValuePair<string, object?>(MetricNames.ModelLabel, model);
        _running.Record(state.Running, tag);
        _waiting.Record(state.Waiting, tag);
        _kvUsage.Record(Math.Clamp(state.KvCacheUsage, 0, 1), tag);
        if (state.Preemptions > 0) _preemptions.Add(state.Preemptions, tag);
    }

    /// <summary>Writes every metric in Prometheus text format 0.0.4 (Content-Type <see cref="PrometheusExporter.ContentType"/>).</summary>
    public Task WritePrometheusAsync(Stream stream, CancellationToken cancellationToken = default) => Exporter.WriteAsync(stream, cancellationToken);

    /// <summary>Writes every metric in Prometheus text format 0.0.4.</summary>
    public void WritePrometheus(TextWriter writer) => Exporter.Write(writer);

    /// <summary>Stops the exporter and disposes the meter when this recorder created it.</summary>
    public void Dispose()
    {
        Exporter.Dispose();
        if (_ownsMeter) Meter.Dispose();
    }

    internal double Seconds(long from, long to) => (to - from) / (double)_time.TimestampFrequency;

    internal void OnToken(RequestTracker t, double ttft, double itl, bool countPrompt)
    {
        var tag = new KeyValuePair<string, object?>(MetricNames.ModelLabel, t.Model);
        if (ttft >= 0) _ttft.Record(ttft, tag);
        if (itl >= 0) _itl.Record(itl, tag);
        if (countPrompt && t.PromptTokens > 0) _promptTokens.Add(t.PromptTokens, tag);
        _generationTokens.Add(1, tag);
    }

    internal void OnFinished(RequestTracker t, FinishReason reason, RequestUsage u, int unreportedTokens, bool countPrompt, double? tpot)
    {
        _requests.TryRemove(new KeyValuePair<long, RequestTracker>(t.RequestId, t));
        var tag = new KeyValuePair<string, object?>(MetricNames.ModelLabel, t.Model);
        if (unreportedTokens > 0) _generationTokens.Add(unreportedTokens, tag);
        if (countPrompt && u.PromptTokens > 0) _promptTokens.Add(u.PromptTokens, tag);
        _e2e.Record(u.E2eSeconds, tag);
        if (u.QueueSeconds is double q) _queue.Record(q, tag);
        if (tpot is double tp) _tpot.Record(tp, tag);
        int r = (int)reason;
        string reasonText = (uint)r < (uint)FinishReasonText.Length ? FinishReasonText[r] : reason.ToString().ToLowerInvariant();
        _requestSuccess.Add(1, tag, new KeyValuePair<string, object?>(MetricNames.FinishReasonLabel, reasonText));
        if (u.PromptTokens > 0 && (u.QueueSeconds is not null || u.CompletionTokens > 0))
        {
            _prefixQueries.Add(u.PromptTokens, tag);
            _prefixHits.Add(u.CachedPromptTokens, tag);
            PrefixTotals totals = _prefix.GetOrAdd(t.Model, static _ => new PrefixTotals());
            _prefixHitRate.Record(totals.Add(u.PromptTokens, u.CachedPromptTokens), tag);
        }
    }

    private RequestTracker Track(long id, long createdAt)
    {
        if (_requests.TryGetValue(id, out RequestTracker? t)) return t;
        return _requests.GetOrAdd(id, static (k, s) => new RequestTracker(s.Owner, k, s.CreatedAt), (Owner: this, CreatedAt: createdAt));
    }

    private Histogram<double> Seconds(string name, string description, IReadOnlyList<double> buckets) =>
        Meter.CreateHistogram(name, "s", description, null, new InstrumentAdvice<double> { HistogramBucketBoundaries = buckets });

    private sealed class PrefixTotals
    {
        private readonly Lock _gate = new();
        private long _queries;
        private long _hits;

        public double Add(long queries, long hits)
        {
            lock (_gate)
            {
                _queries += queries;
                _hits += hits;
                return _queries == 0 ? 0 : (double)_hits / _queries;
            }
        }
    }
}
