using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Quanta.Core.Threading;

/// <summary>
/// A persistent pool for data-parallel loops over 1..N cores.
/// <list type="bullet">
/// <item>Threads are created once (ThreadCount − 1 workers; the calling thread is participant 0) and reused. Idle workers
/// spin briefly, then block on their own semaphore; Dispose wakes and joins them.</item>
/// <item><see cref="For{TBody}"/> partitions [0, count) statically into contiguous ranges, one per participant;
/// <see cref="ForChunked{TBody}"/> hands out chunks of <c>chunkSize</c> indices through an atomic counter (dynamic
/// scheduling). Either way every index runs exactly once. The body is a struct implementing <see cref="IParallelBody"/>,
/// invoked through a generic method specialized per body type: no delegate, closure or per-call allocation.</item>
/// <item>If any iteration throws, the first exception is rethrown on the caller (original stack kept) after all
/// participants have stopped; chunked loops stop handing out new chunks once an exception is seen.</item>
/// <item>A pool with ThreadCount 1 runs loops inline on the caller.</item>
/// <item>Reentrancy: a loop started from inside a body running on this pool (nested) runs inline, sequentially, on the
/// thread that started it. Loops started concurrently from unrelated threads are serialized (one runs at a time).</item>
/// </list>
/// </summary>
public sealed unsafe class WorkerPool : IDisposable
{
    private const int SpinIterations = 2000;

    [ThreadStatic] private static WorkerPool? t_current;

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private readonly object _callLock = new();

    // Current job (written by the caller before publishing _job).
    private delegate*<void*, int, int, void> _runRange;
    private void* _body;
    private int _count;
    private int _chunk;          // 0: static partitioning
    private int _participants;
    private int _nextChunk;
    private volatile int _failed;
    private Exception? _error;
    private int _pending;
    // generation << 16 | participants, published with one atomic write so a lagging worker can never pair one
    // generation with another generation's participant count.
    private long _job;
    private volatile bool _disposed;

    /// <summary>Creates a pool of <paramref name="threadCount"/> participants (the caller included); default: processor count.</summary>
    public WorkerPool(int threadCount = 0)
    {
        if (threadCount <= 0) threadCount = Environment.ProcessorCount;
        if (threadCount > 0xFFFF) throw new ArgumentOutOfRangeException(nameof(threadCount));
        ThreadCount = threadCount;
        _threads = new Thread[threadCount - 1];
        _wake = new SemaphoreSlim[threadCount - 1];
        _sleeping = new int[threadCount - 1];
        for (int w = 0; w < _threads.Length; w++)
        {
            _wake[w] = new SemaphoreSlim(0);
            int id = w;
            _threads[w] = new Thread(() => WorkerLoop(id)) { IsBackground = true, Name = $"Quanta worker {w + 1}" };
            _threads[w].Start();
        }
    }

    /// <summary>Participants per loop, the calling thread included.</summary>
    public int ThreadCount { get; }

    /// <summary>Runs body.Execute(i) for i in [0, count), statically partitioned into contiguous ranges.</summary>
    public void For<TBody>(int count, TBody body) where TBody : struct, IParallelBody =>
        Run(count, 0, ref body);

    /// <summary>Runs body.Execute(i) for i in [0, count), handing out chunks of <paramref name="chunkSize"/> indices dynamically.</summary>
    public void ForChunked<TBody>(int count, int chunkSize, TBody body) where TBody : struct, IParallelBody
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        Run(count, chunkSize, ref body);
    }

    private void Run<TBody>(int count, int chunk, ref TBody body) where TBody : struct, IParallelBody
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0) return;
        if (_threads.Length == 0 || count == 1 || t_current == this)
        {
            for (int i = 0; i < count; i++) body.Execute(i);
            return;
        }
        lock (_callLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // body lives on this (blocked) caller's stack for the whole loop, so the pointer stays valid.
            _body = Unsafe.AsPointer(ref body);
            _runRange = &RunRange<TBody>;
            _count = count;
            _chunk = chunk;
            int participants = chunk == 0 ? Math.Min(ThreadCount, count) : Math.Min(ThreadCount, (count + chunk - 1) / chunk);
            _participants = participants;
            _nextChunk = 0;
            _failed = 0;
            _error = null;
            int workers = _participants - 1;
            Volatile.Write(ref _pending, workers);
            long job = Volatile.Read(ref _job);
            Interlocked.Exchange(ref _job, (((job >> 16) + 1) << 16) | (uint)participants);
            for (int w = 0; w < workers; w++)
                if (Interlocked.Exchange(ref _sleeping[w], 0) == 1) _wake[w].Release();

            WorkerPool? saved = t_current;
            t_current = this;
            try { Participate(0); }
            finally { t_current = saved; }

            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);

            _body = null;
            Exception? error = _error;
            _error = null;
            if (error != null) ExceptionDispatchInfo.Capture(error).Throw();
        }
    }

    private static void RunRange<TBody>(void* body, int start, int end) where TBody : struct, IParallelBody
    {
        ref TBody b = ref Unsafe.AsRef<TBody>(body);
        for (int i = start; i < end; i++) b.Execute(i);
    }

    private void Participate(int id)
    {
        try
        {
            if (_chunk == 0)
            {
                long n = _count, p = _participants;
                int start = (int)(n * id / p), end = (int)(n * (id + 1) / p);
                _runRange(_body, start, end);
            }
            else
            {
                while (_failed == 0)
                {
                    int start = Interlocked.Add(ref _nextChunk, _chunk) - _chunk;
                    if (start >= _count || start < 0) break;
                    _runRange(_body, start, Math.Min(_count, start + _chunk));
                }
            }
        }
#pragma warning disable CA1031 // the exception is captured and rethrown on the caller
        catch (Exception e)
#pragma warning restore CA1031
        {
            _failed = 1;
            Interlocked.CompareExchange(ref _error, e, null);
        }
    }

    private void WorkerLoop(int w)
    {
        t_current = this;
        long seen = 0;
        while (true)
        {
            int spins = 0;
            while (Volatile.Read(ref _job) == seen && !_disposed)
            {
                if (++spins < SpinIterations) { Thread.SpinWait(20); continue; }
                Interlocked.Exchange(ref _sleeping[w], 1);
                if (Volatile.Read(ref _job) != seen || _disposed)
                {
                    // Raced with a wake-up: if the caller already claimed our flag it also released the semaphore.
                    if (Interlocked.Exchange(ref _sleeping[w], 0) == 0) _wake[w].Wait();
                    break;
                }
                _wake[w].Wait();
                spins = 0;
            }
            if (_disposed) return;
            seen = Volatile.Read(ref _job);
            if (w + 1 < (int)(seen & 0xFFFF))
            {
                Participate(w + 1);
                Interlocked.Decrement(ref _pending);
            }
        }
    }

    /// <summary>Stops and joins the workers. Loops must not be running.</summary>
    public void Dispose()
    {
        lock (_callLock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        for (int w = 0; w < _threads.Length; w++)
            if (Interlocked.Exchange(ref _sleeping[w], 0) == 1) _wake[w].Release();
        foreach (var t in _threads) t.Join();
        foreach (var s in _wake) s.Dispose();
    }
}
