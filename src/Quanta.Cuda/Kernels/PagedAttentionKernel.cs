using ILGPU;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// Causal grouped-query attention of each (token, query head) row over the token's sequence in the paged BF16 KV cache
/// (the decode path: few query rows, each over its whole context), split over the context so that even one row keeps
/// many multiprocessors busy. Token t (position p = positions[t], sequence tokenSeq[t]) attends positions [lo, p] with
/// lo = max(0, p − window + 1) when a sliding window is set, else 0; position q lives in slot
/// blockTables[seq·MaxBlocks + q / BlockSize]·BlockSize + q % BlockSize; query head h reads KV head h / (Heads/KvHeads).
/// <para>One group per (row, split); split s covers positions lo + s·SplitSize onward (at most SplitSize ≤
/// <see cref="SplitPositions"/> of them). Each warp takes every nw-th position of the split and runs an online softmax
/// on its own, without barriers: per position, lanes split q·k over the head dimension (coalesced loads, two positions
/// per step so that their loads overlap) and a butterfly of shuffles sums it; ·scale, optional soft-cap; the warp's
/// running maximum m, sum l = Σ e^(s − m) and accumulator a = Σ e^(s − m)·v (one shared row per warp, each lane owning
/// its dimensions) are rescaled when m grows. Then the group merges its warps (M = max m_w, weights e^(m_w − M)) into the
/// split's record [a (HeadDim), M, l] in <c>partials</c> [rows, Splits, HeadDim + 2]; an empty split writes m = −∞, l = 0.
/// <see cref="AttentionCombineKernel"/> merges the records: out = Σ_s a_s·e^(m_s − M) / Σ_s l_s·e^(m_s − M).</para>
/// Same arithmetic as Quanta.Core CausalAttention.ForwardRow up to the order of the F32 sums and the rescaling.
/// Needs (group size / warp size)·HeadDim ≤ <see cref="AccumulatorFloats"/>.
/// </summary>
internal static class PagedAttentionKernel
{
    /// <summary>Most positions per split (the default split size).</summary>
    public const int SplitPositions = 64;

    /// <summary>Shared floats for the per-warp output rows.</summary>
    public const int AccumulatorFloats = 4096;

    /// <summary>Most warps per group (shared slots of the per-warp maxima and sums).</summary>
    private const int MaxWarps = 32;

    public static void Run(ArrayView<float> qkv, ArrayView<ushort> kCache, ArrayView<ushort> vCache, ArrayView<int> blockTables,
        ArrayView<int> tokenSeq, ArrayView<int> positions, ArrayView<float> partials, AttentionArgs a)
    {
        var q = SharedMemory.Allocate<float>(GpuKernels.MaxHeadDim);
        var keyBase = SharedMemory.Allocate<long>(SplitPositions);
        var acc = SharedMemory.Allocate<float>(AccumulatorFloats);
        var wm = SharedMemory.Allocate<float>(MaxWarps);
        var wl = SharedMemory.Allocate<float>(MaxWarps);
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
        int ao = w * hd;
        for (int d = lane; d < hd; d += ws) acc[ao + d] = 0f;
        Group.Barrier();

        float m = float.NegativeInfinity, l = 0f;
        int i0 = w;
        for (; i0 + nw < cnt; i0 += 2 * nw)
        {
            // two positions per step: both rows' loads are issued before either sum is needed
            long k0 = keyBase[i0], k1 = keyBase[i0 + nw];
            float d0 = 0f, d1 = 0f;
            for (int d = lane; d < hd; d += ws)
            {
                float qd = q[d];
                d0 += qd * NumberBits.FromBf16(kCache[k0 + d]);
                d1 += qd * NumberBits.FromBf16(kCache[k1 + d]);
            }
            float s0 = Score(GroupReduce.WarpSum(d0), a), s1 = Score(GroupReduce.WarpSum(d1), a);
            float mn = IntrinsicMath.Max(m, IntrinsicMath.Max(s0, s1));
            float c = m > float.NegativeInfinity ? KernelMath.Exp(m - mn) : 0f;
            float e0 = KernelMath.Exp(s0 - mn), e1 = KernelMath.Exp(s1 - mn);
            l = l * c + (e0 + e1);
            m = mn;
            for (int d = lane; d < hd; d += ws)
                acc[ao + d] = acc[ao + d] * c + (e0 * NumberBits.FromBf16(vCache[k0 + d]) + e1 * NumberBits.FromBf16(vCache[k1 + d]));
        }
        if (i0 < cnt)
        {
            long k0 = keyBase[i0];
            float d0 = 0f;
            for (int d = lane; d < hd; d += ws) d0 += q[d] * NumberBits.FromBf16(kCache[k0 + d]);
            float s0 = Score(GroupReduce.WarpSum(d0), a);
            float mn = IntrinsicMath.Max(m, s0);
            float c = m > float.NegativeInfinity ? KernelMath.Exp(m - mn) : 0f;
            float e0 = KernelMath.Exp(s0 - mn);
            l = l * c + e0;
            m = mn;
            for (int d = lane; d < hd; d += ws) acc[ao + d] = acc[ao + d] * c + e0 * NumberBits.FromBf16(vCache[k0 + d]);
        }
        if (lane == 0)
        {
            wm[w] = m;
            wl[w] = l;
        }
        Group.Barrier();
        // merge the warps (a warp without positions has m = −∞ and weight 0)
        float mx = float.NegativeInfinity;
        for (int j = 0; j < nw; j++) mx = IntrinsicMath.Max(mx, wm[j]);
        for (int d = tid; d < hd; d += g)
        {
            float total = 0f;
            for (int j = 0; j < nw; j++)
            {
                float mj = wm[j];
                if (mj > float.NegativeInfinity) total += acc[j * hd + d] * KernelMath.Exp(mj - mx);
            }
            partials[po + d] = total;
        }
        if (tid == 0)
        {
            float lt = 0f;
            for (int j = 0; j < nw; j++)
            {
                float mj = wm[j];
                if (mj > float.NegativeInfinity) lt += wl[j] * KernelMath.Exp(mj - mx);
            }
            partials[po + hd] = mx;
            partials[po + hd + 1] = lt;
        }
    }

    private static float Score(float dot, AttentionArgs a)
    {
        float s = dot * a.Scale;
        return a.SoftCap > 0f ? a.SoftCap * KernelMath.Tanh(s / a.SoftCap) : s;
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

