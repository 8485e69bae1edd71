namespace Quanta.Engine.Tensor;

/// <summary>
/// Queues requests for one <see cref="ITensorModel"/> and runs them in batches, as Triton's dynamic batcher does.
/// <para>Forming a batch (whenever fewer than <see cref="DynamicBatcherOptions.MaxConcurrency"/> batches run): take the
/// oldest queued request and, in arrival order, every queued request with the same <see cref="ITensorModel.BatchKey"/>
/// while the rows fit the largest batch (the largest preferred size, else the model's max batch size). The batch is
/// sent at once when it reaches that size; else, when a prefix of it sums to a preferred size, the longest such prefix
/// is sent at once; else it is sent whole when the oldest request has waited
/// <see cref="DynamicBatcherOptions.MaxQueueDelayMicroseconds"/>, and until then the batcher waits for more requests.
/// A model with max batch size 0 gets one request per run.</para>
/// <para>A request finding <see cref="DynamicBatcherOptions.MaxQueueSize"/> requests queued is rejected at once with
/// <see cref="TensorQueueFullException"/>. Cancelling a queued request removes it from the queue; cancelling one whose
/// batch runs ends the caller's wait (the batch finishes for the others). Each request's task gets exactly its own outputs.</para>
/// </summary>
public sealed class DynamicBatcher : IAsyncDisposable
{
    private readonly DynamicBatcherOptions _options;
    private readonly LinkedList<Pending> _queue = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly int _maxRows;
    private readonly int[] _preferred;
    private int _inFlight;
    private long _batches;

