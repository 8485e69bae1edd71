using ILGPU;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// Scalar arguments of the prefill-attention kernels for one chunk of one sequence's query tokens: the chunk's tokens
/// are rows [0, Tokens) of the views given to each kernel, at positions FirstPosition + t; keys and values cover the
/// sequence's positions [0, Length), padded with zeros to Padded (a multiple of 16, the matrix products' inner size).
/// </summary>
internal struct PrefillArgs
{
    public int Heads, KvHeads, HeadDim;
    public int QkvStride;        // floats per token row of the fused QKV buffer; queries at column 0
    public int Tokens;           // query tokens in the chunk
    public int FirstPosition;    // position of the chunk's first token
    public int Length, Padded;   // key positions [0, Length), padded to Padded
    public int KeyRows;          // rows per KV head of the gathered key / transposed value buffers (≥ Padded)
    public int BlockSize, TableOffset;
    public long LayerOffset;     // elements: layer · slots · KvHeads · HeadDim
    public int SlidingWindow;    // 0: none
    public float Scale, SoftCap; // SoftCap 0: none
}

/// <summary>
/// Gathers a sequence's keys and values for positions [0, Padded) from the paged BF16 cache (slot of position p:
/// table[p / BlockSize]·BlockSize + p % BlockSize, table at blockTables[TableOffset]) into K [KvHeads, KeyRows, HeadDim]
/// and Vᵀ [KvHeads, HeadDim, KeyRows], zeros at p ≥ Length. One thread per (KV column, position), X fastest.
/// </summary>
internal static class GatherKvKernel
{
    public static void Run(Index2D i, ArrayView<ushort> kCache, ArrayView<ushort> vCache, ArrayView<int> blockTables,
        ArrayView<ushort> keys, ArrayView<ushort> valuesT, PrefillArgs a)
    {
        int p = i.Y, c = i.X, hd = a.HeadDim, kvDim = a.KvHeads * hd;
        int kvh = c / hd, d = c - kvh * hd;
        ushort k = 0, v = 0;
        if (p < a.Length)
        {
            long slot = (long)blockTables[a.TableOffset + p / a.BlockSize] * a.BlockSize + p % a.BlockSize;
            long src = a.LayerOffset + slot * kvDim + c;
            k = kCache[src];
            v = vCache[src];
        }
        keys[((long)kvh * a.KeyRows + p) * hd + d] = k;
        valuesT[((long)kvh * hd + d) * a.KeyRows + p] = v;
    }
}

/// <summary>
/// Queries of the chunk's tokens, F32 rows of the QKV buffer, into BF16 Q [KvHeads, Tokens·G, HeadDim] with
/// G = Heads / KvHeads: query head h = kvh·G + j of token t becomes row t·G + j of KV head kvh's matrix, so one strided
/// batched product per KV head covers its whole query group. One thread per (query column, token), X fastest.
/// </summary>
internal static class GroupQueriesKernel
{
    public static void Run(Index2D i, ArrayView<float> qkv, ArrayView<ushort> q, PrefillArgs a)
    {
        int t = i.Y, c = i.X, hd = a.HeadDim, g = a.Heads / a.KvHeads;
        int h = c / hd, d = c - h * hd, kvh = h / g, j = h - kvh * g;
        q[(((long)kvh * a.Tokens + t) * g + j) * hd + d] = NumberBits.ToBf16(qkv[(long)t * a.QkvStride + c]);
    }
}

