using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Float;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Attention;

/// <summary>
/// Causal grouped-query attention of a chunk of new tokens over a KV cache.
/// <para>Shapes: q [nTokens, Heads, HeadDim]; output [nTokens, Heads, HeadDim]; the cache (an <see cref="IKvView{T}"/>,
/// F32 or F16) holds positions 0..Length−1 with Length ≥ p0 + nTokens. Token i sits at position p0 + i and attends to
/// positions lo..p0+i, lo = 0 or, with a sliding window W, max(0, p0+i−W+1).</para>
/// <para>Algorithm (two-pass, exact softmax): scores s_p = scale·(q·k_p) (soft-capped if set) into scratch in position
/// order, then max, exp(s − max) and their sum, then out = Σ_p e_p·v_p accumulated position by position and divided by
/// the sum. Every (token, head) row is computed by the same arithmetic from its own data only, in position order, so a
/// row's output is bit-identical whatever the batch size, whatever other rows share its call
/// (<see cref="ForwardRows{T, TView}"/>) and whatever the block layout of the cache (contiguous or paged); F16 caches
/// are converted exactly, so an F16 cache gives the same bits as an F32 cache holding the same values.</para>
/// <para>Paths. With AVX-512 and HeadDim a multiple of 16, up to <see cref="RowBlock"/> consecutive tokens of one head
/// run together: each key and value row is loaded (and converted from F16) once for all of them. Per (query, key):
/// a 16-lane product q[0:16]·k[0:16], then one fused multiply-add per further 16 elements, then the 16 lanes summed
/// by a fixed pairwise tree (computed for 16 keys at once by a lane transpose; the tree is the same for every key
/// slot). Per output lane: acc = fma(e_p, v_p, acc) in position order, times 1/sum. Elsewhere each row runs
/// <see cref="Dot"/> and <see cref="AddScaled"/> position by position.</para>
/// <para>Never allocates: callers pass scratch of <see cref="ScratchLength"/> floats (one per concurrently computed
/// call).</para>
/// </summary>
public static partial class CausalAttention
{
    /// <summary>Kernel name used with <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "attention";

    /// <summary>Most consecutive tokens of one head <see cref="ForwardRows{T, TView}"/> takes at once.</summary>
    public const int RowBlock = 4;

    /// <summary>Scratch floats one call needs for a cache of up to <paramref name="maxPositions"/> positions.</summary>
    public static int ScratchLength(int maxPositions, int headDim) => RowBlock * (maxPositions + 256) + 2 * headDim;

    /// <summary>Computes every (token, head) row of the chunk, sequentially.</summary>
    public static void Forward<T, TView>(ReadOnlySpan<float> q, int nTokens, int p0, TView kv, in AttentionParameters p,
        Span<float> output, Span<float> scratch)
        where T : unmanaged
        where TView : IKvView<T>, allows ref struct
    {
        int rowLen = p.Heads * p.HeadDim;
        if (q.Length < nTokens * rowLen) throw new ArgumentException("q is shorter than [nTokens, Heads, HeadDim].", nameof(q));
        if (output.Length < nTokens * rowLen) throw new ArgumentException("output is shorter than [nTokens, Heads, HeadDim].", nameof(output));
        for (int t = 0; t < nTokens; t += RowBlock)
        {
            int rows = Math.Min(RowBlock, nTokens - t);
            for (int h = 0; h < p.Heads; h++)
            {
                int off = t * rowLen + h * p.HeadDim;
                ForwardRows<T, TView>(q[off..], rowLen, rows, p0 + t, h, kv, p, output[off..], rowLen, scratch);
            }
        }
    }

