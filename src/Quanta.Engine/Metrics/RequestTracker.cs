using Quanta.Engine.Scheduling;

namespace Quanta.Engine.Metrics;

/// <summary>
/// One request's metrics state, from <see cref="ServingMetrics.RequestQueued"/> to <see cref="Finished"/>. The server
/// calls <see cref="Token"/> for each generated token as it is delivered (the serving engine: on the engine thread, when
/// the token's text delta is written to the call) and <see cref="Finished"/> once; the engine
/// thread adds step energy concurrently. Thread-safe (one lock per request; no allocation per token).
/// </summary>
public sealed class RequestTracker
{
    private readonly ServingMetrics _owner;
    private readonly Lock _gate = new();
    private long _queuedAt;
    private long _scheduledAt;
    private bool _scheduled;
    private long _firstTokenAt;
    private long _lastTokenAt;
    private int _observedTokens;
    private bool _promptCounted;
    private double _joules;
    private double _costUsd;
    private RequestUsage? _final;

    internal RequestTracker(ServingMetrics owner, long id, long createdAt)
    {
        _owner = owner;
        RequestId = id;
        _queuedAt = createdAt;
    }

    /// <summary>The request id (RequestHandle.Id).</summary>
    public long RequestId { get; }

    /// <summary>The model label ("" until registered).</summary>
    public string Model { get; private set; } = "";

    /// <summary>Prompt tokens.</summary>
    public int PromptTokens { get; private set; }

    /// <summary>Energy attributed so far, joules.</summary>
    public double EnergyJoules { get { lock (_gate) return _joules; } }

    /// <summary>Cost attributed so far, dollars.</summary>
    public double CostUsd { get { lock (_gate) return _costUsd; } }

    /// <summary>
    /// Records that one generated token was delivered now: the first one records time to first token (and counts the
    /// prompt tokens), later ones inter-token latency; each counts one generation token.
    /// </summary>
    public void Token()
    {
        long now = _owner.Now;
        double ttft = -1, itl = -1;
        bool countPrompt = false;
        lock (_gate)
        {
            if (_final != null) return;
            if (_observedTokens == 0)
            {
                _firstTokenAt = now;
                ttft = _owner.Seconds(_queuedAt, now);
                countPrompt = !_promptCounted;
                _promptCounted = true;
            }
            else
            {
                itl = _owner.Seconds(_lastTokenAt, now);
            }
            _lastTokenAt = now;
            _observedTokens++;
        }
        _owner.OnToken(this, ttft, itl, countPrompt);
    }

    /// <summary>
    /// Records the end of the request: end-to-end latency, queue time (if it ever ran), time per output token (if two
    /// or more tokens were reported), its finish reason, prefix-cache usage, and any generated tokens not reported
    /// through <see cref="Token"/>. Returns its usage (energy and cost included). Idempotent: later calls return the first result.
    /// </summary>
    /// <param name="reason">Why it finished.</param>
    /// <param name="generatedTokens">Tokens generated in total (GenerationResult.Tokens.Count).</param>
    /// <param name="cachedPromptTokens">Prompt tokens served from the prefix cache (GenerationResult.CachedTokens).</param>
    public RequestUsage Finished(FinishReason reason, int generatedTokens, int cachedPromptTokens = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(generatedTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(cachedPromptTokens);
        long now = _owner.Now;
        RequestUsage usage;
        int unreported;
        bool countPrompt;
        double? tpot = null;
        lock (_gate)
        {
            if (_final is RequestUsage done) return done;
            unreported = Math.Max(0, generatedTokens - _observedTokens);
            countPrompt = !_promptCounted && (_scheduled || generatedTokens > 0);
            _promptCounted |= countPrompt;
            if (_observedTokens >= 2) tpot = _owner.Seconds(_firstTokenAt, _lastTokenAt) / (_observedTokens - 1);
            usage = new RequestUsage(PromptTokens, Math.Max(generatedTokens, _observedTokens), Math.Min(cachedPromptTokens, PromptTokens), _joules,
                _owner.EnergyEstimated, _owner.HasPrice ? _costUsd : null,
                _observedTokens > 0 ? _owner.Seconds(_queuedAt, _firstTokenAt) : null,
                _scheduled ? _owner.Seconds(_queuedAt, Math.Max(_queuedAt, _scheduledAt)) : null,
                _owner.Seconds(_queuedAt, now));
            _final = usage;
        }
        _owner.OnFinished(this, reason, usage, unreported, countPrompt, tpot);
        return usage;
    }

    internal void Register(string model, int promptTokens, long queuedAt)
    {
        lock (_gate)
        {
            Model = model;
            PromptTokens = promptTokens;
            if (queuedAt < _queuedAt) _queuedAt = queuedAt;
        }
    }

    internal void AddStep(long stepStart, double joules, double costUsd)
    {
        lock (_gate)
        {
            if (_final != null) return;
            _joules += joules;
            _costUsd += costUsd;
            if (!_scheduled)
            {
                _scheduled = true;
                _scheduledAt = stepStart;
            }
        }
    }
}
