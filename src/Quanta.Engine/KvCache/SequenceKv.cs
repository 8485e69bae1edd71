using System.Runtime.InteropServices;
using Quanta.Core.Formats.Float;
using Quanta.Core.Kernels.Attention;
using Quanta.Models.KvCache;

namespace Quanta.Engine.KvCache;

/// <summary>
/// One sequence's KV cache: a block table into a <see cref="PagedKvCache"/>, seen by models as an
/// <see cref="IKvCacheView"/>. Logical block b (positions [b·BlockSize, (b+1)·BlockSize)) lives in physical block
/// <see cref="BlockTable"/>[b]; attention reads through Core's <see cref="PagedKvView{T}"/>.
/// <para>Positions [0, <see cref="Length"/>) are committed: their K/V are stored and their token ids known
/// (<see cref="Commit"/>). Writes go to positions ≥ Length only, so committed (possibly shared or cached) contents never
/// change. Before a write, every block it touches must be owned by this sequence alone: <see cref="TryReserve"/>
/// allocates missing blocks and copies shared ones (copy-on-write); <see cref="Write"/> does the same on demand and
/// throws <see cref="KvCacheFullException"/> when the pool has no block left.</para>
/// <para>Lifetime: <see cref="Dispose"/> returns every block at once (reference counts drop; full registered blocks
/// stay in the prefix cache until evicted). Not thread-safe: one owner (the engine thread) uses a sequence at a time,
/// except that <see cref="AttendRow"/> may run concurrently for different rows.</para>
/// </summary>
public sealed class SequenceKv : IKvCacheView, IDisposable
{
    private readonly PagedKvCache _cache;
    private readonly int[] _table;      // [MaxBlocksPerSequence] physical block per logical block; NullBlock beyond BlockCount
    private readonly ulong[] _hashes;   // [MaxBlocksPerSequence] chained hash of each full committed block
    private readonly int[] _tokens;     // [MaxSequenceLength] committed token ids
    private int _blockCount, _registered;
    private bool _disposed;

    internal SequenceKv(PagedKvCache cache)
    {
        _cache = cache;
        _table = new int[cache.MaxBlocksPerSequence];
        _hashes = new ulong[cache.MaxBlocksPerSequence];
        _tokens = new int[cache.MaxSequenceLength];
    }

    /// <summary>The storage this sequence lives in.</summary>
    public PagedKvCache Cache => _cache;

    /// <inheritdoc/>
    public int Layers => _cache.Layers;

    /// <inheritdoc/>
    public int KvHeads => _cache.KvHeads;

    /// <inheritdoc/>
    public int HeadDim => _cache.HeadDim;

    /// <inheritdoc/>
    public int Capacity => _cache.MaxSequenceLength;

    /// <inheritdoc/>
    public int BlockSize => _cache.BlockSize;

    /// <summary>Committed positions.</summary>
    public int Length { get; private set; }

    /// <summary>Positions found in the prefix cache when the sequence was created (OpenAI's cached_tokens).</summary>
    public int CachedTokens { get; private set; }

    /// <summary>Blocks in the table.</summary>
    public int BlockCount => _blockCount;

    /// <summary>Physical block per logical block, [BlockCount]; valid while the sequence lives and until it grows.</summary>
    public ReadOnlySpan<int> BlockTable => _table.AsSpan(0, _blockCount);

