using Quanta.Engine.Execution;
using Quanta.Engine.KvCache;

namespace Quanta.Engine.Scheduling;

/// <summary>
/// Continuous-batching scheduler over a <see cref="PagedKvCache"/>: see <see cref="IScheduler"/> for the contract.
/// Waiting sequences sit in a set ordered by (priority, arrival); running ones in a list sorted the same way each step.
/// </summary>
public sealed class Scheduler : IScheduler
{
    private static readonly Comparer<Sequence> Order = Comparer<Sequence>.Create(static (a, b) =>
    {
        int c = a.Request.Priority.CompareTo(b.Request.Priority);
        return c != 0 ? c : a.Arrival.CompareTo(b.Arrival);
    });

    private readonly PagedKvCache _cache;
    private readonly SchedulerOptions _options;
    private readonly SortedSet<Sequence> _waiting = new(Order);
    private readonly List<Sequence> _running = [];
    private readonly Dictionary<long, Sequence> _live = [];
    private long _nextId = 1, _arrivals;

    /// <summary>Creates a scheduler placing sequences in <paramref name="cache"/>.</summary>
    public Scheduler(PagedKvCache cache, SchedulerOptions? options = null)
    {
        _cache = cache ?? throw new ArgumentNullException(nameof(cache));
        _options = options ?? new SchedulerOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxBatchTokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxRunning);
    }

    /// <summary>The options in force.</summary>
    public SchedulerOptions Options => _options;

    /// <summary>The KV cache.</summary>
    public PagedKvCache Cache => _cache;

    /// <inheritdoc/>
    public int WaitingCount => _waiting.Count;

    /// <inheritdoc/>
    public int RunningCount => _running.Count;

    /// <inheritdoc/>
    public bool HasUnfinished => _live.Count > 0;

    /// <summary>Unfinished sequences (waiting or running).</summary>
    public int LiveCount => _live.Count;

    /// <inheritdoc/>
    public Sequence Add(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        if (request.Prompt.Count >= _cache.MaxSequenceLength)
            throw new ArgumentException($"prompt of {request.Prompt.Count} tokens leaves no room in sequences of {_cache.MaxSequenceLength} positions", nameof(request));
        var s = new Sequence(_nextId++, _arrivals++, request) { Status = SequenceStatus.Waiting };
        _live.Add(s.Id, s);
        _waiting.Add(s);
        return s;
    }

    /// <inheritdoc/>
    public bool Cancel(long sequenceId)
    {
        if (!_live.TryGetValue(sequenceId, out Sequence? s)) return false;
        Finish(s, FinishReason.Cancelled);
        return true;
    }

    /// <inheritdoc/>
    public SchedulerOutput Schedule()
    {
        var work = new List<ScheduledWork>();
        var preempted = new List<Sequence>();
        var finished = new List<Sequence>();
        var scheduled = new HashSet<Sequence>();
        ExpireDeadlines(finished);
        _running.Sort(Order);
        int budget = _options.MaxBatchTokens;

        // (1) decodes, in priority order
        for (int i = 0; i < _running.Count && budget > 0; i++)
        {
            Sequence s = _running[i];
            if (s.TokenCount - s.ComputedTokens != 1 || s.GeneratedCount == 0) continue;
            if (!Reserve(s, s.ComputedTokens + 1, scheduled, preempted, allowSelf: true)) { i--; continue; }   // s preempted itself
            work.Add(new ScheduledWork(s, s.ComputedTokens, 1, NeedsLogits: true));
            scheduled.Add(s);
            budget--;
        }

        // (2) prefill chunks of running sequences
        for (int i = 0; i < _running.Count && budget > 0; i++)
        {
            Sequence s = _running[i];
            if (scheduled.Contains(s)) continue;
            int chunk = Math.Min(s.TokenCount - s.ComputedTokens, budget);
            if (!Reserve(s, s.ComputedTokens + chunk, scheduled, preempted, allowSelf: false))
            {
                if (work.Count == 0 && _running.Count == 1)
                {
                    // alone in the pool and still no room: this sequence can never run
                    Finish(s, FinishReason.Aborted);
                    finished.Add(s);
                    i--;
                }
                continue;
            }
            i = _running.IndexOf(s);   // preemptions may have shifted later entries only, but stay exact
            work.Add(new ScheduledWork(s, s.ComputedTokens, chunk, s.ComputedTokens + chunk == s.TokenCount));
            scheduled.Add(s);
            budget -= chunk;
        }

        // (3) admit waiting sequences in priority order
        while (budget > 0 && _running.Count < _options.MaxRunning && _waiting.Count > 0)
        {
            Sequence s = _waiting.Min!;
            if (preempted.Contains(s)) break;   // just gave up its blocks: not again in the same step
            if (s.Kv == null)
            {
                s.Kv = _cache.CreateSequence(s.Tokens, s.Request.UsePrefixCache);
                s.ComputedTokens = s.Kv.Length;
                if (!s.Admitted) s.CachedTokens = s.Kv.CachedTokens;
            }
            int chunk = Math.Min(s.TokenCount - s.ComputedTokens, budget);
            bool ok;
            while (!(ok = s.Kv.TryReserve(s.ComputedTokens + chunk)))
            {
                Sequence? victim = Victim(scheduled, exclude: null, worseThan: s.Request.Priority);
                if (victim == null) break;
                Preempt(victim, preempted);
            }
            if (!ok)
            {
                s.Kv.Dispose();
                s.Kv = null;
                s.ComputedTokens = 0;
                if (_running.Count == 0 && work.Count == 0)
                {
                    // the whole pool is free and the first chunk still does not fit
                    Finish(s, FinishReason.Aborted);
                    finished.Add(s);
                    continue;
                }
                break;
            }
            _waiting.Remove(s);
            s.Status = SequenceStatus.Running;
            s.Admitted = true;
            _running.Add(s);
            work.Add(new ScheduledWork(s, s.ComputedTokens, chunk, s.ComputedTokens + chunk == s.TokenCount));
            scheduled.Add(s);
            budget -= chunk;
        }
        return new SchedulerOutput(work, preempted, finished);
    }

    /// <inheritdoc/>
    public IReadOnlyList<SequenceEvent> Update(SchedulerOutput plan, ExecutionResult result)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(result);
        var events = new List<SequenceEvent>(plan.Work.Count);
        for (int i = 0; i < plan.Work.Count; i++)
        {
            ScheduledWork w = plan.Work[i];
            Sequence s = w.Sequence;
            if (s.Status != SequenceStatus.Running || s.ComputedTokens != w.StartPosition) continue;   // cancelled meanwhile
            s.Kv!.Commit(s.Tokens.Slice(w.StartPosition, w.Count));
            s.ComputedTokens += w.Count;
            if (!w.NeedsLogits) continue;
            int token = s.Request.Sampler(result.Logits(i));
            s.Append(token);
            FinishReason? reason = null;
            if (s.Request.StopTokens.Contains(token)) reason = FinishReason.Stop;
            else if (s.GeneratedCount >= s.Request.MaxNewTokens || s.TokenCount >= _cache.MaxSequenceLength) reason = FinishReason.Length;
            if (reason is { } r) Finish(s, r);
            events.Add(new SequenceEvent(s, token, reason));
        }
        return events;
    }

    /// <summary>
    /// Reserves blocks so <paramref name="s"/> can hold <paramref name="end"/> positions, preempting the worst running
    /// sequence not in the plan while the pool is short. With <paramref name="allowSelf"/>, s itself is preempted when
    /// no other victim remains (returns false); otherwise returns false leaving s as it was.
    /// </summary>
    private bool Reserve(Sequence s, int end, HashSet<Sequence> scheduled, List<Sequence> preempted, bool allowSelf)
    {
        while (!s.Kv!.TryReserve(end))
        {
            Sequence? victim = Victim(scheduled, exclude: s, worseThan: null);
            if (victim == null)
            {
                if (allowSelf) Preempt(s, preempted);
                return false;
            }
            Preempt(victim, preempted);
        }
        return true;
    }

    /// <summary>The last running sequence in (priority, arrival) order that is not planned, not excluded and (if given) of larger Priority.</summary>
    private Sequence? Victim(HashSet<Sequence> scheduled, Sequence? exclude, int? worseThan)
    {
        for (int i = _running.Count - 1; i >= 0; i--)
        {
            Sequence v = _running[i];
            if (v == exclude || scheduled.Contains(v)) continue;
            if (worseThan is { } p && v.Request.Priority <= p) return null;   // sorted: no worse one before this
            return v;
        }
        return null;
    }

    private void Preempt(Sequence s, List<Sequence> preempted)
    {
        s.Kv?.Dispose();
        s.Kv = null;
        s.ComputedTokens = 0;
        s.Preemptions++;
        s.Status = SequenceStatus.Waiting;
        _running.Remove(s);
        _waiting.Add(s);
        preempted.Add(s);
    }

    private void ExpireDeadlines(List<Sequence> finished)
    {
        DateTimeOffset now = _options.Time.GetUtcNow();
        List<Sequence>? expired = null;
        foreach (Sequence s in _live.Values)
            if (s.Request.Deadline is { } d && d <= now) (expired ??= []).Add(s);
        if (expired == null) return;
        foreach (Sequence s in expired)
        {
            Finish(s, FinishReason.Deadline);
            finished.Add(s);
        }
    }

    private void Finish(Sequence s, FinishReason reason)
    {
        if (s.Status == SequenceStatus.Finished) return;
        if (s.Status == SequenceStatus.Waiting) _waiting.Remove(s);
        else _running.Remove(s);
        s.Kv?.Dispose();
        s.Kv = null;
        s.Status = SequenceStatus.Finished;
        s.FinishReason = reason;
        _live.Remove(s.Id);
    }
}
