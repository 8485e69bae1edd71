using Quanta.Core.Kernels.Attention;
using Quanta.Models;
using Quanta.Models.KvCache;

namespace Quanta.Engine.KvCache;

/// <summary>
/// Paged KV storage shared by all sequences: per layer, keys and values each [NumBlocks, KvHeads, BlockSize, HeadDim]
/// in one F32 or F16 array (<see cref="KvCacheType"/>; blocks head-major, so the rows attention reads for one head
/// are contiguous within a block and stream from memory instead of being strided by KvHeads·HeadDim), with the block bookkeeping in <see cref="Pool"/>. Sequences
/// get a <see cref="SequenceKv"/> view (a block table over this storage) from <see cref="CreateSequence"/>; disposing
/// the view returns its blocks. All storage is allocated here, once; or, for an executor that keeps K/V in its own
/// memory (a GPU), none: <see cref="BlocksOnly"/> keeps the block tables, reference counts and prefix cache without host
/// storage, and the executor indexes its own pages by the same physical block ids (<see cref="BlockCopied"/> tells it
/// when copy-on-write duplicates a block).
/// <para>Automatic prefix caching: full blocks are registered under a chained hash of their token ids when a
/// sequence commits them; <see cref="CreateSequence"/> reuses cached blocks for the longest full-block prefix of
/// the prompt (always leaving at least one prompt token to compute, so the caller gets logits for it).</para>
/// </summary>
public sealed class PagedKvCache
{
    private readonly float[][]? _k32, _v32;   // [layers][NumBlocks, KvHeads, BlockSize, HeadDim]
    private readonly Half[][]? _k16, _v16;    // [layers][NumBlocks, KvHeads, BlockSize, HeadDim]
    private readonly sbyte[][]? _k8, _v8;     // Q8_0 codes, laid out as the F16 elements
    private readonly float[][]? _ks, _vs;      // Q8_0 scales [layers][NumBlocks · KvHeads · BlockSize · HeadDim / 32]

    /// <summary>
    /// Allocates <paramref name="numBlocks"/> blocks (block 0 is the reserved null block) of
    /// <paramref name="blockSize"/> positions; one sequence may hold at most <paramref name="maxSequenceLength"/> positions.
    /// </summary>
    public PagedKvCache(int layers, int kvHeads, int headDim, int numBlocks, int blockSize, int maxSequenceLength,
        KvCacheType type = KvCacheType.F32)
        : this(layers, kvHeads, headDim, numBlocks, blockSize, maxSequenceLength, type, hostStorage: true)
    {
    }