    /// <summary>
    /// One row: query head <paramref name="head"/> of the token at <paramref name="position"/>. qRow and outRow are [HeadDim].
    /// Safe to call concurrently for different rows with separate scratch.
    /// </summary>
    public static void ForwardRow<T, TView>(ReadOnlySpan<float> qRow, int position, int head, TView kv, in AttentionParameters p,
        Span<float> outRow, Span<float> scratch)
        where T : unmanaged
        where TView : IKvView<T>, allows ref struct
    {
        if (qRow.Length < p.HeadDim || outRow.Length < p.HeadDim) throw new ArgumentException("qRow and outRow must hold HeadDim values.");
        ForwardRows<T, TView>(qRow, p.HeadDim, 1, position, head, kv, p, outRow, p.HeadDim, scratch);
    }

    /// <summary>
    /// Up to <see cref="RowBlock"/> rows of query head <paramref name="head"/>: row r is the token at position
    /// firstPosition + r, its query at q[r·qStride ..][..HeadDim] and its output at output[r·outStride ..][..HeadDim].
    /// Each row's result is bit-identical to <see cref="ForwardRow{T, TView}"/> on that row alone. Safe to call
    /// concurrently for different rows with separate scratch (<see cref="ScratchLength"/>).
    /// </summary>
    public static void ForwardRows<T, TView>(ReadOnlySpan<float> q, int qStride, int rows, int firstPosition, int head, TView kv,
        in AttentionParameters p, Span<float> output, int outStride, Span<float> scratch)
        where T : unmanaged
        where TView : IKvView<T>, allows ref struct
    {
        int d = p.HeadDim;
        if (rows < 1 || rows > RowBlock) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"1 to {RowBlock} rows per call.");
        if (firstPosition < 0) throw new ArgumentOutOfRangeException(nameof(firstPosition));
        Validate<T, TView>(kv, p, firstPosition + rows - 1, head);
        if (qStride < d || outStride < d) throw new ArgumentException("Row strides must be at least HeadDim.");
        if (q.Length < (long)(rows - 1) * qStride + d) throw new ArgumentException("q is shorter than the rows.", nameof(q));
        if (output.Length < (long)(rows - 1) * outStride + d) throw new ArgumentException("output is shorter than the rows.", nameof(output));
        CheckElementType<T>(d);
        int last = firstPosition + rows - 1;
        int loMin = p.SlidingWindow > 0 ? Math.Max(0, firstPosition - p.SlidingWindow + 1) : 0;
        int total = last - loMin + 1;
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated && d % 16 == 0)
        {
            if (scratch.Length < rows * total + RowBlock * 256 + d) throw new ArgumentException($"Scratch needs {rows * total + RowBlock * 256 + d} floats.", nameof(scratch));
            KernelPaths.Record(KernelName, SimdPath.V512);
            if (rows == 1) Heads512<T, TView>(q, d, 1, firstPosition, head / (p.Heads / p.KvHeads), kv, p, output, d, scratch, kv, -1, -1, 0);
            else Rows512<T, TView>(q, qStride, rows, firstPosition, head, kv, p, output, outStride, scratch, total);
            return;
        }
        if (scratch.Length < total + 2 * d) throw new ArgumentException($"Scratch needs {total + 2 * d} floats.", nameof(scratch));
        KernelPaths.Record(KernelName, SimdCapabilities.Widest);
        for (int r = 0; r < rows; r++)
            RowGeneric<T, TView>(q.Slice(r * qStride, d), firstPosition + r, head, kv, p, output.Slice(r * outStride, d), scratch);
    }

    private static void RowGeneric<T, TView>(ReadOnlySpan<float> qRow, int position, int head, TView kv, in AttentionParameters p,
        Span<float> outRow, Span<float> scratch)
        where T : unmanaged
        where TView : IKvView<T>, allows ref struct
    {
        int d = p.HeadDim;
        int lo = p.SlidingWindow > 0 ? Math.Max(0, position - p.SlidingWindow + 1) : 0;
        int count = position - lo + 1;
        int kvHead = head / (p.Heads / p.KvHeads);
        int bs = kv.BlockSize;
        int stride = kv.PositionStride, headOff = kvHead * kv.HeadStride;
        Span<float> scores = scratch[..count];
        Span<float> conv = scratch.Slice(count, d);
        Span<float> acc = scratch.Slice(count + d, d);
        float scale = p.EffectiveScale;
        ref float qs = ref MemoryMarshal.GetReference(qRow);

        // Pass 1: scores in position order.
        for (int pos = lo; pos <= position;)
        {
            int block = pos / bs, inBlock = pos - block * bs;
            int end = Math.Min(position + 1, (block + 1) * bs);
            ReadOnlySpan<T> keys = kv.KeyBlock(block);
            ReadOnlySpan<float> keyScales = typeof(T) == typeof(sbyte) ? kv.KeyScaleBlock(block) : default;
            for (; pos < end; pos++, inBlock++)
            {
                ref float k = ref Row(keys, keyScales, inBlock * stride + headOff, d, conv);
                scores[pos - lo] = Dot.ComputeUnchecked(ref qs, ref k, d) * scale;
            }
        }
        float sum = SoftmaxScores(scores, p);

        // Pass 2: weighted sum of values in position order.
        acc.Clear();
        for (int pos = lo; pos <= position;)
        {
            int block = pos / bs, inBlock = pos - block * bs;
            int end = Math.Min(position + 1, (block + 1) * bs);
            ReadOnlySpan<T> values = kv.ValueBlock(block);
            ReadOnlySpan<float> valueScales = typeof(T) == typeof(sbyte) ? kv.ValueScaleBlock(block) : default;
            for (; pos < end; pos++, inBlock++)
            {
                ref float v = ref Row(values, valueScales, inBlock * stride + headOff, d, conv);
                AddScaled.Core(scores[pos - lo], ref v, ref MemoryMarshal.GetReference(acc), d);
            }
        }
        Scale.Forward(acc, 1f / sum, outRow);
    }

    /// <summary>Soft-cap (if set), then exp(s − max) in place; returns the sum.</summary>
    private static float SoftmaxScores(Span<float> scores, in AttentionParameters p)
    {
        if (p.SoftCap > 0f)
        {
            Scale.Forward(scores, 1f / p.SoftCap, scores);
            Softmax.TanhInPlace(scores);
            Scale.Forward(scores, p.SoftCap, scores);
        }
        float max = Reductions.Max(scores);
        return Softmax.ExpMinusMaxInPlace(scores, max);
    }

    /// <summary>The AVX-512 path (HeadDim a multiple of 16); see the type's remarks for the arithmetic.
    /// scratch: [rows, total] scores (row r's positions lo_r.. at offset r·total), [RowBlock, 16, 16] key-slot lane
    /// partials, [HeadDim] one F16 key row converted.</summary>
    private static void Rows512<T, TView>(ReadOnlySpan<float> q, int qStride, int rows, int firstPosition, int head, TView kv,
        in AttentionParameters p, Span<float> output, int outStride, Span<float> scratch, int total)
        where T : unmanaged
        where TView : IKvView<T>, allows ref struct
    {
        int d = p.HeadDim, nc = d / 16;
        int kvHead = head / (p.Heads / p.KvHeads);
        int bs = kv.BlockSize, stride = kv.PositionStride, headOff = kvHead * kv.HeadStride;
        float scale = p.EffectiveScale;
        // row r attends [lo_r, hi_r]; absent rows get an empty range
        int lo0 = Lo(firstPosition, p), lo1 = rows > 1 ? Lo(firstPosition + 1, p) : int.MaxValue;
        int lo2 = rows > 2 ? Lo(firstPosition + 2, p) : int.MaxValue, lo3 = rows > 3 ? Lo(firstPosition + 3, p) : int.MaxValue;
        int hi0 = firstPosition, hi1 = firstPosition + 1, hi2 = firstPosition + 2, hi3 = firstPosition + 3;
        int loMin = lo0, hiMax = firstPosition + rows - 1;
        ref float sc = ref MemoryMarshal.GetReference(scratch);          // [rows, total] scores
        ref float part = ref Unsafe.Add(ref sc, rows * total);          // [RowBlock, 16 slots, 16 lanes]
        ref float conv = ref Unsafe.Add(ref part, RowBlock * 256);      // [d]
        ref float qs = ref MemoryMarshal.GetReference(q);
        Span<int> los = [lo0, lo1, lo2, lo3];
        Span<int> his = [hi0, hi1, hi2, hi3];

        // Pass 1: scores, 16 key slots at a time (slot j = position g + j). Four rows of HeadDim 64 keep their queries in
        // registers and run their four dot products side by side where a position is in every row's range (the same
        // per-row operations as DotLanes, whose one dependent chain per row otherwise leaves the core waiting)
        bool four = rows == 4 && nc == 4;
        int allLo = Math.Max(Math.Max(lo0, lo1), Math.Max(lo2, lo3)), allHi = hi0;
        Vector512<float> q00 = default, q01 = default, q02 = default, q03 = default, q10 = default, q11 = default, q12 = default, q13 = default;
        Vector512<float> q20 = default, q21 = default, q22 = default, q23 = default, q30 = default, q31 = default, q32 = default, q33 = default;
        if (four)
        {
            ref float r0 = ref qs, r1 = ref Unsafe.Add(ref qs, qStride), r2 = ref Unsafe.Add(ref qs, 2 * qStride), r3 = ref Unsafe.Add(ref qs, 3 * qStride);
            q00 = Vector512.LoadUnsafe(ref r0); q01 = Vector512.LoadUnsafe(ref r0, 16); q02 = Vector512.LoadUnsafe(ref r0, 32); q03 = Vector512.LoadUnsafe(ref r0, 48);
            q10 = Vector512.LoadUnsafe(ref r1); q11 = Vector512.LoadUnsafe(ref r1, 16); q12 = Vector512.LoadUnsafe(ref r1, 32); q13 = Vector512.LoadUnsafe(ref r1, 48);
            q20 = Vector512.LoadUnsafe(ref r2); q21 = Vector512.LoadUnsafe(ref r2, 16); q22 = Vector512.LoadUnsafe(ref r2, 32); q23 = Vector512.LoadUnsafe(ref r2, 48);
            q30 = Vector512.LoadUnsafe(ref r3); q31 = Vector512.LoadUnsafe(ref r3, 16); q32 = Vector512.LoadUnsafe(ref r3, 32); q33 = Vector512.LoadUnsafe(ref r3, 48);
        }
        int firstBlock = loMin / bs;
        ref T firstKeys = ref MemoryMarshal.GetReference(kv.KeyBlock(firstBlock));
        for (int pos = loMin + 1; pos < loMin + PrefetchDistance && pos <= hiMax && pos / bs == firstBlock; pos++)
            PrefetchRow(ref firstKeys, (pos - firstBlock * bs) * stride + headOff, d);
        int curBlock = -1;
        ref T keys = ref Unsafe.NullRef<T>(), values = ref Unsafe.NullRef<T>();
        ref float ks = ref Unsafe.NullRef<float>(), vs = ref Unsafe.NullRef<float>();   // Q8_0 scales of the block
        for (int g = loMin & ~15; g <= hiMax; g += 16)
        {
            for (int j = 0; j < 16; j++)
            {
                int pos = g + j;
                if (pos < loMin || pos > hiMax) continue;
                int block = pos / bs;
                if (block != curBlock)
                {
                    curBlock = block;
                    keys = ref MemoryMarshal.GetReference(kv.KeyBlock(block));
                    values = ref MemoryMarshal.GetReference(kv.ValueBlock(block));
                    if (typeof(T) == typeof(sbyte)) ks = ref MemoryMarshal.GetReference(kv.KeyScaleBlock(block));
                }
                int off = (pos - block * bs) * stride + headOff;
                // a contiguous cache puts one head's rows a whole position apart (KvHeads·HeadDim elements), a stride the
                // hardware prefetchers do not follow across pages: fetch the key row Distance positions ahead and this
                // position's value row for pass 2, so the row's misses overlap instead of queuing one after another
                int ahead = pos + PrefetchDistance;
                if (ahead <= hiMax && ahead / bs == block) PrefetchRow(ref keys, off + PrefetchDistance * stride, d);
                PrefetchRow(ref values, off, d);
                if (four && pos >= allLo && pos <= allHi)
                {
                    // the key row straight into registers (an F16 row converted there, not through scratch)
                    Vector512<float> k0 = Load16(ref keys, ref ks, off), k1 = Load16(ref keys, ref ks, off + 16);
                    Vector512<float> k2 = Load16(ref keys, ref ks, off + 32), k3 = Load16(ref keys, ref ks, off + 48);
                    Vector512<float> d0 = q00 * k0, d1 = q10 * k0, d2 = q20 * k0, d3 = q30 * k0;
                    d0 = Vector512.FusedMultiplyAdd(q01, k1, d0); d1 = Vector512.FusedMultiplyAdd(q11, k1, d1);
                    d2 = Vector512.FusedMultiplyAdd(q21, k1, d2); d3 = Vector512.FusedMultiplyAdd(q31, k1, d3);
                    d0 = Vector512.FusedMultiplyAdd(q02, k2, d0); d1 = Vector512.FusedMultiplyAdd(q12, k2, d1);
                    d2 = Vector512.FusedMultiplyAdd(q22, k2, d2); d3 = Vector512.FusedMultiplyAdd(q32, k2, d3);
                    d0 = Vector512.FusedMultiplyAdd(q03, k3, d0); d1 = Vector512.FusedMultiplyAdd(q13, k3, d1);
                    d2 = Vector512.FusedMultiplyAdd(q23, k3, d2); d3 = Vector512.FusedMultiplyAdd(q33, k3, d3);
                    d0.StoreUnsafe(ref part, (nuint)(j * 16)); d1.StoreUnsafe(ref part, (nuint)(256 + j * 16));
                    d2.StoreUnsafe(ref part, (nuint)(512 + j * 16)); d3.StoreUnsafe(ref part, (nuint)(768 + j * 16));
                    continue;
                }
                ref float k = ref Unsafe.NullRef<float>();
                if (typeof(T) == typeof(float)) k = ref Unsafe.As<T, float>(ref Unsafe.Add(ref keys, off));
                else
                {
                    for (int c = 0; c < nc; c++) Load16(ref keys, ref ks, off + c * 16).StoreUnsafe(ref conv, (nuint)(c * 16));
                    k = ref conv;
                }
                for (int r = 0; r < rows; r++)
                {
                    if (pos < los[r] || pos > his[r]) continue;
                    DotLanes(ref Unsafe.Add(ref qs, r * qStride), ref k, nc).StoreUnsafe(ref part, (nuint)(r * 256 + j * 16));
                }
            }
            for (int r = 0; r < rows; r++)
            {
                int a = Math.Max(g, los[r]), b = Math.Min(g + 15, his[r]);
                if (a > b) continue;
                // slots outside [a, b] may hold stale lanes: each output lane depends on its own slot only
                Vector512<float> s = LanePairs.Sum16(ref Unsafe.Add(ref part, r * 256)) * Vector512.Create(scale);
                ref float dst = ref Unsafe.Add(ref sc, r * total + (a - los[r]));
                // a whole slot group at once (all but a row's first and last); element by element, a variable lane
                // index went through the stack for every score
                if (a == g && b == g + 15) s.StoreUnsafe(ref dst);
                else
                {
                    s.StoreUnsafe(ref Unsafe.Add(ref part, r * 256));   // the row's partials are consumed
                    for (int pos = a; pos <= b; pos++) Unsafe.Add(ref dst, pos - a) = Unsafe.Add(ref part, r * 256 + pos - g);
                }
            }
        }
        Span<float> sums = [0f, 0f, 0f, 0f];
        for (int r = 0; r < rows; r++)
            sums[r] = SoftmaxScores(scratch.Slice(r * total, his[r] - los[r] + 1), p);

        // Pass 2: per 64-column slab, acc_r = fma(e_r,p, v_p, acc_r) in position order
        ref float e0 = ref sc, e1 = ref Unsafe.Add(ref sc, total), e2 = ref Unsafe.Add(ref sc, 2 * total), e3 = ref Unsafe.Add(ref sc, 3 * total);
        for (int c0 = 0; c0 < nc; c0 += 4)
        {
            int cn = Math.Min(4, nc - c0);
            Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
            Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
            Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
            curBlock = -1;
            for (int pos = loMin; pos <= hiMax; pos++)
            {
                int block = pos / bs;
                if (block != curBlock)
                {
                    curBlock = block;
                    values = ref MemoryMarshal.GetReference(kv.ValueBlock(block));
                    if (typeof(T) == typeof(sbyte)) vs = ref MemoryMarshal.GetReference(kv.ValueScaleBlock(block));
                }
                int off = (pos - block * bs) * stride + headOff + c0 * 16;
                Vector512<float> v0 = Load16(ref values, ref vs, off), v1 = default, v2 = default, v3 = default;
                if (cn > 1) v1 = Load16(ref values, ref vs, off + 16);
                if (cn > 2) v2 = Load16(ref values, ref vs, off + 32);
                if (cn > 3) v3 = Load16(ref values, ref vs, off + 48);
                if (pos >= lo0 && pos <= hi0)
                {
                    var e = Vector512.Create(Unsafe.Add(ref e0, pos - lo0));
                    a00 = Vector512.FusedMultiplyAdd(e, v0, a00);
                    if (cn > 1) a01 = Vector512.FusedMultiplyAdd(e, v1, a01);
                    if (cn > 2) a02 = Vector512.FusedMultiplyAdd(e, v2, a02);
                    if (cn > 3) a03 = Vector512.FusedMultiplyAdd(e, v3, a03);
                }
                if (pos >= lo1 && pos <= hi1)
                {
                    var e = Vector512.Create(Unsafe.Add(ref e1, pos - lo1));
                    a10 = Vector512.FusedMultiplyAdd(e, v0, a10);
                    if (cn > 1) a11 = Vector512.FusedMultiplyAdd(e, v1, a11);
                    if (cn > 2) a12 = Vector512.FusedMultiplyAdd(e, v2, a12);
                    if (cn > 3) a13 = Vector512.FusedMultiplyAdd(e, v3, a13);
                }
                if (pos >= lo2 && pos <= hi2)
                {
                    var e = Vector512.Create(Unsafe.Add(ref e2, pos - lo2));
                    a20 = Vector512.FusedMultiplyAdd(e, v0, a20);
                    if (cn > 1) a21 = Vector512.FusedMultiplyAdd(e, v1, a21);
                    if (cn > 2) a22 = Vector512.FusedMultiplyAdd(e, v2, a22);
                    if (cn > 3) a23 = Vector512.FusedMultiplyAdd(e, v3, a23);
                }
                if (pos >= lo3 && pos <= hi3)
                {
                    var e = Vector512.Create(Unsafe.Add(ref e3, pos - lo3));
                    a30 = Vector512.FusedMultiplyAdd(e, v0, a30);
                    if (cn > 1) a31 = Vector512.FusedMultiplyAdd(e, v1, a31);
                    if (cn > 2) a32 = Vector512.FusedMultiplyAdd(e, v2, a32);
                    if (cn > 3) a33 = Vector512.FusedMultiplyAdd(e, v3, a33);
                }
            }
            Store(output, 0 * outStride + c0 * 16, cn, 1f / sums[0], a00, a01, a02, a03);
            if (rows > 1) Store(output, 1 * outStride + c0 * 16, cn, 1f / sums[1], a10, a11, a12, a13);
            if (rows > 2) Store(output, 2 * outStride + c0 * 16, cn, 1f / sums[2], a20, a21, a22, a23);
            if (rows > 3) Store(output, 3 * outStride + c0 * 16, cn, 1f / sums[3], a30, a31, a32, a33);
        }
    }

    /// <summary>The 16 lane partials of q·k over nc 16-element chunks: q[0:16]·k[0:16], then one fused multiply-add per chunk.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> DotLanes(ref float q, ref float k, int nc)
    {
        Vector512<float> acc = Vector512.LoadUnsafe(ref q) * Vector512.LoadUnsafe(ref k);
        for (int c = 1; c < nc; c++)
            acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref q, (nuint)(c * 16)), Vector512.LoadUnsafe(ref k, (nuint)(c * 16)), acc);
        return acc;
    }

    /// <summary>a_c = fma(e, v_c, a_c) for the four 16-column chunks of a 64-column slab (unused chunks hold zeros).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Fma4(float e, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
    {
        var ev = Vector512.Create(e);
        a0 = Vector512.FusedMultiplyAdd(ev, v0, a0);
        a1 = Vector512.FusedMultiplyAdd(ev, v1, a1);
        a2 = Vector512.FusedMultiplyAdd(ev, v2, a2);
        a3 = Vector512.FusedMultiplyAdd(ev, v3, a3);
    }

    /// <summary>Positions ahead pass 1 of <see cref="Rows512{T, TView}"/> and <see cref="Heads512{T, TView}"/> prefetches key rows.</summary>
    private const int PrefetchDistance = 8;

    /// <summary>Prefetches the <paramref name="d"/> elements at <paramref name="offset"/> of a KV block into L1, or into
    /// L2 with <paramref name="intoL2"/> (a hint: it never faults, and a stale address after a GC move only wastes it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchRow<T>(ref T block, int offset, int d, bool intoL2 = false) where T : unmanaged
    {
        byte* p = (byte*)Unsafe.AsPointer(ref Unsafe.Add(ref block, offset));
        int bytes = d * Unsafe.SizeOf<T>();
        if (intoL2)
        {
            for (int o = 0; o < bytes; o += 64) Sse.Prefetch1(p + o);   // a misaligned row's tail line is the next row's first
            return;
        }
        for (int o = 0; o < bytes; o += 64) Sse.Prefetch0(p + o);
        Sse.Prefetch0(p + bytes - 1);
    }

    private static int Lo(int position, in AttentionParameters p) => p.SlidingWindow > 0 ? Math.Max(0, position - p.SlidingWindow + 1) : 0;

    private static void Store(Span<float> output, int offset, int cn, float inv, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3)
    {
        var s = Vector512.Create(inv);
        Span<float> o = output.Slice(offset, cn * 16);
        (a0 * s).CopyTo(o);
        if (cn > 1) (a1 * s).CopyTo(o[16..]);
        if (cn > 2) (a2 * s).CopyTo(o[32..]);
        if (cn > 3) (a3 * s).CopyTo(o[48..]);
    }

    /// <summary>16 floats at <paramref name="offset"/> of an F32, F16 or Q8_0 row, as F32, exactly: F16 converted, Q8_0
    /// code · scale (an int8 times an F16 value has at most 18 significant bits, so the product is exact in F32).
    /// <paramref name="scales"/> (Q8_0 only) is the scale of element 0 of <paramref name="row"/>; offset is a multiple of 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load16<T>(ref T row, ref float scales, int offset) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Vector512.LoadUnsafe(ref Unsafe.As<T, float>(ref row), (nuint)offset);
        if (typeof(T) == typeof(sbyte))
        {
            Vector128<sbyte> codes = Vector128.LoadUnsafe(ref Unsafe.As<T, sbyte>(ref row), (nuint)offset);
            Vector512<float> f = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(codes));
            return f * Vector512.Create(Unsafe.Add(ref scales, offset >> 5));
        }
        return LoadHalf16(ref Unsafe.As<T, ushort>(ref row), offset);
    }

    /// <summary>Rejects element types other than float, Half and sbyte (Q8_0, which needs HeadDim a multiple of 32).</summary>
    private static void CheckElementType<T>(int headDim) where T : unmanaged
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(Half) && typeof(T) != typeof(sbyte))
            throw new NotSupportedException($"KV element type {typeof(T)} is not supported (use float, Half or sbyte Q8_0 codes).");
        if (typeof(T) == typeof(sbyte) && headDim % 32 != 0)
            throw new NotSupportedException($"A Q8_0 KV cache needs HeadDim a multiple of 32 (got {headDim}).");
    }

    /// <summary>16 F16 codes as F32, exactly: the finite decode (shift, mask, ×2^112) unless one of them is Inf/NaN
    /// (exponent 31, never in a real cache), which takes the full decode; both give the bits of <see cref="F16Conversion.ToSingle"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LoadHalf16(ref ushort row, int offset)
    {
        Vector256<ushort> h = Vector256.LoadUnsafe(ref row, (nuint)offset);
        var exp = Vector256.Create((ushort)0x7C00);
        if (Vector256.EqualsAny(h & exp, exp))
            return F16Conversion.Format.Decode512(h.ToVector512Unsafe(), upper: false);
        return F16Conversion.DecodeFinite512(Avx512F.ConvertToVector512Int32(h.AsInt16()));
    }

    /// <summary>Returns a reference to the F32 row at <paramref name="offset"/>, converting F16 and Q8_0 rows into
    /// <paramref name="conv"/> (Q8_0: code · F32 of its scale, scales[e &gt;&gt; 5] for element e of the block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Row<T>(ReadOnlySpan<T> block, ReadOnlySpan<float> scales, int offset, int d, Span<float> conv) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return ref Unsafe.As<T, float>(ref Unsafe.AsRef(in block.Slice(offset, d)[0]));
        if (typeof(T) == typeof(Half))
        {
            ref ushort h = ref Unsafe.As<T, ushort>(ref Unsafe.AsRef(in block.Slice(offset, d)[0]));
            F16Conversion.ToSingleRowUnchecked(ref h, ref MemoryMarshal.GetReference(conv), d);
            return ref MemoryMarshal.GetReference(conv);
        }
        if (typeof(T) == typeof(sbyte))
        {
            ReadOnlySpan<sbyte> codes = MemoryMarshal.Cast<T, sbyte>(block.Slice(offset, d));
            for (int i = 0; i < d; i++)
                conv[i] = codes[i] * scales[(offset + i) >> 5];
            return ref MemoryMarshal.GetReference(conv);
        }
        throw new NotSupportedException($"KV element type {typeof(T)} is not supported (use float, Half or sbyte Q8_0 codes).");
    }

    private static void Validate<T, TView>(TView kv, in AttentionParameters p, int position, int head)
        where T : unmanaged
        where TView : IKvView<T>, allows ref struct
    {
        if (p.Heads <= 0 || p.KvHeads <= 0 || p.Heads % p.KvHeads != 0)
            throw new ArgumentException("Heads must be a positive multiple of KvHeads.", nameof(p));
        if (kv.KvHeads != p.KvHeads || kv.HeadDim != p.HeadDim) throw new ArgumentException("Cache shape differs from parameters.", nameof(kv));
        if ((uint)position >= (uint)kv.Length) throw new ArgumentOutOfRangeException(nameof(position), position, $"Cache holds {kv.Length} positions.");
        if ((uint)head >= (uint)p.Heads) throw new ArgumentOutOfRangeException(nameof(head));
    }
}