    /// <summary>Committed token ids, [Length].</summary>
    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, Length);

    /// <summary>True after <see cref="Dispose"/>.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>
    /// Makes positions [Length, <paramref name="endPosition"/>) writable: allocates the missing blocks and replaces
    /// shared blocks in that range by private copies. All or nothing: returns false, changing nothing, when the pool
    /// lacks free blocks. Throws when endPosition exceeds <see cref="Capacity"/>.
    /// </summary>
    public bool TryReserve(int endPosition)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (endPosition > Capacity) throw new ArgumentOutOfRangeException(nameof(endPosition), endPosition, $"sequence capacity is {Capacity}");
        if (endPosition <= Length) return true;
        int bs = BlockSize, first = Length / bs, last = (endPosition - 1) / bs;
        BlockPool pool = _cache.Pool;
        int missing = Math.Max(0, last + 1 - _blockCount), shared = 0;
        for (int b = first; b < Math.Min(_blockCount, last + 1); b++)
            if (pool.RefCount(_table[b]) > 1) shared++;
        if (missing + shared == 0) return true;
        Span<int> fresh = missing + shared <= 64 ? stackalloc int[missing + shared] : new int[missing + shared];
        if (!pool.TryAllocate(fresh)) return false;
        int next = 0;
        for (int b = first; b < Math.Min(_blockCount, last + 1); b++)
        {
            int old = _table[b];
            if (pool.RefCount(old) <= 1) continue;
            int copy = fresh[next++];
            _cache.CopyBlock(old, copy);
            _table[b] = copy;
            pool.Release([old]);
        }
        while (_blockCount <= last) _table[_blockCount++] = fresh[next++];
        return true;
    }

    /// <summary>
    /// Records the token ids of positions [Length, Length + n) whose K/V have been written for every layer and
    /// registers each block that thereby becomes full in the prefix cache.
    /// </summary>
    public void Commit(ReadOnlySpan<int> tokens)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int end = Length + tokens.Length;
        if (end > _blockCount * BlockSize) throw new InvalidOperationException($"positions up to {end} are not reserved");
        tokens.CopyTo(_tokens.AsSpan(Length));
        Length = end;
        int bs = BlockSize;
        for (; _registered < end / bs; _registered++)
        {
            int b = _registered;
            ReadOnlySpan<int> t = _tokens.AsSpan(b * bs, bs);
            _hashes[b] = BlockPool.ChainHash(b == 0 ? 0 : _hashes[b - 1], t);
            _cache.Pool.Register(_table[b], _hashes[b], t);
        }
    }

    /// <summary>
    /// A second sequence sharing every block of this one (each gains a reference), with the same committed tokens;
    /// the first write of either into a shared block copies it.
    /// </summary>
    public SequenceKv Fork()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var f = new SequenceKv(_cache);
        for (int b = 0; b < _blockCount; b++) _cache.Pool.Retain(_table[b]);
        _table.AsSpan(0, _blockCount).CopyTo(f._table);
        _hashes.AsSpan(0, _registered).CopyTo(f._hashes);
        Tokens.CopyTo(f._tokens);
        f._blockCount = _blockCount;
        f._registered = _registered;
        f.Length = Length;
        return f;
    }

    /// <inheritdoc/>
    public void Write(int layer, int startPos, int count, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)layer >= (uint)Layers) throw new ArgumentOutOfRangeException(nameof(layer));
        if (startPos < Length || count < 0 || startPos + count > Capacity)
            throw new ArgumentOutOfRangeException(nameof(startPos), $"positions [{startPos}, {startPos + count}) must lie in [Length {Length}, Capacity {Capacity})");
        int row = KvHeads * HeadDim, n = count * row;
        if (keys.Length < n || values.Length < n) throw new ArgumentException("keys/values are shorter than [count, KvHeads·HeadDim]");
        if (!TryReserve(startPos + count))
            throw new KvCacheFullException($"no free KV block for positions [{startPos}, {startPos + count})");
        // blocks are head-major [KvHeads, BlockSize, HeadDim] (PagedKvCache): position pos, head h of physical block
        // p starts at (p·KvHeads + h)·BlockSize·HeadDim + (pos mod BlockSize)·HeadDim
        int bs = BlockSize, d = HeadDim, kvh = KvHeads;
        for (int i = 0; i < count; i++)
        {
            int pos = startPos + i, b = pos / bs, inBlock = pos - b * bs;
            int blockBase = _table[b] * kvh * bs * d + inBlock * d, src = i * row;
            if (_cache.Type == KvCacheType.F32)
            {
                float[] kd = _cache.K32(layer), vd = _cache.V32(layer);
                for (int h = 0; h < kvh; h++)
                {
                    keys.Slice(src + h * d, d).CopyTo(kd.AsSpan(blockBase + h * bs * d, d));
                    values.Slice(src + h * d, d).CopyTo(vd.AsSpan(blockBase + h * bs * d, d));
                }
            }
            else if (_cache.Type == KvCacheType.Q8_0)
            {
                // a head row starts at a multiple of HeadDim (a multiple of 32): its scales at that offset / 32
                sbyte[] kd = _cache.K8(layer), vd = _cache.V8(layer);
                float[] ks = _cache.KScales(layer), vs = _cache.VScales(layer);
                int g = KvQ8.GroupSize;
                for (int h = 0; h < kvh; h++)
                {
                    int o = blockBase + h * bs * d;
                    KvQ8.Quantize(keys.Slice(src + h * d, d), kd.AsSpan(o, d), ks.AsSpan(o / g, d / g));
                    KvQ8.Quantize(values.Slice(src + h * d, d), vd.AsSpan(o, d), vs.AsSpan(o / g, d / g));
                }
            }
            else
            {
                Half[] kd = _cache.K16(layer), vd = _cache.V16(layer);
                for (int h = 0; h < kvh; h++)
                {
                    // vectorized round to nearest even: the same bits as a (Half) cast for every non-NaN value
                    F16Conversion.FromSingleRow(keys.Slice(src + h * d, d), MemoryMarshal.Cast<Half, ushort>(kd.AsSpan(blockBase + h * bs * d, d)));
                    F16Conversion.FromSingleRow(values.Slice(src + h * d, d), MemoryMarshal.Cast<Half, ushort>(vd.AsSpan(blockBase + h * bs * d, d)));
                }
            }
        }
    }

    /// <inheritdoc/>
    public void AttendRow(int layer, int length, ReadOnlySpan<float> qRow, int position, int head, in AttentionParameters parameters,
        Span<float> outRow, Span<float> scratch)
    {
        if (_cache.Type == KvCacheType.F32)
        {
            var view = new PagedKvView<float>(_cache.K32(layer), _cache.V32(layer), _table, BlockSize, length, KvHeads, HeadDim, headMajor: true);
            CausalAttention.ForwardRow<float, PagedKvView<float>>(qRow, position, head, view, parameters, outRow, scratch);
        }
        else if (_cache.Type == KvCacheType.Q8_0)
        {
            var view = new PagedKvView<sbyte>(_cache.K8(layer), _cache.V8(layer), _cache.KScales(layer), _cache.VScales(layer), _table,
                BlockSize, length, KvHeads, HeadDim, headMajor: true);
            CausalAttention.ForwardRow<sbyte, PagedKvView<sbyte>>(qRow, position, head, view, parameters, outRow, scratch);
        }
        else
        {
            var view = new PagedKvView<Half>(_cache.K16(layer), _cache.V16(layer), _table, BlockSize, length, KvHeads, HeadDim, headMajor: true);
            CausalAttention.ForwardRow<Half, PagedKvView<Half>>(qRow, position, head, view, parameters, outRow, scratch);
        }
    }

    /// <summary>
    /// Up to <see cref="CausalAttention.RowBlock"/> consecutive query rows of one head over the paged blocks in one call
    /// (<see cref="CausalAttention.ForwardRows{T, TView}"/>: each key and value row is loaded and converted once for all
    /// of them); each row's result is bit-identical to <see cref="AttendRow"/> on that row.
    /// </summary>
    public void AttendRows(int layer, int length, ReadOnlySpan<float> q, int qStride, int rows, int firstPosition, int head,
        in AttentionParameters parameters, Span<float> output, int outStride, Span<float> scratch)
    {
        if (_cache.Type == KvCacheType.F32)
        {
            var view = new PagedKvView<float>(_cache.K32(layer), _cache.V32(layer), _table, BlockSize, length, KvHeads, HeadDim, headMajor: true);
            CausalAttention.ForwardRows<float, PagedKvView<float>>(q, qStride, rows, firstPosition, head, view, parameters, output, outStride, scratch);
        }
        else if (_cache.Type == KvCacheType.Q8_0)
        {
            var view = new PagedKvView<sbyte>(_cache.K8(layer), _cache.V8(layer), _cache.KScales(layer), _cache.VScales(layer), _table,
                BlockSize, length, KvHeads, HeadDim, headMajor: true);
            CausalAttention.ForwardRows<sbyte, PagedKvView<sbyte>>(q, qStride, rows, firstPosition, head, view, parameters, output, outStride, scratch);
        }
        else
        {
            var view = new PagedKvView<Half>(_cache.K16(layer), _cache.V16(layer), _table, BlockSize, length, KvHeads, HeadDim, headMajor: true);
            CausalAttention.ForwardRows<Half, PagedKvView<Half>>(q, qStride, rows, firstPosition, head, view, parameters, output, outStride, scratch);
        }
    }

    /// <inheritdoc/>
    public void AttendHeads(int layer, int length, ReadOnlySpan<float> q, int heads, int position, int firstHead,
        in AttentionParameters parameters, Span<float> output, Span<float> scratch)
    {
        if (_cache.Type == KvCacheType.F32)
        {
            var view = new PagedKvView<float>(_cache.K32(layer), _cache.V32(layer), _table, BlockSize, length, KvHeads, HeadDim, headMajor: true);
            CausalAttention.ForwardHeads<float, PagedKvView<float>>(q, heads, position, firstHead, view, parameters, output, scratch);
        }
        else if (_cache.Type == KvCacheType.Q8_0)
        {
            var view = new PagedKvView<sbyte>(_cache.K8(layer), _cache.V8(layer), _cache.KScales(layer), _cache.VScales(layer), _table,
                BlockSize, length, KvHeads, HeadDim, headMajor: true);
            CausalAttention.ForwardHeads<sbyte, PagedKvView<sbyte>>(q, heads, position, firstHead, view, parameters, output, scratch);
        }
        else
        {
            var view = new PagedKvView<Half>(_cache.K16(layer), _cache.V16(layer), _table, BlockSize, length, KvHeads, HeadDim, headMajor: true);
            CausalAttention.ForwardHeads<Half, PagedKvView<Half>>(q, heads, position, firstHead, view, parameters, output, scratch);
        }
    }

    /// <inheritdoc/>
    public void AttendHeads(int layer, int length, ReadOnlySpan<float> q, int heads, int position, int firstHead,
        in AttentionParameters parameters, Span<float> output, Span<float> scratch, in NextAttention next)
    {
        // the hint is used when the next call reads the same pool (every sequence of one cache does)
        if (next.Kv is not SequenceKv n || n._cache != _cache || n._disposed || next.Layer < 0 || next.Layer >= Layers)
        {
            AttendHeads(layer, length, q, heads, position, firstHead, parameters, output, scratch);
            return;
        }
        int nl = next.Layer;
        if (_cache.Type == KvCacheType.F32)
        {
            var view = new PagedKvView<float>(_cache.K32(layer), _cache.V32(layer), _table, BlockSize, length, KvHeads, HeadDim, headMajor: true);
            var ahead = new PagedKvView<float>(_cache.K32(nl), _cache.V32(nl), n._table, BlockSize, next.Length, KvHeads, HeadDim, headMajor: true);
            CausalAttention.ForwardHeads<float, PagedKvView<float>>(q, heads, position, firstHead, view, parameters, output, scratch, ahead, next.Position, next.FirstHead);
        }
        else if (_cache.Type == KvCacheType.Q8_0)
        {
            var view = new PagedKvView<sbyte>(_cache.K8(layer), _cache.V8(layer), _cache.KScales(layer), _cache.VScales(layer), _table,
                BlockSize, length, KvHeads, HeadDim, headMajor: true);
            var ahead = new PagedKvView<sbyte>(_cache.K8(nl), _cache.V8(nl), _cache.KScales(nl), _cache.VScales(nl), n._table,
                BlockSize, next.Length, KvHeads, HeadDim, headMajor: true);
            CausalAttention.ForwardHeads<sbyte, PagedKvView<sbyte>>(q, heads, position, firstHead, view, parameters, output, scratch, ahead, next.Position, next.FirstHead);
        }
        else
        {
            var view = new PagedKvView<Half>(_cache.K16(layer), _cache.V16(layer), _table, BlockSize, length, KvHeads, HeadDim, headMajor: true);
            var ahead = new PagedKvView<Half>(_cache.K16(nl), _cache.V16(nl), n._table, BlockSize, next.Length, KvHeads, HeadDim, headMajor: true);
            CausalAttention.ForwardHeads<Half, PagedKvView<Half>>(q, heads, position, firstHead, view, parameters, output, scratch, ahead, next.Position, next.FirstHead);
        }
    }

    /// <summary>Returns every block to the pool at once; idempotent.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _cache.Pool.Release(_table.AsSpan(0, _blockCount));
        _table.AsSpan(0, _blockCount).Clear();
        _blockCount = 0;
    }

    internal ulong BlockHash(int block) => _hashes[block];

    /// <summary>Appends a block found in the prefix cache (already retained) as committed, registered content.</summary>
    internal void AdoptCachedBlock(int block, ulong hash, ReadOnlySpan<int> tokens)
    {
        int b = _blockCount++;
        _table[b] = block;
        _hashes[b] = hash;
        tokens.CopyTo(_tokens.AsSpan(b * BlockSize));
        _registered = b + 1;
        Length += tokens.Length;
        CachedTokens = Length;
    }
}
