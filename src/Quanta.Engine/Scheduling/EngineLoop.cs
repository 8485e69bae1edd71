using System.Collections.Concurrent;
using Quanta.Engine.Execution;
using Quanta.Engine.Metrics;

namespace Quanta.Engine.Scheduling;

/// <summary>
/// Runs schedule → execute → sample → update on one dedicated thread. <see cref="Submit"/> and
/// <see cref="RequestHandle.Cancel"/> may be called from any thread: they enqueue commands the loop applies between
/// steps, so the scheduler, the KV cache and the executor are only ever touched by the loop thread. When no sequence
/// is left, the thread sleeps until a command arrives. If the executor throws, every unfinished request fails with
/// that exception (their blocks are freed) and the loop goes on. <see cref="Dispose"/> cancels what is left and joins
/// the thread.
/// <para>Handle ids (<see cref="RequestHandle.Id"/>) are unique in the process, not just per loop, so loops of several
/// models can report into one metrics recorder keyed by id.</para>
/// <para>An optional <see cref="IEngineLoopObserver"/> sees every step (see its contract for the order of calls).</para>
/// </summary>
public sealed class EngineLoop : IDisposable
{
    private readonly IScheduler _scheduler;
    private readonly IExecutor _executor;
    private readonly ConcurrentQueue<(RequestHandle Handle, bool Cancel)> _commands = new();
    private readonly Dictionary<long, RequestHandle> _bySequence = [];
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Thread _thread;
    private readonly IEngineLoopObserver? _observer;
    private StepShare[] _shares = new StepShare[16];   // [work items of the step], reused step to step
    private bool _idleReported = true;
    private static long s_nextId;   // process-wide: handle ids stay unique across the loops of several models sharing one metrics recorder
    private int _active;
    private volatile bool _stopping;

    /// <summary>Starts the loop thread; <paramref name="observer"/> (optional) is told about every step.</summary>
    public EngineLoop(IScheduler scheduler, IExecutor executor, IEngineLoopObserver? observer = null)
    {
        _scheduler = scheduler ?? throw new ArgumentNullException(nameof(scheduler));
        _executor = executor ?? throw new ArgumentNullException(nameof(executor));
        _observer = observer;
        _thread = new Thread(Run) { IsBackground = true, Name = "Quanta engine loop" };
        _thread.Start();
    }

    /// <summary>Steps executed so far.</summary>
    public long Steps { get; private set; }

    /// <summary>Requests the loop holds (accepted by the scheduler, not yet completed); 0 when idle. Readable from any thread.</summary>
    public int ActiveRequests => Volatile.Read(ref _active);

    /// <summary>
    /// Queues <paramref name="request"/>; cancelling <paramref name="cancellationToken"/> cancels it.
    /// <paramref name="beforeQueued"/> (optional) runs on the calling thread with the new handle before the loop can
    /// see it, so whatever it sets up (metrics keyed by <see cref="RequestHandle.Id"/>, state a
    /// <see cref="GenerationRequest.Observer"/> reads) is in place before the first token.
    /// </summary>
    public RequestHandle Submit(GenerationRequest request, CancellationToken cancellationToken = default, Action<RequestHandle>? beforeQueued = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        ObjectDisposedException.ThrowIf(_stopping, this);
        var h = new RequestHandle(Interlocked.Increment(ref s_nextId), request, Enqueue);
        beforeQueued?.Invoke(h);
        _commands.Enqueue((h, false));
        _signal.Release();
        if (cancellationToken.CanBeCanceled)
        {
            CancellationTokenRegistration reg = cancellationToken.Register(static o => ((RequestHandle)o!).Cancel(), h);
            h.Completion.ContinueWith(_ => reg.Dispose(), TaskScheduler.Default);
        }
        return h;
    }