/// <summary>
/// Causal softmax of the score rows S [KvHeads·Tokens·G, Padded] (raw q·k from the product): row r of KV head kvh is
/// token t = r / G at position FirstPosition + t, which attends [lo, position] (lo from the sliding window). Each score
/// is ·Scale, optionally soft-capped; P̃ = exp(s − max) goes to probs in BF16 (same layout, zeros outside
/// [lo, position] so the next product can run over all Padded keys) unnormalized, and 1 / Σ P̃ (the F32 sum) to
/// invSum[r]: <see cref="UngroupOutputKernel"/> scales the product P̃·V by it, so each score costs one exponential.
/// One warp per row (no barriers): the first pass takes the maximum (four loads in flight per lane), a shuffle
/// butterfly merges the lanes, the second pass writes P̃ and sums it (four per step). Only the unmasked part of a row is
/// read, twice (the second time partly from cache); S is not written. Spare warps of the last group do nothing.
/// </summary>
internal static class CausalSoftmaxKernel
{
    public static void Run(ArrayView<float> scores, ArrayView<ushort> probs, ArrayView<float> invSum, PrefillArgs a)
    {
        int ws = Warp.WarpSize, lane = Warp.LaneIdx, nw = Group.DimX / ws;
        int row = Grid.IdxX * nw + Group.IdxX / ws;
        int g = a.Heads / a.KvHeads, rowsPerHead = a.Tokens * g;
        if (row >= a.KvHeads * rowsPerHead) return;
        int t = (row % rowsPerHead) / g;
        int pos = a.FirstPosition + t;
        int lo = a.SlidingWindow > 0 ? IntrinsicMath.Max(0, pos - a.SlidingWindow + 1) : 0;
        long o = (long)row * a.Padded;
        float m = float.NegativeInfinity;
        int p = lo + lane;
        for (; p + 3 * ws <= pos; p += 4 * ws)
        {
            float s0 = scores[o + p], s1 = scores[o + p + ws], s2 = scores[o + p + 2 * ws], s3 = scores[o + p + 3 * ws];
            m = IntrinsicMath.Max(m, IntrinsicMath.Max(IntrinsicMath.Max(Score(s0, a), Score(s1, a)), IntrinsicMath.Max(Score(s2, a), Score(s3, a))));
        }
        for (; p <= pos; p += ws) m = IntrinsicMath.Max(m, Score(scores[o + p], a));
        m = GroupReduce.WarpMax(m);
        float sum = 0f;
        int p0 = lane;
        for (; p0 + 3 * ws < a.Padded; p0 += 4 * ws)
        {
            float e0 = Exp(scores, o, p0, lo, pos, m, a), e1 = Exp(scores, o, p0 + ws, lo, pos, m, a);
            float e2 = Exp(scores, o, p0 + 2 * ws, lo, pos, m, a), e3 = Exp(scores, o, p0 + 3 * ws, lo, pos, m, a);
            probs[o + p0] = NumberBits.ToBf16(e0);
            probs[o + p0 + ws] = NumberBits.ToBf16(e1);
            probs[o + p0 + 2 * ws] = NumberBits.ToBf16(e2);
            probs[o + p0 + 3 * ws] = NumberBits.ToBf16(e3);
            sum += (e0 + e1) + (e2 + e3);
        }
        for (; p0 < a.Padded; p0 += ws)
        {
            float e = Exp(scores, o, p0, lo, pos, m, a);
            probs[o + p0] = NumberBits.ToBf16(e);
            sum += e;
        }
        sum = GroupReduce.WarpSum(sum);
        if (lane == 0) invSum[row] = 1f / sum;
    }

    /// <summary>exp(score − m) inside [lo, pos], 0 outside (the masked and padded keys).</summary>
    private static float Exp(ArrayView<float> scores, long o, int p, int lo, int pos, float m, PrefillArgs a) =>
        p >= lo && p <= pos ? KernelMath.Exp(Score(scores[o + p], a) - m) : 0f;

    private static float Score(float raw, PrefillArgs a)
    {
        float s = raw * a.Scale;
        return a.SoftCap > 0f ? a.SoftCap * KernelMath.Tanh(s / a.SoftCap) : s;
    }
}

/// <summary>
/// Attention output O [KvHeads, Tokens·G, HeadDim] (F32, from the product P̃·V) back to token rows
/// [Tokens, Heads·HeadDim], each row of O scaled by its softmax normalizer invSum[row] (see
/// <see cref="CausalSoftmaxKernel"/>): the inverse of <see cref="GroupQueriesKernel"/>'s row mapping.
/// </summary>
internal static class UngroupOutputKernel
{
    public static void Run(Index2D i, ArrayView<float> o, ArrayView<float> invSum, ArrayView<float> output, PrefillArgs a)
    {
        int t = i.Y, c = i.X, hd = a.HeadDim, g = a.Heads / a.KvHeads;
        int h = c / hd, d = c - h * hd, kvh = h / g, j = h - kvh * g;
        long row = ((long)kvh * a.Tokens + t) * g + j;
        output[(long)t * a.Heads * hd + c] = o[row * hd + d] * invSum[row];
    }
}
