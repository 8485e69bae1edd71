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
        => ForwardHeads<T, TView>(q, heads, position, firstHead, kv, p, output, scratch, kv, -1, 0);

    /// <summary>
    /// <see cref="ForwardHeads{T, TView}(ReadOnlySpan{float}, int, int, int, TView, in AttentionParameters, Span{float}, Span{float})"/>
    /// that also knows the caller's next call: the decode of <paramref name="nextPosition"/> for query head
    /// <paramref name="nextFirstHead"/> over <paramref name="next"/> (same parameters; nextPosition −1: none). While
    /// this call computes, it prefetches the next call's K/V rows into L2, a position's rows per position it works
    /// through, so the next call's memory latency overlaps this call's arithmetic instead of following it (at 16
    /// streams the K/V of a step do not fit the caches, and each call reads only a few KB per block). The hint reads
    /// nothing that changes a result: the output is bit-identical to the call without it. Only the AVX-512 path uses the
    /// hint, and only for views whose head rows of a block are contiguous (head-major paged blocks; PositionStride =
    /// HeadDim); otherwise it is ignored.
    /// </summary>
    public static void ForwardHeads<T, TView>(ReadOnlySpan<float> q, int heads, int position, int firstHead, TView kv, in AttentionParameters p,
        Span<float> output, Span<float> scratch, TView next, int nextPosition, int nextFirstHead)
        where T : unmanaged
        where TView : IKvView<T>, allows ref struct
    {
        int d = p.HeadDim;
        if (nextPosition >= 0) Validate<T, TView>(next, p, nextPosition, nextFirstHead);
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
            Heads512<T, TView>(q, d, heads, position, firstHead / group, kv, p, output, d, scratch, next, nextPosition < 0 ? -1 : Lo(nextPosition, p), nextPosition, nextFirstHead / group);
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
    /// and with HeadDim 64 a key row is held in four registers for all rows. The caller's next call (positions
    /// nextLo..nextPosition of KV head nextKvHead in <paramref name="next"/>; nextLo −1: none) is prefetched into L2
    /// while this one computes: four lines per position of pass 1, the rest after it (<see cref="NextLines"/>).
    /// scratch: [heads, count] scores, [RowBlock, 16, 16] key-slot lane partials, [HeadDim] one F16 key row converted.
    /// </summary>
    private static void Heads512<T, TView>(ReadOnlySpan<float> q, int qStride, int heads, int position, int kvHead, TView kv,
        in AttentionParameters p, Span<float> output, int outStride, Span<float> scratch, TView next, int nextLo, int nextPosition, int nextKvHead)
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

        // the next call's lines: four per position of pass 1 (an F16 position's K and V rows), the rest at the end
        NextLines ahead = default;
        conv = NextLines.Plan<T, TView>(next, nextLo, nextPosition, nextKvHead, ref ahead);   // conv: dead until pass 1
        int nextRange = 0;
        nint nextAt = ahead.Count > 0 ? ahead.Start[0] : 0, nextEnd = ahead.Count > 0 ? ahead.End[0] : 0;

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
                if (nextAt < nextEnd) PrefetchNext(ref ahead, ref nextRange, ref nextAt, ref nextEnd);
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
        while (nextAt < nextEnd) PrefetchNext(ref ahead, ref nextRange, ref nextAt, ref nextEnd);
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

    /// <summary>Prefetches the next four lines of <paramref name="plan"/> into L2 (at = the next line, end = its
    /// range's end; moves to the following range when this one is done).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchNext(ref NextLines plan, ref int range, ref nint at, ref nint end)
    {
        Sse.Prefetch1((void*)at);
        Sse.Prefetch1((void*)(at + 64));
        Sse.Prefetch1((void*)(at + 128));
        Sse.Prefetch1((void*)(at + 192));
        at += 256;
        if (at >= end)
        {
            if (++range < plan.Count) { at = plan.Start[range]; end = plan.End[range]; }
            else at = end = 0;
        }
    }

    /// <summary>Line ranges [Start, End) of the caller's next decode call's K/V head slices (and Q8_0 scales), block by
    /// block, for <see cref="Heads512{T, TView}"/> to prefetch while it computes. Addresses are only ever prefetched
    /// (a hint never faults; an array moved by the GC in between only wastes the hint).</summary>
    private struct NextLines
    {
        public const int MaxRanges = 64;
        public Ranges Start, End;
        public int Count;

        [InlineArray(MaxRanges)]
        public struct Ranges { private nint _e; }

        public unsafe void Add<T>(ref T first, int elements) where T : unmanaged
        {
            if (Count == MaxRanges) return;
            nint a = (nint)Unsafe.AsPointer(ref first);
            Start[Count] = a & ~(nint)63;
            End[Count] = a + elements * Unsafe.SizeOf<T>();
            Count++;
        }

        /// <summary>The ranges of positions lo..position (capped at <see cref="UpfrontPositions"/>) of KV head kvHead,
        /// when the view stores a head's rows of a block contiguously (PositionStride = HeadDim; else none). Reads the
        /// first element of each K and V slice (returned as a sum to fold into a sink): a demand read is never dropped
        /// and starts the slice's page walk and the hardware stream early.</summary>
        public static float Plan<T, TView>(TView kv, int lo, int position, int kvHead, ref NextLines plan)
            where T : unmanaged
            where TView : IKvView<T>, allows ref struct
        {
            plan.Count = 0;
            int bs = kv.BlockSize, stride = kv.PositionStride, d = kv.HeadDim, headOff = kvHead * kv.HeadStride;
            if (lo < 0 || stride != d) return 0f;
            int upTo = Math.Min(position, lo + UpfrontPositions - 1), sum = 0;
            for (int b = lo / bs, last = upTo / bs; b <= last; b++)
            {
                int from = Math.Max(lo, b * bs) - b * bs, to = Math.Min(upTo, b * bs + bs - 1) - b * bs;
                int off = from * stride + headOff, n = (to - from + 1) * d;
                ref T k = ref Unsafe.Add(ref MemoryMarshal.GetReference(kv.KeyBlock(b)), off);
                ref T v = ref Unsafe.Add(ref MemoryMarshal.GetReference(kv.ValueBlock(b)), off);
                sum += Unsafe.As<T, byte>(ref k) + Unsafe.As<T, byte>(ref v);
                plan.Add(ref k, n);
                plan.Add(ref v, n);
                if (typeof(T) == typeof(sbyte))
                {
                    plan.Add(ref Unsafe.Add(ref MemoryMarshal.GetReference(kv.KeyScaleBlock(b)), off >> 5), n >> 5);
                    plan.Add(ref Unsafe.Add(ref MemoryMarshal.GetReference(kv.ValueScaleBlock(b)), off >> 5), n >> 5);
                }
            }
            return sum;
        }
    }
}
