namespace Quanta.Engine.KvCache;

/// <summary>
/// Bookkeeping of a paged KV cache's physical blocks (the storage itself lives in <see cref="PagedKvCache"/>).
/// <para>Blocks are numbered 0..<see cref="NumBlocks"/>−1; block 0 is the reserved null block: it is never handed out,
/// never freed and never cached (block tables may point at it as "no block"). Every other block has a reference count
/// (how many sequences use it) and, once it is full and registered, a prefix hash (see <see cref="ChainHash"/>) plus the
/// block's token ids.</para>
/// <para>Free list: blocks with reference count 0 sit in one queue in eviction order — <see cref="TryAllocate"/> takes
/// from the front (least recently freed), <see cref="Release"/> appends at the back. A free block that still carries a
/// prefix hash is "cached": <see cref="TryFindCached"/> can revive it (taking it out of the queue) until it reaches the
/// front and is handed out again, which evicts it (its hash is dropped). So cached blocks are evicted LRU.</para>
/// <para>Prefix map: hash → block, one block per hash (the first registered); lookups also compare the stored token ids,
/// so a 64-bit hash collision can never hand out the wrong contents.</para>
/// <para>Thread safety: every public member takes one lock, so a pool may be shared by the engine thread and threads
/// that dispose sequences (e.g. on cancellation).</para>
/// </summary>
public sealed class BlockPool
{
    /// <summary>The reserved block id that is never allocated.</summary>
    public const int NullBlock = 0;

    private const int None = -1;

    private readonly object _gate = new();
    private readonly int[] _refCount;     // [NumBlocks]
    private readonly int[] _prev, _next;  // [NumBlocks] free-queue links (None at the ends / when not queued)
    private readonly bool[] _queued;      // [NumBlocks] in the free queue
    private readonly bool[] _hashed;      // [NumBlocks] carries a prefix hash (registered in _prefix)
    private readonly ulong[] _hash;       // [NumBlocks] prefix hash when _hashed
    private readonly int[] _tokens;       // [NumBlocks, BlockSize] token ids of hashed blocks
    private readonly Dictionary<ulong, int> _prefix = [];
    private int _head = None, _tail = None, _freeCount;

    /// <summary>Creates a pool of <paramref name="numBlocks"/> blocks (block 0 reserved) of <paramref name="blockSize"/> positions.</summary>
    public BlockPool(int numBlocks, int blockSize)
    {
        if (numBlocks < 2) throw new ArgumentOutOfRangeException(nameof(numBlocks), numBlocks, "need the null block and at least one more");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        NumBlocks = numBlocks;
        BlockSize = blockSize;
        _refCount = new int[numBlocks];
        _prev = new int[numBlocks];
        _next = new int[numBlocks];
        _queued = new bool[numBlocks];
        _hashed = new bool[numBlocks];
        _hash = new ulong[numBlocks];
        _tokens = new int[checked(numBlocks * blockSize)];
        Array.Fill(_prev, None);
        Array.Fill(_next, None);
        for (int b = 1; b < numBlocks; b++) Enqueue(b);
    }

    /// <summary>Physical blocks, the null block included.</summary>
    public int NumBlocks { get; }

    /// <summary>Positions per block.</summary>
    public int BlockSize { get; }

    /// <summary>Blocks that can be handed out now (reference count 0, cached or not).</summary>
    public int FreeBlocks { get { lock (_gate) return _freeCount; } }

    /// <summary>Blocks referenced by at least one sequence.</summary>
    public int UsedBlocks { get { lock (_gate) return NumBlocks - 1 - _freeCount; } }

    /// <summary>Blocks that carry a prefix hash (referenced or free).</summary>
    public int CachedBlocks { get { lock (_gate) return _prefix.Count; } }

    /// <summary>Reference count of <paramref name="block"/>.</summary>
    public int RefCount(int block) { lock (_gate) return _refCount[Check(block)]; }

    /// <summary>True when <paramref name="block"/> carries a prefix hash.</summary>
    public bool IsCached(int block) { lock (_gate) return _hashed[Check(block)]; }

    /// <summary>
    /// Hands out <paramref name="destination"/>.Length blocks with reference count 1, all or nothing: false (and
    /// nothing taken) when fewer are free. Blocks come from the front of the free queue; a cached one is evicted.
    /// </summary>
    public bool TryAllocate(Span<int> destination)
    {
        lock (_gate)
        {
            if (destination.Length > _freeCount) return false;
            for (int i = 0; i < destination.Length; i++)
            {
                int b = _head;
                Dequeue(b);
                if (_hashed[b]) Unregister(b);
                _refCount[b] = 1;
                destination[i] = b;
            }
            return true;
        }
    }

