using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Attention;

/// <summary>The decode path: one token, one or more query heads that share a KV head.</summary>
public static partial class CausalAttention
{
    /// <summary>Query heads per <see cref="ForwardHeads{T, TView}"/> call that split every KV head's group evenly: the
    /// largest divisor of Heads / KvHeads up to <see cref="RowBlock"/>.</summary>
    public static int HeadGroup(int heads, int kvHeads)
    {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) throw new ArgumentException("Heads must be a positive multiple of KvHeads.");
        int group = heads / kvHeads, g = Math.Min(group, RowBlock);
        while (group % g != 0) g--;
        return g;
    }

    /// <summary>
    /// Decode of one token for query heads firstHead .. firstHead + heads − 1 (1 to <see cref="RowBlock"/>), which
    /// must share one KV head (a GQA group or part of one): head i's query is q[i·HeadDim ..][..HeadDim] and its output
    /// output[i·HeadDim ..][..HeadDim]. Each key and value row is loaded (and converted from F16) once for all of them;
    /// each head's result is bit-identical to <see cref="ForwardRow{T, TView}"/> on that head alone. Safe to call
    /// concurrently for different heads with separate scratch (<see cref="ScratchLength"/>).
    /// </summary>
    public static void ForwardHeads<T, TView>(ReadOnlySpan<float> q, int heads, int position, int firstHead, TView kv, in AttentionParameters p,
        Span<float> output, Span<float> scratch)
        where T : unmanaged
        where TView : IKvView<T>, allows ref struct
    {
        int d = p.HeadDim;
        if (heads < 1 || heads > RowBlock) throw new ArgumentOutOfRangeException(nameof(heads), heads, $"1 to {RowBlock} heads per call.");
        if (firstHead < 0) throw new ArgumentOutOfRangeException(nameof(firstHead));
        Validate<T, TView>(kv, p, position, firstHead + heads - 1);
        int group = p.Heads / p.KvHeads;
        if (firstHead / group != (firstHead + heads - 1) / group) throw new ArgumentException("The heads must share one KV head.", nameof(heads));
        if (q.Length < heads * d || output.Length < heads * d) throw new ArgumentException("q and output must hold heads · HeadDim values.");
        CheckElementType<T>(d);
        int count = position - Lo(position, p) + 1;
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated && d % 16 == 0)
        {
            if (scratch.Length < heads * count + RowBlock * 256 + d) throw new ArgumentException($"Scratch needs {heads * count + RowBlock * 256 + d} floats.", nameof(scratch));
            KernelPaths.Record(KernelName, SimdPath.V512);
            Heads512<T, TView>(q, d, heads, position, firstHead / group, kv, p, output, d, scratch);
            return;
        }
        if (scratch.Length < count + 2 * d) throw new ArgumentException($"Scratch needs {count + 2 * d} floats.", nameof(scratch));
        KernelPaths.Record(KernelName, SimdCapabilities.Widest);
        for (int i = 0; i < heads; i++)
            RowGeneric<T, TView>(q.Slice(i * d, d), position, firstHead + i, kv, p, output.Slice(i * d, d), scratch);
    }

    /// <summary>Positions of a decode call whose K/V rows <see cref="Heads512{T, TView}"/> prefetches into L2 before
    /// computing (256 F16 positions of one head: 64 KB of K and V).</summary>
    private const int UpfrontPositions = 256;

    /// <summary>
    /// The AVX-512 decode path (HeadDim a multiple of 16): the arithmetic of <see cref="Rows512{T, TView}"/> for
    /// <paramref name="heads"/> query rows that attend the same positions lo..position of KV head
    /// <paramref name="kvHead"/> (row r's query at q[r·qStride ..], its output at output[r·outStride ..]). Positions
    /// are walked block by block (no division per position), the range checks of the multi-position path are gone,
    /// and with HeadDim 64 a key row is held in four registers for all rows. scratch: [heads, count] scores,
    /// [RowBlock, 16, 16] key-slot lane partials, [HeadDim] one F16 key row converted.
    /// </summary>
    private static void Heads512<T, TView>(ReadOnlySpan<float> q, int qStride, int heads, int position, int kvHead, TView kv,
        in AttentionParameters p, Span<float> output, int outStride, Span<float> scratch)
        where T : unmanaged
        where TView : IKvView<T>, allows ref struct
    {
        int d = p.HeadDim, nc = d / 16;
        int lo = Lo(position, p), count = position - lo + 1;
        int bs = kv.BlockSize, stride = kv.PositionStride, headOff = kvHead * kv.HeadStride;
        var scale = Vector512.Create(p.EffectiveScale);
        ref float qs = ref MemoryMarshal.GetReference(q);
        ref float sc = ref MemoryMarshal.GetReference(scratch);          // [heads, count] scores
        ref float part = ref Unsafe.Add(ref sc, heads * count);         // [RowBlock, 16 slots, 16 lanes]
        ref float conv = ref Unsafe.Add(ref part, RowBlock * 256);      // [d]

        {
            // the first UpfrontPositions K and V rows of the call (and Q8_0 scales) into L2 before any compute: at 16
            // streams the K/V of a step no longer fit the caches, each block's head slice is a separate 1-2 KB stream,
            // and fetched row by row the kernel waits at every block start; issued together, the misses overlap.
            // Capped so a long context does not flush its own first rows out of L2 before pass 1 reaches them.
            int upTo = Math.Min(position, lo + UpfrontPositions - 1);
            for (int b = lo / bs, last = upTo / bs; b <= last; b++)
            {
                ref T kb = ref MemoryMarshal.GetReference(kv.KeyBlock(b));
                ref T vb = ref MemoryMarshal.GetReference(kv.ValueBlock(b));
                int from = Math.Max(lo, b * bs) - b * bs, to = Math.Min(upTo, b * bs + bs - 1) - b * bs;
                for (int r = from; r <= to; r++)
                {
                    PrefetchRow(ref kb, r * stride + headOff, d, intoL2: true);
                    PrefetchRow(ref vb, r * stride + headOff, d, intoL2: true);
                }
                if (typeof(T) == typeof(sbyte))
                {
                    ref float kq = ref MemoryMarshal.GetReference(kv.KeyScaleBlock(b)), vq = ref MemoryMarshal.GetReference(kv.ValueScaleBlock(b));
                    for (int r = from; r <= to; r += 8)
                    {
                        PrefetchRow(ref kq, (r * stride + headOff) >> 5, 1, intoL2: true);
                        PrefetchRow(ref vq, (r * stride + headOff) >> 5, 1, intoL2: true);
                    }
                }
            }
        }

        // Pass 1: scores, 16 key slots at a time (slot j = position lo + i0 + j; a slot's lanes are summed by the same
        // tree wherever the group starts, so the scores equal the multi-position path's)
        int block = lo / bs, inBlock = lo - block * bs;
        ref T keys = ref MemoryMarshal.GetReference(kv.KeyBlock(block));
        ref T values = ref MemoryMarshal.GetReference(kv.ValueBlock(block));
        ref float ks = ref Unsafe.NullRef<float>();   // Q8_0 scales of the key block
        if (typeof(T) == typeof(sbyte)) ks = ref MemoryMarshal.GetReference(kv.KeyScaleBlock(block));
        for (int a = 1; a < PrefetchDistance && a < count && inBlock + a < bs; a++)
            PrefetchRow(ref keys, (inBlock + a) * stride + headOff, d);
        for (int i0 = 0; i0 < count; i0 += 16)
        {
            int n = Math.Min(16, count - i0);
            for (int j = 0; j < n; j++, inBlock++)
            {
                if (inBlock == bs)
                {
                    block++;
                    inBlock = 0;
                    keys = ref MemoryMarshal.GetReference(kv.KeyBlock(block));
                    values = ref MemoryMarshal.GetReference(kv.ValueBlock(block));
                    if (typeof(T) == typeof(sbyte)) ks = ref MemoryMarshal.GetReference(kv.KeyScaleBlock(block));
                }
                // as in the multi-position path: the key row Distance positions ahead and this position's value row
                // for pass 2, so a contiguous cache's rows (a whole position apart) miss in parallel, not in a queue
                if (inBlock + PrefetchDistance < bs && i0 + j + PrefetchDistance < count)
                    PrefetchRow(ref keys, (inBlock + PrefetchDistance) * stride + headOff, d);
                PrefetchRow(ref values, inBlock * stride + headOff, d);
                int rowOff = inBlock * stride + headOff;
                ref T krow = ref Unsafe.Add(ref keys, rowOff);
                ref float kscale = ref Unsafe.Add(ref ks, rowOff >> 5);   // Q8_0 only (rows start at multiples of 32)
                if (nc == 4)
                {
                    Vector512<float> k0 = Load16(ref krow, ref kscale, 0), k1 = Load16(ref krow, ref kscale, 16);
                    Vector512<float> k2 = Load16(ref krow, ref kscale, 32), k3 = Load16(ref krow, ref kscale, 48);
                    for (int r = 0; r < heads; r++)
                    {
                        ref float qr = ref Unsafe.Add(ref qs, r * qStride);
                        Vector512<float> acc = Vector512.LoadUnsafe(ref qr) * k0;
                        acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref qr, 16), k1, acc);
                        acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref qr, 32), k2, acc);
                        acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref qr, 48), k3, acc);
                        acc.StoreUnsafe(ref part, (nuint)(r * 256 + j * 16));
                    }
                    continue;
                }
                ref float k = ref Unsafe.NullRef<float>();
                if (typeof(T) == typeof(float)) k = ref Unsafe.As<T, float>(ref krow);
                else
                {
                    for (int c = 0; c < nc; c++) Load16(ref krow, ref kscale, c * 16).StoreUnsafe(ref conv, (nuint)(c * 16));
                    k = ref conv;
                }
                for (int r = 0; r < heads; r++)
                    DotLanes(ref Unsafe.Add(ref qs, r * qStride), ref k, nc).StoreUnsafe(ref part, (nuint)(r * 256 + j * 16));
            }
            for (int r = 0; r < heads; r++)
            {
                // slots at or past n may hold stale lanes: each output lane depends on its own slot only
                Vector512<float> s = LanePairs.Sum16(ref Unsafe.Add(ref part, r * 256)) * scale;
                ref float dst = ref Unsafe.Add(ref sc, r * count + i0);
                if (n == 16) s.StoreUnsafe(ref dst);
                else for (int j = 0; j < n; j++) Unsafe.Add(ref dst, j) = s.GetElement(j);
            }
        }
        Span<float> sums = [0f, 0f, 0f, 0f];
        for (int r = 0; r < heads; r++)
            sums[r] = SoftmaxScores(scratch.Slice(r * count, count), p);

        // Pass 2: per 64-column slab, acc_r = fma(e_r,p, v_p, acc_r) in position order, block by block
        ref float e0 = ref sc, e1 = ref Unsafe.Add(ref sc, count), e2 = ref Unsafe.Add(ref sc, 2 * count), e3 = ref Unsafe.Add(ref sc, 3 * count);
        for (int c0 = 0; c0 < nc; c0 += 4)
        {
            int cn = Math.Min(4, nc - c0);
            Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
            Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
            Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
            block = lo / bs;
            inBlock = lo - block * bs;
            for (int i = 0; i < count; block++, inBlock = 0)
            {
                int end = Math.Min(count, i + bs - inBlock), rowOff = inBlock * stride + headOff;
                ref T vrow = ref Unsafe.Add(ref MemoryMarshal.GetReference(kv.ValueBlock(block)), rowOff);
                ref float vscale = ref Unsafe.NullRef<float>();   // Q8_0 only: the scale of vrow's element 0
                if (typeof(T) == typeof(sbyte)) vscale = ref Unsafe.Add(ref MemoryMarshal.GetReference(kv.ValueScaleBlock(block)), rowOff >> 5);
                for (; i < end; i++, vrow = ref Unsafe.Add(ref vrow, stride))
                {
                    int o = c0 * 16;
                    Vector512<float> v0 = Load16(ref vrow, ref vscale, o), v1 = default, v2 = default, v3 = default;
                    if (cn > 1) v1 = Load16(ref vrow, ref vscale, o + 16);
                    if (cn > 2) v2 = Load16(ref vrow, ref vscale, o + 32);
                    if (cn > 3) v3 = Load16(ref vrow, ref vscale, o + 48);
                    if (typeof(T) == typeof(sbyte)) vscale = ref Unsafe.Add(ref vscale, stride >> 5);
                    Fma4(Unsafe.Add(ref e0, i), v0, v1, v2, v3, ref a00, ref a01, ref a02, ref a03);
                    if (heads > 1) Fma4(Unsafe.Add(ref e1, i), v0, v1, v2, v3, ref a10, ref a11, ref a12, ref a13);
                    if (heads > 2) Fma4(Unsafe.Add(ref e2, i), v0, v1, v2, v3, ref a20, ref a21, ref a22, ref a23);
                    if (heads > 3) Fma4(Unsafe.Add(ref e3, i), v0, v1, v2, v3, ref a30, ref a31, ref a32, ref a33);
                }
            }
            Store(output, 0 * outStride + c0 * 16, cn, 1f / sums[0], a00, a01, a02, a03);
            if (heads > 1) Store(output, 1 * outStride + c0 * 16, cn, 1f / sums[1], a10, a11, a12, a13);
            if (heads > 2) Store(output, 2 * outStride + c0 * 16, cn, 1f / sums[2], a20, a21, a22, a23);
            if (heads > 3) Store(output, 3 * outStride + c0 * 16, cn, 1f / sums[3], a30, a31, a32, a33);
        }
    }
}
