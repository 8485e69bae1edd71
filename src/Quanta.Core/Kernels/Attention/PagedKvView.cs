namespace Quanta.Core.Kernels.Attention;

/// <summary>
/// A paged KV cache view: a pool of physical blocks, each [BlockSize, KvHeads, HeadDim] (position-major, the default)
/// or [KvHeads, BlockSize, HeadDim] (head-major: one head's rows of a block are contiguous, so attention, which reads
/// one head at a time, streams them), for keys and for values (pool arrays are [numBlocks, block]);
/// <c>blockTable[b]</c> is the physical block that holds logical block b (positions [b·BlockSize, (b+1)·BlockSize)).
/// Length positions are valid; the table must cover them.
/// </summary>
public readonly struct PagedKvView<T> : IKvView<T> where T : unmanaged
{
    private readonly T[] _keyPool;
    private readonly T[] _valuePool;
    private readonly float[]? _keyScales;
    private readonly float[]? _valueScales;
    private readonly int[] _blockTable;
    private readonly int _blockElems;

    /// <summary>Creates a view over the pools and the sequence's block table.</summary>
    public PagedKvView(T[] keyPool, T[] valuePool, int[] blockTable, int blockSize, int length, int kvHeads, int headDim)
        : this(keyPool, valuePool, blockTable, blockSize, length, kvHeads, headDim, headMajor: false)
    {
    }

    /// <summary>Creates a view over the pools and the sequence's block table, blocks head-major when <paramref name="headMajor"/>.</summary>
    public PagedKvView(T[] keyPool, T[] valuePool, int[] blockTable, int blockSize, int length, int kvHeads, int headDim, bool headMajor)
    {
        ArgumentNullException.ThrowIfNull(keyPool);
        ArgumentNullException.ThrowIfNull(valuePool);
        ArgumentNullException.ThrowIfNull(blockTable);
        if (blockSize <= 0 || kvHeads <= 0 || headDim <= 0) throw new ArgumentOutOfRangeException(nameof(blockSize));
        _blockElems = blockSize * kvHeads * headDim;
        if (keyPool.Length != valuePool.Length || keyPool.Length % _blockElems != 0)
            throw new ArgumentException("Pools must both be [numBlocks, blockSize, kvHeads, headDim].");
        if (length < 0 || (long)blockTable.Length * blockSize < length) throw new ArgumentOutOfRangeException(nameof(length), "Block table does not cover length.");
        int numBlocks = keyPool.Length / _blockElems;
        int used = (length + blockSize - 1) / blockSize;
        for (int b = 0; b < used; b++)
            if ((uint)blockTable[b] >= (uint)numBlocks) throw new ArgumentException($"Block table entry {b} is outside the pool.", nameof(blockTable));
        _keyPool = keyPool;
        _valuePool = valuePool;
        _blockTable = blockTable;
        BlockSize = blockSize;
        Length = length;
        KvHeads = kvHeads;
        HeadDim = headDim;
        PositionStride = headMajor ? headDim : kvHeads * headDim;
        HeadStride = headMajor ? blockSize * headDim : headDim;
    }

    /// <summary>Creates a view over Q8_0 code pools and their scale pools (one scale per 32 elements; HeadDim a multiple of 32).</summary>
    public PagedKvView(T[] keyPool, T[] valuePool, float[] keyScales, float[] valueScales, int[] blockTable, int blockSize, int length,
        int kvHeads, int headDim, bool headMajor)
        : this(keyPool, valuePool, blockTable, blockSize, length, kvHeads, headDim, headMajor)
    {
        ArgumentNullException.ThrowIfNull(keyScales);
        ArgumentNullException.ThrowIfNull(valueScales);
        if (headDim % 32 != 0) throw new ArgumentException("A Q8_0 cache needs HeadDim a multiple of 32.", nameof(headDim));
        if (keyScales.Length != keyPool.Length / 32 || valueScales.Length != valuePool.Length / 32)
            throw new ArgumentException("Scale pools must hold one value per 32 elements.");
        _keyScales = keyScales;
        _valueScales = valueScales;
    }

    /// <inheritdoc/>
    public int Length { get; }

    /// <inheritdoc/>
    public int BlockSize { get; }

    /// <inheritdoc/>
    public int KvHeads { get; }

    /// <inheritdoc/>
    public int HeadDim { get; }

    /// <inheritdoc/>
    public int PositionStride { get; }

    /// <inheritdoc/>
    public int HeadStride { get; }

    /// <inheritdoc/>
    public ReadOnlySpan<T> KeyBlock(int block) => _keyPool.AsSpan(_blockTable[block] * _blockElems, _blockElems);

    /// <inheritdoc/>
    public ReadOnlySpan<T> ValueBlock(int block) => _valuePool.AsSpan(_blockTable[block] * _blockElems, _blockElems);

    /// <inheritdoc/>
    public ReadOnlySpan<float> KeyScaleBlock(int block) => _keyScales is null ? default : _keyScales.AsSpan(_blockTable[block] * (_blockElems / 32), _blockElems / 32);

    /// <inheritdoc/>
    public ReadOnlySpan<float> ValueScaleBlock(int block) => _valueScales is null ? default : _valueScales.AsSpan(_blockTable[block] * (_blockElems / 32), _blockElems / 32);
}
