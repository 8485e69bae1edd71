using ILGPU;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// Causal grouped-query attention of each (token, query head) row over the token's sequence in the paged BF16 KV cache,
/// one group per row. Token t (position p = positions[t], sequence tokenSeq[t]) attends positions [lo, p] with
/// lo = max(0, p − window + 1) when a sliding window is set, else 0; position q lives in slot
/// blockTables[seq·MaxBlocks + q / BlockSize]·BlockSize + q % BlockSize; query head h reads KV head h / (Heads/KvHeads).
/// Three passes like Quanta.Core CausalAttention.ForwardRow: scores (q·k·scale, optional soft-cap) into the row's
/// slice of <paramref name="scores"/> [rows, MaxPositions] with a group max; exp(s − max) with a group sum; then each
/// thread accumulates output dimensions over positions and multiplies by 1/sum. Output [tokens, Heads·HeadDim].
/// </summary>
internal static class PagedAttentionKernel
{
    public static void Run(ArrayView<float> qkv, ArrayView<ushort> kCache, ArrayView<ushort> vCache, ArrayView<int> blockTables,
        ArrayView<int> tokenSeq, ArrayView<int> positions, ArrayView<float> scores, ArrayView<float> output, AttentionArgs a)
    {
        var sh = SharedMemory.Allocate<float>(GpuKernels.MaxGroupSize);
        var q = SharedMemory.Allocate<float>(GpuKernels.MaxHeadDim);
        int row = Grid.IdxX, tid = Group.IdxX, g = Group.DimX;
        int t = row / a.Heads, h = row - t * a.Heads;
        int kvh = h / (a.Heads / a.KvHeads), hd = a.HeadDim, kvDim = a.KvHeads * hd;
        int pos = positions[t], seq = tokenSeq[t];
        int lo = a.SlidingWindow > 0 ? IntrinsicMath.Max(0, pos - a.SlidingWindow + 1) : 0;
        long sc = (long)row * a.MaxPositions;
        long qo = (long)t * a.QkvStride + (long)h * hd;
        for (int d = tid; d < hd; d += g) q[d] = qkv[qo + d];
        Group.Barrier();

        float localMax = float.NegativeInfinity;
        for (int p = lo + tid; p <= pos; p += g)
        {
            long slot = (long)blockTables[seq * a.MaxBlocks + p / a.BlockSize] * a.BlockSize + p % a.BlockSize;
            long k0 = a.LayerOffset + slot * kvDim + (long)kvh * hd;
            float dot = 0f;
            for (int d = 0; d < hd; d++) dot += q[d] * NumberBits.FromBf16(kCache[k0 + d]);
            float s = dot * a.Scale;
            if (a.SoftCap > 0f) s = a.SoftCap * KernelMath.Tanh(s / a.SoftCap);
            scores[sc + p - lo] = s;
            localMax = IntrinsicMath.Max(localMax, s);
        }
        sh[tid] = localMax;
        Group.Barrier();
        for (int s = g / 2; s > 0; s >>= 1)
        {
            if (tid < s) sh[tid] = IntrinsicMath.Max(sh[tid], sh[tid + s]);
            Group.Barrier();
        }
        float max = sh[0];
        Group.Barrier();

        float localSum = 0f;
        for (int p = lo + tid; p <= pos; p += g)
        {
            float e = KernelMath.Exp(scores[sc + p - lo] - max);
            scores[sc + p - lo] = e;
            localSum += e;
        }
        sh[tid] = localSum;
        Group.Barrier();
        for (int s = g / 2; s > 0; s >>= 1)
        {
            if (tid < s) sh[tid] += sh[tid + s];
            Group.Barrier();
        }
        float inv = 1f / sh[0];

        long oo = (long)t * a.Heads * hd + (long)h * hd;
        for (int d = tid; d < hd; d += g)
        {
            float acc = 0f;
            for (int p = lo; p <= pos; p++)
            {
                long slot = (long)blockTables[seq * a.MaxBlocks + p / a.BlockSize] * a.BlockSize + p % a.BlockSize;
                acc += scores[sc + p - lo] * NumberBits.FromBf16(vCache[a.LayerOffset + slot * kvDim + (long)kvh * hd + d]);
            }
            output[oo + d] = acc * inv;
        }
    }
}
