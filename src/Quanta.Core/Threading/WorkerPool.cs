using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Quanta.Core.Threading;

/// <summary>
/// A persistent pool for data-parallel loops over 1..N cores.
/// <list type="bullet">
/// <item>Threads are created once (ThreadCount − 1 workers; the calling thread is participant 0 and always works) and
/// reused. Idle workers spin briefly, then block on their own semaphore; Dispose wakes and joins them.</item>
/// <item>Indices are handed out in contiguous chunks through an atomic counter (dynamic scheduling):
/// <see cref="For{TBody}"/> sizes them guided: each take is the remaining count over twice the participants (at least
/// one index), so early chunks are large (few atomic steps) and the last ones single indices, and the participants
/// finish within about one index's work of each other; <see cref="ForChunked{TBody}"/> takes a fixed size from the
/// caller. Whichever participant is running takes the next chunk, so a worker that the OS has not
/// scheduled yet (or has preempted) delays the loop by at most the chunks it already holds. Every index runs exactly
/// once. The body is a struct implementing <see cref="IParallelBody"/>, invoked through a generic method specialized
/// per body type: no delegate, closure or per-call allocation.</item>
/// <item>Lifetime: the body lives on the caller's stack. A worker joins a loop only while the loop is open (one atomic
/// step that also names the loop's generation); the caller closes the loop once no chunk is left and returns only after
/// every worker that joined has finished, so no worker can read the body after the call returns.</item>
/// <item>If any iteration throws, the first exception is rethrown on the caller (original stack kept) after all
/// participants have stopped; no new chunks are handed out once an exception is seen.</item>
/// <item>A pool with ThreadCount 1 runs loops inline on the caller.</item>
/// <item>Reentrancy: a loop started from inside a body running on this pool (nested) runs inline, sequentially, on the
/// thread that started it. Loops started concurrently from unrelated threads are serialized (one runs at a time).</item>
/// </list>
/// </summary>
public sealed unsafe class WorkerPool : IDisposable
{
    private const int SpinIterations = 2000;
    private const long Closed = 1L << 31;

    [ThreadStatic] private static WorkerPool? t_current;

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private readonly object _callLock = new();

    // Current job (written by the caller before publishing _job; read by workers only after they joined).
    private delegate*<void*, int, int, void> _runRange;
    private void* _body;
    private int _count;
    private int _chunk;
    private volatile int _failed;
    private Exception? _error;
    private volatile bool _disposed;

    // Hot words, each on its own cache line: idle workers poll _job while participants hammer _next.
    private Shared _shared;

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 4 * 128)]
    private struct Shared
    {
        // generation << 16 | workers wanted: published with one atomic write
        [System.Runtime.InteropServices.FieldOffset(64)] public long Job;
        // (generation mod 2^31) << 32 | Closed | workers joined
        [System.Runtime.InteropServices.FieldOffset(192)] public long Join;
        // next index to hand out
        [System.Runtime.InteropServices.FieldOffset(320)] public int Next;
        // workers that joined and finished
        [System.Runtime.InteropServices.FieldOffset(448)] public int Done;
    }

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

    /// <summary>Runs body.Execute(i) for i in [0, count) in contiguous chunks handed out dynamically, each the remaining
    /// count over twice the participants (at least 1): large first, single indices at the end.</summary>
    public void For<TBody>(int count, TBody body) where TBody : struct, IParallelBody => Run(count, 0, ref body);

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
            // body lives on this caller's stack until every worker that joined has finished (see Close below).
            _body = Unsafe.AsPointer(ref body);
            _runRange = &RunRange<TBody>;
            _count = count;
            _chunk = chunk;
            int workers = (int)Math.Min(ThreadCount - 1, ((long)count + Math.Max(1, chunk) - 1) / Math.Max(1, chunk) - 1);
            _failed = 0;
            _error = null;
            Volatile.Write(ref _shared.Next, 0);
            Volatile.Write(ref _shared.Done, 0);
            long generation = (Volatile.Read(ref _shared.Job) >> 16) + 1;
            Interlocked.Exchange(ref _shared.Join, (generation & 0x7FFFFFFF) << 32);       // open, nobody joined
            Interlocked.Exchange(ref _shared.Job, (generation << 16) | (uint)workers);     // publish
            for (int w = 0; w < workers; w++)
                if (Interlocked.Exchange(ref _sleeping[w], 0) == 1) _wake[w].Release();

            WorkerPool? saved = t_current;
            t_current = this;
            try { Participate(); }
            finally { t_current = saved; }

            // No chunk is left: close the loop so late workers never touch it, then wait for those that joined.
            long join = Interlocked.Or(ref _shared.Join, Closed);
            int joined = (int)(join & 0xFFFF);
            var spin = new SpinWait();
            while (Volatile.Read(ref _shared.Done) != joined) spin.SpinOnce(sleep1Threshold: -1);

            _body = null;
            _runRange = null;
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

    private void Participate()
    {
        try
        {
            int count = _count, chunk = _chunk;
            if (chunk == 0)
            {
                // guided: take (remaining / 2·participants), at least 1, with one compare-and-swap
                int divisor = 2 * ThreadCount;
                while (_failed == 0)
                {
                    int start = Volatile.Read(ref _shared.Next);
                    if (start >= count) break;
                    int end = start + Math.Max(1, (count - start) / divisor);
                    if (Interlocked.CompareExchange(ref _shared.Next, end, start) != start) continue;
                    _runRange(_body, start, end);
                }
                return;
            }
            while (_failed == 0)
            {
                int start = Interlocked.Add(ref _shared.Next, chunk) - chunk;
                if (start >= count || start < 0) break;
                _runRange(_body, start, (int)Math.Min(count, (long)start + chunk));
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

    /// <summary>Joins loop <paramref name="generation"/> if it is still open.</summary>
    private bool TryJoin(long generation)
    {
        long j = Volatile.Read(ref _shared.Join);
        while ((j >> 32) == (generation & 0x7FFFFFFF) && (j & Closed) == 0)
        {
            long seen = Interlocked.CompareExchange(ref _shared.Join, j + 1, j);
            if (seen == j) return true;
            j = seen;
        }
        return false;
    }

    private void WorkerLoop(int w)
    {
        t_current = this;
        long seen = 0;
        while (true)
        {
            int spins = 0;
            while (Volatile.Read(ref _shared.Job) == seen && !_disposed)
            {
                if (++spins < SpinIterations) { Thread.SpinWait(20); continue; }
                Interlocked.Exchange(ref _sleeping[w], 1);
                if (Volatile.Read(ref _shared.Job) != seen || _disposed)
                {
                    // Raced with a wake-up: if the caller already claimed our flag it also released the semaphore.
                    if (Interlocked.Exchange(ref _sleeping[w], 0) == 0) _wake[w].Wait();
                    break;
                }
                _wake[w].Wait();
                spins = 0;
            }
            if (_disposed) return;
            seen = Volatile.Read(ref _shared.Job);
            if (w < (int)(seen & 0xFFFF) && TryJoin(seen >> 16))
            {
                Participate();
                Interlocked.Increment(ref _shared.Done);
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
