using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Quanta.Core.Threading;

/// <summary>
/// A persistent pool for data-parallel loops over 1..N cores.
/// <list type="bullet">
/// <item>Threads are created once (ThreadCount − 1 workers; the calling thread is participant 0 and always works) and
/// reused. Idle workers spin briefly, then block on their own semaphore; Dispose wakes and joins them.</item>
/// <item><see cref="For{TBody}"/> gives each participant its own contiguous share of the indices (participant p of P:
/// [p·count/P, (p+1)·count/P)), held in a (front, back) word on that participant's own cache line. The owner takes
/// chunks of a quarter of what is left from the front (at least one index); a participant whose share is empty takes
/// half of what is left of another's from the back. So in a balanced loop each participant touches only its own line
/// (no cache line bounces between cores per chunk) and runs the same indices on every call with the same count (the
/// output lines of those rows are written by the same core every time), while a worker that the OS has not scheduled yet (or has
/// preempted) delays the loop by at most the chunk it holds: the rest of its share is taken by the others.
/// <see cref="ForChunked{TBody}"/> hands out chunks of a fixed size from one shared atomic counter. Every index runs
/// exactly once. The body is a struct implementing <see cref="IParallelBody"/>, invoked through a generic method specialized
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
    // For: participant p's share as (back << 32 | front) at _shares[(p + 1) · ShareStride], 128 bytes apart (own lines)
    private readonly long[] _shares;
    private const int ShareStride = 16;

    // Current job (written by the caller before publishing _job; read by workers only after they joined).
    private delegate*<void*, int, int, void> _runRange;
    private void* _body;
    private int _count;
    private int _chunk;
    private int _participants;
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
        _shares = new long[(threadCount + 1) * ShareStride];
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

    /// <summary>Runs body.Execute(i) for i in [0, count): each participant runs chunks of its own contiguous share first
    /// (a quarter of what is left of it, at least 1), then takes halves of what is left of the others' shares.</summary>
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
            int participants = workers + 1;
            _participants = participants;
            if (chunk == 0)
                for (int p = 0; p < participants; p++)
                {
                    long front = (long)count * p / participants, back = (long)count * (p + 1) / participants;
                    Volatile.Write(ref _shares[(p + 1) * ShareStride], back << 32 | front);
                }
            Volatile.Write(ref _shared.Next, 0);
            Volatile.Write(ref _shared.Done, 0);
            long generation = (Volatile.Read(ref _shared.Job) >> 16) + 1;
            Interlocked.Exchange(ref _shared.Join, (generation & 0x7FFFFFFF) << 32);       // open, nobody joined
            Interlocked.Exchange(ref _shared.Job, (generation << 16) | (uint)workers);     // publish
            for (int w = 0; w < workers; w++)
                if (Interlocked.Exchange(ref _sleeping[w], 0) == 1) _wake[w].Release();

            WorkerPool? saved = t_current;
            t_current = this;
            try { Participate(0); }
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

    /// <summary>Runs chunks of the current loop as participant <paramref name="self"/> (0: the caller, w + 1: worker w).</summary>
    private void Participate(int self)
    {
        try
        {
            int count = _count, chunk = _chunk;
            if (chunk == 0)
            {
                // own share from the front, a quarter of what is left per take
                ref long own = ref _shares[(self + 1) * ShareStride];
                while (_failed == 0)
                {
                    long v = Volatile.Read(ref own);
                    int front = (int)v, back = (int)(v >> 32);
                    if (front >= back) break;
                    int end = front + Math.Max(1, (back - front) >> 2);
                    if (Interlocked.CompareExchange(ref own, v + (end - front), v) != v) continue;
                    _runRange(_body, front, end);
                }
                // then the others' shares from the back, half of what is left per take
                int participants = _participants;
                for (int k = 1; k < participants && _failed == 0; k++)
                {
                    int victim = self + k;
                    if (victim >= participants) victim -= participants;
                    ref long other = ref _shares[(victim + 1) * ShareStride];
                    while (_failed == 0)
                    {
                        long v = Volatile.Read(ref other);
                        int front = (int)v, back = (int)(v >> 32);
                        if (front >= back) break;
                        int start = back - Math.Max(1, (back - front) >> 1);
                        if (Interlocked.CompareExchange(ref other, (long)start << 32 | (uint)front, v) != v) continue;
                        _runRange(_body, start, back);
                    }
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
                Participate(w + 1);
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