    /// <summary>Starts the batcher's scheduling loop for <paramref name="model"/>.</summary>
    public DynamicBatcher(ITensorModel model, DynamicBatcherOptions? options = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        _options = options ?? new DynamicBatcherOptions();
        _options.Validate();
        int modelMax = Math.Max(model.MaxBatchSize, 0);
        _preferred = _options.PreferredBatchSizes.Where(s => modelMax == 0 || s <= modelMax).Distinct().Order().ToArray();
        _maxRows = modelMax == 0 ? 0 : _preferred.Length > 0 ? _preferred[^1] : modelMax;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The model.</summary>
    public ITensorModel Model { get; }
    /// <summary>Requests waiting in the queue.</summary>
    public int QueueLength { get { lock (_gate) return _queue.Count; } }
    /// <summary>Batches running now.</summary>
    public int InFlightBatches => Volatile.Read(ref _inFlight);
    /// <summary>Batches started so far.</summary>
    public long BatchesStarted => Interlocked.Read(ref _batches);

    /// <summary>
    /// Validates, prepares (<see cref="IPreparingTensorModel"/>) and queues <paramref name="request"/>; the task ends with its outputs. Throws at once
    /// <see cref="TensorRequestException"/> for a request that does not fit the model and
    /// <see cref="TensorQueueFullException"/> when the queue is full.
    /// </summary>
    public Task<IReadOnlyList<InferenceTensor>> InferAsync(InferenceRequest request, CancellationToken cancellationToken = default)
    {
        TensorValidation.Validate(Model, request);
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (Model is IPreparingTensorModel preparing) request = preparing.Prepare(request);
        var p = new Pending(request, Model.BatchKey(request), request.BatchRows(Model), _options.TimeProvider.GetTimestamp());
        lock (_gate)
        {
            if (_queue.Count >= _options.MaxQueueSize)
                throw new TensorQueueFullException($"the queue of model '{Model.Name}' is full ({_options.MaxQueueSize} requests waiting)");
            p.Node = _queue.AddLast(p);
        }
        if (cancellationToken.CanBeCanceled)
            p.Registration = cancellationToken.Register(static s =>
            {
                var (b, q, t) = ((DynamicBatcher, Pending, CancellationToken))s!;
                b.Cancel(q, t);
            }, (this, p, cancellationToken));
        _wake.Release();
        return p.Completion.Task;
    }

    private void Cancel(Pending p, CancellationToken token)
    {
        bool removed = false;
        lock (_gate)
        {
            if (p.Node?.List is not null)
            {
                _queue.Remove(p.Node);
                removed = true;
            }
        }
        p.Completion.TrySetCanceled(token);
        if (removed) _wake.Release();
    }

    private async Task LoopAsync()
    {
        var time = _options.TimeProvider;
        while (!_stop.IsCancellationRequested)
        {
            List<Pending>? batch = null;
            long waitUntil = -1;
            lock (_gate)
            {
                if (_queue.Count > 0 && _inFlight < _options.MaxConcurrency)
                    batch = Form(time.GetTimestamp(), out waitUntil);
                if (batch is not null) _inFlight++;
            }
            if (batch is not null)
            {
                Interlocked.Increment(ref _batches);
                _ = Task.Run(() => Execute(batch));
                continue;
            }
            ITimer? timer = null;
            if (waitUntil >= 0)
            {
                long now = time.GetTimestamp();
                if (now >= waitUntil) continue;
                var due = TimeSpan.FromSeconds((double)(waitUntil - now) / time.TimestampFrequency);
                timer = time.CreateTimer(static s => ((SemaphoreSlim)s!).Release(), _wake, due, Timeout.InfiniteTimeSpan);
                // the clock may have passed the deadline while the timer was made (manual clocks in tests): look again
                if (time.GetTimestamp() >= waitUntil)
                {
                    timer.Dispose();
                    continue;
                }
            }
            try
            {
                await _wake.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            finally
            {
                if (timer is not null) await timer.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    // Under _gate. The batch to run now (removed from the queue), or null with the timestamp to look again at (-1: on the next arrival).
    private List<Pending>? Form(long now, out long waitUntil)
    {
        waitUntil = -1;
        var oldest = _queue.First!.Value;
        var picked = new List<Pending> { oldest };
        if (_maxRows == 0) return Take(picked);
        int rows = oldest.Rows;
        int bestPrefix = Array.IndexOf(_preferred, rows) >= 0 ? 1 : 0;
        for (var n = _queue.First.Next; n is not null && rows < _maxRows; n = n.Next)
        {
            if (n.Value.Key != oldest.Key || rows + n.Value.Rows > _maxRows) continue;
            picked.Add(n.Value);
            rows += n.Value.Rows;
            if (Array.IndexOf(_preferred, rows) >= 0) bestPrefix = picked.Count;
        }
        if (rows >= _maxRows) return Take(picked);
        if (bestPrefix > 0) return Take(picked.GetRange(0, bestPrefix));
        long delayTicks = (long)(_options.MaxQueueDelayMicroseconds * (_options.TimeProvider.TimestampFrequency / 1e6));
        long deadline = oldest.Enqueued + delayTicks;
        if (now >= deadline) return Take(picked);
        waitUntil = deadline;
        return null;
    }

    private List<Pending> Take(List<Pending> picked)
    {
        foreach (var p in picked)
        {
            _queue.Remove(p.Node!);
            p.Node = null;
        }
        return picked;
    }

    private void Execute(List<Pending> batch)
    {
        try
        {
            var live = batch.Where(p => !p.Completion.Task.IsCompleted).ToList();
            if (live.Count == 0) return;
            IReadOnlyList<IReadOnlyList<InferenceTensor>> outputs;
            try
            {
                outputs = Model.Run(live.Select(p => p.Request).ToArray());
                if (outputs.Count != live.Count) throw new InvalidOperationException($"model '{Model.Name}' returned {outputs.Count} results for {live.Count} requests");
            }
#pragma warning disable CA1031 // the model's failure belongs to every request of the batch
            catch (Exception e)
#pragma warning restore CA1031
            {
                foreach (var p in live) p.Completion.TrySetException(e);
                return;
            }
            for (int i = 0; i < live.Count; i++) live[i].Completion.TrySetResult(outputs[i]);
        }
        finally
        {
            foreach (var p in batch) p.Registration.Dispose();
            lock (_gate) _inFlight--;
            _wake.Release();
        }
    }

    /// <summary>Stops scheduling; requests still queued end cancelled. Running batches finish.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        List<Pending> left;
        lock (_gate)
        {
            left = [.. _queue];
            _queue.Clear();
        }
        foreach (var p in left)
        {
            p.Registration.Dispose();
            p.Completion.TrySetCanceled();
        }
        _stop.Dispose();
    }

    private sealed class Pending(InferenceRequest request, string key, int rows, long enqueued)
    {
        public InferenceRequest Request { get; } = request;
        public string Key { get; } = key;
        public int Rows { get; } = rows;
        public long Enqueued { get; } = enqueued;
        public LinkedListNode<Pending>? Node { get; set; }
        public CancellationTokenRegistration Registration { get; set; }
        public TaskCompletionSource<IReadOnlyList<InferenceTensor>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
