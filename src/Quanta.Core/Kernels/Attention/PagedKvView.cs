namespace Quanta.Core.Kernels.Attention;

/// <summary>
/// A paged KV cache view: a pool of physical blocks, each [BlockSize, KvHeads, HeadDim], for keys and for values
/// (pool arrays are [numBlocks, BlockSize, KvHeads, HeadDim]); <c>blockTable[b]</c> is the physical block that holds
/// logical block b (positions [b·BlockSize, (b+1)·BlockSize)). Length positions are valid; the table must cover them.
/// </summary>
public readonly struct PagedKvView<T> : IKvView<T> where T : unmanaged
{
    private readonly T[] _keyPool;
    private readonly T[] _valuePool;
    private readonly int[] _blockTable;
    private readonly int _blockElems;

    /// <summary>Creates a view over the pools and the sequence's block table.</summary>
    public PagedKvView(T[] keyPool, T[] valuePool, int[] blockTable, int blockSize, int length, int kvHeads, int headDim)
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
    public ReadOnlySpan<T> KeyBlock(int block) => _keyPool.AsSpan(_blockTable[block] * _blockElems, _blockElems);

    /// <inheritdoc/>
    public ReadOnlySpan<T> ValueBlock(int block) => _valuePool.AsSpan(_blockTable[block] * _blockElems, _blockElems);
}
