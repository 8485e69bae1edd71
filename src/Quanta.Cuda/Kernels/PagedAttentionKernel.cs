using ILGPU;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// Causal grouped-query attention of each (token, query head) row over the token's sequence in the paged BF16 KV cache
/// (the decode path: few query rows, each over its whole context), split over the context so that even one row keeps
/// many multiprocessors busy. Token t (position p = positions[t], sequence tokenSeq[t]) attends positions [lo, p] with
/// lo = max(0, p − window + 1) when a sliding window is set, else 0; position q lives in slot
/// blockTables[seq·MaxBlocks + q / BlockSize]·BlockSize + q % BlockSize; query head h reads KV head h / (Heads/KvHeads).
/// <para>One group per (row, split); split s covers positions lo + s·SplitSize onward (at most SplitSize ≤
/// <see cref="SplitPositions"/> of them). The group's warps share the split's positions: per position, lanes split q·k over the head dimension (coalesced
/// loads) and a butterfly of shuffles sums it; ·scale, optional soft-cap; then m = max, e = exp(s − m), l = Σe and
/// a = Σ e·v per dimension (warps accumulate their positions, shared memory sums the warps). The record
/// [a (HeadDim), m, l] goes to <c>partials</c> [rows, Splits, HeadDim + 2]; an empty split writes m = −∞, l = 0.
/// <see cref="AttentionCombineKernel"/> merges the records: out = Σ_s a_s·e^(m_s − M) / Σ_s l_s·e^(m_s − M).</para>
/// Same arithmetic as Quanta.Core CausalAttention.ForwardRow up to the order of the F32 sums.
/// Needs (group size / warp size)·HeadDim ≤ <see cref="AccumulatorFloats"/>.
/// </summary>
internal static class PagedAttentionKernel
{
    /// <summary>Most positions per split (the default split size).</summary>
    public const int SplitPositions = 64;

    /// <summary>Shared floats for the per-warp output rows.</summary>
    public const int AccumulatorFloats = 4096;

    public static void Run(ArrayView<float> qkv, ArrayView<ushort> kCache, ArrayView<ushort> vCache, ArrayView<int> blockTables,
        ArrayView<int> tokenSeq, ArrayView<int> positions, ArrayView<float> partials, AttentionArgs a)
    {
        var q = SharedMemory.Allocate<float>(GpuKernels.MaxHeadDim);
        var e = SharedMemory.Allocate<float>(SplitPositions);
        var keyBase = SharedMemory.Allocate<long>(SplitPositions);
        var acc = SharedMemory.Allocate<float>(AccumulatorFloats);
        int blk = Grid.IdxX, row = blk / a.Splits, split = blk - row * a.Splits;
        int tid = Group.IdxX, g = Group.DimX, ws = Warp.WarpSize, lane = Warp.LaneIdx, w = tid / ws, nw = g / ws;
        int t = row / a.Heads, h = row - t * a.Heads;
        int kvh = h / (a.Heads / a.KvHeads), hd = a.HeadDim, kvDim = a.KvHeads * hd;
        int pos = positions[t], seq = tokenSeq[t];
        int lo = a.SlidingWindow > 0 ? IntrinsicMath.Max(0, pos - a.SlidingWindow + 1) : 0;
        int first = lo + split * a.SplitSize;
        int cnt = IntrinsicMath.Min(a.SplitSize, pos - first + 1);
        long po = (long)blk * (hd + 2);
        if (cnt <= 0)
        {
            // the whole group takes this branch: no barrier is skipped by part of it
            for (int d = tid; d < hd; d += g) partials[po + d] = 0f;
            if (tid == 0)
            {
                partials[po + hd] = float.NegativeInfinity;
                partials[po + hd + 1] = 0f;
            }
            return;
        }
        long qo = (long)t * a.QkvStride + (long)h * hd;
        long headOffset = a.LayerOffset + (long)kvh * hd;
        for (int d = tid; d < hd; d += g) q[d] = qkv[qo + d];
        for (int i = tid; i < cnt; i += g)
        {
            int p = first + i;
            keyBase[i] = headOffset + ((long)blockTables[seq * a.MaxBlocks + p / a.BlockSize] * a.BlockSize + p % a.BlockSize) * kvDim;
        }
        Group.Barrier();

        for (int i = w; i < cnt; i += nw)
        {
            long k0 = keyBase[i];
            float dot = 0f;
            for (int d = lane; d < hd; d += ws) dot += q[d] * NumberBits.FromBf16(kCache[k0 + d]);
            for (int m = ws / 2; m > 0; m >>= 1) dot += Warp.ShuffleXor(dot, m);
            float s = dot * a.Scale;
            if (a.SoftCap > 0f) s = a.SoftCap * KernelMath.Tanh(s / a.SoftCap);
            if (lane == 0) e[i] = s;
        }
        Group.Barrier();
        float max = float.NegativeInfinity;
        for (int i = 0; i < cnt; i++) max = IntrinsicMath.Max(max, e[i]);
        Group.Barrier();
        for (int i = tid; i < cnt; i += g) e[i] = KernelMath.Exp(e[i] - max);
        Group.Barrier();

        for (int d0 = 0; d0 < hd; d0 += ws)
        {
            int d = d0 + lane;
            float sum = 0f;
            if (d < hd)
            {
                for (int i = w; i < cnt; i += nw) sum += e[i] * NumberBits.FromBf16(vCache[keyBase[i] + d]);
                acc[w * hd + d] = sum;
            }
        }
        Group.Barrier();
        for (int d = tid; d < hd; d += g)
        {
            float total = 0f;
            for (int i = 0; i < nw; i++) total += acc[i * hd + d];
            partials[po + d] = total;
        }
        if (tid == 0)
        {
            float l = 0f;
            for (int i = 0; i < cnt; i++) l += e[i];
            partials[po + hd] = max;
            partials[po + hd + 1] = l;
        }
    }
}

/// <summary>
/// Merges <see cref="PagedAttentionKernel"/>'s per-split records of each row: M = max_s m_s,
/// out = Σ_s a_s·e^(m_s − M) / Σ_s l_s·e^(m_s − M), into output [tokens, Heads·HeadDim]. One group per row.
/// </summary>
internal static class AttentionCombineKernel
{
    public static void Run(ArrayView<float> partials, ArrayView<float> output, AttentionArgs a)
    {
        int row = Grid.IdxX, tid = Group.IdxX, g = Group.DimX, hd = a.HeadDim, rec = hd + 2;
        long pb = (long)row * a.Splits * rec;
        float m = float.NegativeInfinity;
        for (int s = 0; s < a.Splits; s++) m = IntrinsicMath.Max(m, partials[pb + (long)s * rec + hd]);
        float l = 0f;
        for (int s = 0; s < a.Splits; s++)
        {
            float ms = partials[pb + (long)s * rec + hd];
            if (ms > float.NegativeInfinity) l += partials[pb + (long)s * rec + hd + 1] * KernelMath.Exp(ms - m);
        }
        float inv = 1f / l;
        int t = row / a.Heads, h = row - t * a.Heads;
        long oo = (long)t * a.Heads * hd + (long)h * hd;
        for (int d = tid; d < hd; d += g)
        {
            float o = 0f;
            for (int s = 0; s < a.Splits; s++)
            {
                float ms = partials[pb + (long)s * rec + hd];
                if (ms > float.NegativeInfinity) o += partials[pb + (long)s * rec + d] * KernelMath.Exp(ms - m);
            }
            output[oo + d] = o * inv;
        }
    }
}