    /// <summary>Stops the loop: unfinished requests complete as cancelled.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _signal.Release();
        _thread.Join();
        _signal.Dispose();
    }

    private void Enqueue(RequestHandle h)
    {
        if (_stopping || h.Completion.IsCompleted) return;
        _commands.Enqueue((h, true));
        try { _signal.Release(); } catch (ObjectDisposedException) { }
    }

    private void Run()
    {
        while (true)
        {
            ApplyCommands();
            if (_stopping) break;
            if (!_scheduler.HasUnfinished)
            {
                if (!_idleReported)
                {
                    _idleReported = true;
                    _observer?.StateChanged(_scheduler.RunningCount, _scheduler.WaitingCount, 0);
                }
                _signal.Wait();
                continue;
            }
            _idleReported = false;
            SchedulerOutput plan = _scheduler.Schedule();
            foreach (Sequence s in plan.Finished) Complete(s);
            if (plan.IsEmpty)
            {
                _signal.Wait(1);   // nothing fits now (e.g. all blocked): wait for a command or retry shortly
                continue;
            }
            bool executed = false;
            try
            {
                ExecutionBatch batch = plan.ToBatch();
                _observer?.StepStarting();
                ExecutionResult result = _executor.Execute(batch);
                executed = true;
                Steps++;
                if (_observer is not null) _observer.StepExecuted(Shares(plan));
                foreach (SequenceEvent e in _scheduler.Update(plan, result))
                {
                    RequestHandle h = _bySequence[e.Sequence.Id];
                    if (e.Token >= 0) h.Emit(e.Token);
                    if (e.Finish != null) Complete(e.Sequence);
                }
                _observer?.StateChanged(_scheduler.RunningCount, _scheduler.WaitingCount, plan.Preempted.Count);
            }
#pragma warning disable CA1031 // the loop must survive any executor or sampler failure and report it to the requests
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (!executed) _observer?.StepFailed();
                foreach (RequestHandle h in _bySequence.Values.ToArray())
                {
                    _scheduler.Cancel(h.Sequence!.Id);
                    _bySequence.Remove(h.Sequence.Id);
                    Volatile.Write(ref _active, _bySequence.Count);
                    h.Fail(ex);
                }
            }
        }
        // shutdown: cancel everything left
        ApplyCommands();
        foreach (RequestHandle h in _bySequence.Values.ToArray())
        {
            _scheduler.Cancel(h.Sequence!.Id);
            Complete(h.Sequence);
        }
    }

    private void ApplyCommands()
    {
        while (_commands.TryDequeue(out var c))
        {
            RequestHandle h = c.Handle;
            if (!c.Cancel)
            {
                if (_stopping) { h.Complete(FinishReason.Cancelled, 0, 0); continue; }
                try
                {
                    h.Sequence = _scheduler.Add(h.Request);
                    _bySequence.Add(h.Sequence.Id, h);
                    Volatile.Write(ref _active, _bySequence.Count);
                }
                catch (ArgumentException ex) { h.Fail(ex); }
            }
            else if (h.Sequence != null && _scheduler.Cancel(h.Sequence.Id))
            {
                Complete(h.Sequence);
            }
        }
    }

    private void Complete(Sequence s)
    {
        if (!_bySequence.Remove(s.Id, out RequestHandle? h)) return;
        Volatile.Write(ref _active, _bySequence.Count);
        h.Complete(s.FinishReason ?? FinishReason.Cancelled, s.CachedTokens, s.Preemptions);
    }

    // (handle id, tokens) per work item, in a buffer reused from step to step
    private ReadOnlySpan<StepShare> Shares(SchedulerOutput plan)
    {
        int n = plan.Work.Count;
        if (_shares.Length < n) _shares = new StepShare[Math.Max(n, _shares.Length * 2)];
        for (int i = 0; i < n; i++)
        {
            ScheduledWork w = plan.Work[i];
            _shares[i] = new StepShare(_bySequence[w.Sequence.Id].Id, w.Count);
        }
        return _shares.AsSpan(0, n);
    }
}
