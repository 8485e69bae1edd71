using System.Collections.Concurrent;
using Quanta.Engine.Execution;

namespace Quanta.Engine.Scheduling;

/// <summary>
/// Runs schedule → execute → sample → update on one dedicated thread. <see cref="Submit"/> and
/// <see cref="RequestHandle.Cancel"/> may be called from any thread: they enqueue commands the loop applies between
/// steps, so the scheduler, the KV cache and the executor are only ever touched by the loop thread. When no sequence
/// is left, the thread sleeps until a command arrives. If the executor throws, every unfinished request fails with
/// that exception (their blocks are freed) and the loop goes on. <see cref="Dispose"/> cancels what is left and joins
/// the thread.
/// </summary>
public sealed class EngineLoop : IDisposable
{
    private readonly IScheduler _scheduler;
    private readonly IExecutor _executor;
    private readonly ConcurrentQueue<(RequestHandle Handle, bool Cancel)> _commands = new();
    private readonly Dictionary<long, RequestHandle> _bySequence = [];
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Thread _thread;
    private long _nextId;
    private volatile bool _stopping;

    /// <summary>Starts the loop thread.</summary>
    public EngineLoop(IScheduler scheduler, IExecutor executor)
    {
        _scheduler = scheduler ?? throw new ArgumentNullException(nameof(scheduler));
        _executor = executor ?? throw new ArgumentNullException(nameof(executor));
        _thread = new Thread(Run) { IsBackground = true, Name = "Quanta engine loop" };
        _thread.Start();
    }

    /// <summary>Steps executed so far.</summary>
    public long Steps { get; private set; }

    /// <summary>Queues <paramref name="request"/>; cancelling <paramref name="cancellationToken"/> cancels it.</summary>
    public RequestHandle Submit(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        ObjectDisposedException.ThrowIf(_stopping, this);
        var h = new RequestHandle(Interlocked.Increment(ref _nextId), request, Enqueue);
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
                _signal.Wait();
                continue;
            }
            SchedulerOutput plan = _scheduler.Schedule();
            foreach (Sequence s in plan.Finished) Complete(s);
            if (plan.IsEmpty)
            {
                _signal.Wait(1);   // nothing fits now (e.g. all blocked): wait for a command or retry shortly
                continue;
            }
            try
            {
                ExecutionResult result = _executor.Execute(plan.ToBatch());
                Steps++;
                foreach (SequenceEvent e in _scheduler.Update(plan, result))
                {
                    RequestHandle h = _bySequence[e.Sequence.Id];
                    if (e.Token >= 0) h.Emit(e.Token);
                    if (e.Finish != null) Complete(e.Sequence);
                }
            }
#pragma warning disable CA1031 // the loop must survive any executor or sampler failure and report it to the requests
            catch (Exception ex)
#pragma warning restore CA1031
            {
                foreach (RequestHandle h in _bySequence.Values.ToArray())
                {
                    _scheduler.Cancel(h.Sequence!.Id);
                    _bySequence.Remove(h.Sequence.Id);
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
        h.Complete(s.FinishReason ?? FinishReason.Cancelled, s.CachedTokens, s.Preemptions);
    }
}