    /// <summary>Adds a reference to a block in use (sharing it with one more sequence).</summary>
    public void Retain(int block)
    {
        lock (_gate)
        {
            Check(block);
            if (_refCount[block] == 0) throw new InvalidOperationException($"block {block} is free; revive cached blocks with TryFindCached");
            _refCount[block]++;
        }
    }

    /// <summary>
    /// Drops one reference from each block, in reverse order (so that a sequence's tail blocks, the least likely to be
    /// shared, are evicted first). A block whose count reaches 0 joins the back of the free queue, keeping its hash.
    /// </summary>
    public void Release(ReadOnlySpan<int> blocks)
    {
        lock (_gate)
        {
            for (int i = blocks.Length - 1; i >= 0; i--)
            {
                int b = Check(blocks[i]);
                if (_refCount[b] <= 0) throw new InvalidOperationException($"block {b} released more often than referenced");
                if (--_refCount[b] == 0) Enqueue(b);
            }
        }
    }

    /// <summary>
    /// Looks up a full block by its chained hash and token ids. On a hit the block gains a reference (a free cached
    /// block leaves the free queue) and is returned.
    /// </summary>
    public bool TryFindCached(ulong hash, ReadOnlySpan<int> tokens, out int block)
    {
        if (tokens.Length != BlockSize) throw new ArgumentException($"a full block has {BlockSize} tokens", nameof(tokens));
        lock (_gate)
        {
            if (_prefix.TryGetValue(hash, out block) && tokens.SequenceEqual(_tokens.AsSpan(block * BlockSize, BlockSize)))
            {
                if (_refCount[block]++ == 0) Dequeue(block);
                return true;
            }
            block = None;
            return false;
        }
    }

    /// <summary>
    /// Registers a block that has just become full (and is referenced) under <paramref name="hash"/> with its token
    /// ids. Returns false, changing nothing, when another block already holds that hash (the first one stays the
    /// cached copy) or this block is already registered.
    /// </summary>
    public bool Register(int block, ulong hash, ReadOnlySpan<int> tokens)
    {
        if (tokens.Length != BlockSize) throw new ArgumentException($"a full block has {BlockSize} tokens", nameof(tokens));
        lock (_gate)
        {
            Check(block);
            if (_refCount[block] == 0) throw new InvalidOperationException($"block {block} is free");
            if (_hashed[block] || _prefix.ContainsKey(hash)) return false;
            _prefix.Add(hash, block);
            _hashed[block] = true;
            _hash[block] = hash;
            tokens.CopyTo(_tokens.AsSpan(block * BlockSize, BlockSize));
            return true;
        }
    }

    /// <summary>Free block ids from the front (next evicted) to the back of the queue (for tests and diagnostics).</summary>
    public int[] FreeQueueSnapshot()
    {
        lock (_gate)
        {
            var r = new int[_freeCount];
            for (int b = _head, i = 0; b != None; b = _next[b]) r[i++] = b;
            return r;
        }
    }

    /// <summary>Drops every free block's hash (the prefix cache forgets everything not in use).</summary>
    public void ResetPrefixCache()
    {
        lock (_gate)
            for (int b = _head; b != None; b = _next[b])
                if (_hashed[b]) Unregister(b);
    }

    /// <summary>
    /// Hash of a full block chained with its predecessor's: FNV-1a style mixing of <paramref name="parent"/> (0 for
    /// the first block) and each token id, finished with the SplitMix64 avalanche. Equal prefixes give equal chains.
    /// </summary>
    public static ulong ChainHash(ulong parent, ReadOnlySpan<int> tokens)
    {
        ulong h = 0xcbf29ce484222325UL ^ parent;
        foreach (int t in tokens)
            h = (h ^ (uint)t) * 0x100000001b3UL;
        h ^= (ulong)tokens.Length;
        h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9UL;
        h = (h ^ (h >> 27)) * 0x94d049bb133111ebUL;
        return h ^ (h >> 31);
    }

    private int Check(int block)
    {
        if (block <= NullBlock || block >= NumBlocks) throw new ArgumentOutOfRangeException(nameof(block), block, "not an allocatable block id");
        return block;
    }

    private void Unregister(int b)
    {
        _prefix.Remove(_hash[b]);
        _hashed[b] = false;
    }

    private void Enqueue(int b)
    {
        _prev[b] = _tail;
        _next[b] = None;
        if (_tail != None) _next[_tail] = b; else _head = b;
        _tail = b;
        _queued[b] = true;
        _freeCount++;
    }

    private void Dequeue(int b)
    {
        if (!_queued[b]) throw new InvalidOperationException($"block {b} is not free");
        int p = _prev[b], n = _next[b];
        if (p != None) _next[p] = n; else _head = n;
        if (n != None) _prev[n] = p; else _tail = p;
        _prev[b] = _next[b] = None;
        _queued[b] = false;
        _freeCount--;
    }
}