    private PagedKvCache(int layers, int kvHeads, int headDim, int numBlocks, int blockSize, int maxSequenceLength,
        KvCacheType type, bool hostStorage)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSequenceLength);
        Pool = new BlockPool(numBlocks, blockSize);
        Layers = layers;
        KvHeads = kvHeads;
        HeadDim = headDim;
        Type = type;
        MaxBlocksPerSequence = (maxSequenceLength + blockSize - 1) / blockSize;
        MaxSequenceLength = maxSequenceLength;
        HasHostStorage = hostStorage;
        if (type == KvCacheType.Q8_0 && headDim % KvQ8.GroupSize != 0)
            throw new NotSupportedException($"A Q8_0 KV cache needs HeadDim a multiple of 32 (got {headDim}).");
        if (!hostStorage) return;
        long n = (long)numBlocks * blockSize * kvHeads * headDim;
        if (n > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(numBlocks), "cache layer too large for one array");
        if (type == KvCacheType.F32)
        {
            _k32 = new float[layers][];
            _v32 = new float[layers][];
            for (int l = 0; l < layers; l++) { _k32[l] = new float[n]; _v32[l] = new float[n]; }
        }
        else if (type == KvCacheType.Q8_0)
        {
            (_k8, _ks) = KvQ8.Allocate(layers, n);
            (_v8, _vs) = KvQ8.Allocate(layers, n);
        }
        else
        {
            _k16 = new Half[layers][];
            _v16 = new Half[layers][];
            for (int l = 0; l < layers; l++) { _k16[l] = new Half[n]; _v16[l] = new Half[n]; }
        }
    }

    /// <summary>
    /// Block bookkeeping without host storage, for an executor that stores K/V itself (<see cref="HasHostStorage"/> is
    /// false): sequences, block tables, reference counts, prefix caching and copy-on-write work as usual, but the
    /// engine's own attention cannot read or write it (<see cref="SequenceKv"/>'s K/V accessors throw).
    /// <paramref name="type"/> sizes <see cref="BytesPerBlock"/> to what the executor stores per element.
    /// </summary>
    public static PagedKvCache BlocksOnly(ModelConfig config, int numBlocks, int blockSize, int maxSequenceLength, KvCacheType type)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new PagedKvCache(config.Layers, config.KvHeads, config.HeadDim, numBlocks, blockSize, maxSequenceLength, type, hostStorage: false);
    }

    /// <summary>Creates a cache shaped for <paramref name="config"/>.</summary>
    public static PagedKvCache For(ModelConfig config, int numBlocks, int blockSize, int maxSequenceLength, KvCacheType type = KvCacheType.F32)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new PagedKvCache(config.Layers, config.KvHeads, config.HeadDim, numBlocks, blockSize, maxSequenceLength, type);
    }

    /// <summary>Block bookkeeping (reference counts, free queue, prefix map).</summary>
    public BlockPool Pool { get; }

    /// <summary>Layers stored.</summary>
    public int Layers { get; }

    /// <summary>Key/value heads per position.</summary>
    public int KvHeads { get; }

    /// <summary>Elements per head.</summary>
    public int HeadDim { get; }

    /// <summary>Element storage type.</summary>
    public KvCacheType Type { get; }

    /// <summary>Positions per block.</summary>
    public int BlockSize => Pool.BlockSize;

    /// <summary>Most positions one sequence may hold.</summary>
    public int MaxSequenceLength { get; }

    /// <summary>False for a <see cref="BlocksOnly"/> cache: K/V live in the executor's memory, not here.</summary>
    public bool HasHostStorage { get; }

    /// <summary>
    /// Called as (source block, destination block) after copy-on-write duplicated a shared block for a writer, so an
    /// executor that stores K/V itself copies its pages too (on the engine thread, before the step that writes it).
    /// </summary>
    public Action<int, int>? BlockCopied { get; set; }

    /// <summary>Block table length of every sequence.</summary>
    public int MaxBlocksPerSequence { get; }

    /// <summary>Bytes of one block over all layers, keys and values: 2 · Layers · BlockSize · KvHeads · HeadDim · element size
    /// (Q8_0: 34 bytes per 32 elements).</summary>
    public long BytesPerBlock => 2L * Layers * KvCacheTypes.Bytes(Type, (long)BlockSize * KvHeads * HeadDim);

    /// <summary>
    /// Writes a zero into every memory page of the K/V storage, so that the operating system maps the whole cache now
    /// instead of on the first write of each block while serving (llama.cpp clears its KV buffer at start the same way).
    /// The storage arrays are allocated untouched; a 16-stream decode step that moves all its sequences into new blocks
    /// otherwise takes ~2,000 first-touch page faults for the 160M model (~13 ms on top of a ~15 ms step on the 2-vCPU VM:
    /// docs/perf-notes/2026-11-27-step16d.md). It commits the cache's memory (about 0.5 s per GB there). Only while no
    /// block is in use or cached (the stored values are then irrelevant); a cache without host storage has nothing to do.
    /// </summary>
    public void Prefault()
    {
        if (Pool.UsedBlocks != 0 || Pool.CachedBlocks != 0)
            throw new InvalidOperationException("the KV cache holds blocks; prefault it before creating sequences");
        if (!HasHostStorage) return;
        Touch(_k32); Touch(_v32);
        Touch(_k16); Touch(_v16);
        Touch(_k8); Touch(_v8);
        Touch(_ks); Touch(_vs);
    }

    private static void Touch<T>(T[][]? layers) where T : unmanaged
    {
        if (layers == null) return;
        int stride = Math.Max(1, Environment.SystemPageSize / System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        foreach (T[] a in layers)
            for (long i = 0; i < a.LongLength; i += stride) a[i] = default;
    }

    /// <summary>
    /// A new sequence for <paramref name="prompt"/>: with <paramref name="usePrefixCache"/>, the cached blocks of the
    /// prompt's longest full-block prefix (at most ⌊(prompt.Length − 1)/BlockSize⌋ blocks) are shared into its table,
    /// and <see cref="SequenceKv.Length"/> = <see cref="SequenceKv.CachedTokens"/> = their positions. Nothing else
    /// is allocated until <see cref="SequenceKv.TryReserve"/> or a write.
    /// </summary>
    public SequenceKv CreateSequence(ReadOnlySpan<int> prompt, bool usePrefixCache = true)
    {
        var seq = new SequenceKv(this);
        if (!usePrefixCache) return seq;
        int bs = BlockSize;
        int maxBlocks = Math.Min((prompt.Length - 1) / bs, MaxBlocksPerSequence);
        for (int b = 0; b < maxBlocks; b++)
        {
            ReadOnlySpan<int> tokens = prompt.Slice(b * bs, bs);
            ulong h = BlockPool.ChainHash(b == 0 ? 0 : seq.BlockHash(b - 1), tokens);
            if (!Pool.TryFindCached(h, tokens, out int block)) break;
            seq.AdoptCachedBlock(block, h, tokens);
        }
        return seq;
    }

    internal float[] K32(int layer) => (_k32 ?? throw NoStorage())[layer];
    internal float[] V32(int layer) => (_v32 ?? throw NoStorage())[layer];
    internal Half[] K16(int layer) => (_k16 ?? throw NoStorage())[layer];
    internal Half[] V16(int layer) => (_v16 ?? throw NoStorage())[layer];
    internal sbyte[] K8(int layer) => (_k8 ?? throw NoStorage())[layer];
    internal sbyte[] V8(int layer) => (_v8 ?? throw NoStorage())[layer];
    internal float[] KScales(int layer) => (_ks ?? throw NoStorage())[layer];
    internal float[] VScales(int layer) => (_vs ?? throw NoStorage())[layer];

    private InvalidOperationException NoStorage() => new(HasHostStorage
        ? $"this KV cache stores {Type}, not the element type asked for"
        : "this KV cache keeps block tables only (PagedKvCache.BlocksOnly): its executor stores K/V in its own memory");

    /// <summary>Copies every layer's K and V of block <paramref name="src"/> into block <paramref name="dst"/>.</summary>
    internal void CopyBlock(int src, int dst)
    {
        int e = BlockSize * KvHeads * HeadDim;
        for (int l = 0; HasHostStorage && l < Layers; l++)
        {
            if (Type == KvCacheType.F32)
            {
                Array.Copy(_k32![l], src * e, _k32[l], dst * e, e);
                Array.Copy(_v32![l], src * e, _v32[l], dst * e, e);
            }
            else if (Type == KvCacheType.Q8_0)
            {
                int g = KvQ8.GroupSize;
                Array.Copy(_k8![l], src * e, _k8[l], dst * e, e);
                Array.Copy(_v8![l], src * e, _v8[l], dst * e, e);
                Array.Copy(_ks![l], src * e / g, _ks[l], dst * e / g, e / g);
                Array.Copy(_vs![l], src * e / g, _vs[l], dst * e / g, e / g);
            }
            else
            {
                Array.Copy(_k16![l], src * e, _k16[l], dst * e, e);
                Array.Copy(_v16![l], src * e, _v16[l], dst * e, e);
            }
        }
        BlockCopied?.Invoke(src, dst);
    }
}
