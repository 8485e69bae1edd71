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
/// is ·Scale, optionally soft-capped, then exp(s − max) / Σ into BF16 P (same layout), zeros outside [lo, position] so
/// the next product can run over all Padded keys. One warp per row (no barriers): the first pass keeps a running
/// maximum and a running sum of exponentials per lane (the sum rescaled when the maximum grows, four scores per step so
/// that their loads overlap), a shuffle butterfly merges the lanes, the second pass writes P (four per step). S is read twice (the second time mostly from cache) and never written;
/// only the unmasked part of a row is read. Rows beyond the last (the final group's spare warps) do nothing.
/// </summary>
internal static class CausalSoftmaxKernel
{
    public static void Run(ArrayView<float> scores, ArrayView<ushort> probs, PrefillArgs a)
    {
        int ws = Warp.WarpSize, lane = Warp.LaneIdx, nw = Group.DimX / ws;
        int row = Grid.IdxX * nw + Group.IdxX / ws;
        int g = a.Heads / a.KvHeads, rowsPerHead = a.Tokens * g;
        if (row >= a.KvHeads * rowsPerHead) return;
        int t = (row % rowsPerHead) / g;
        int pos = a.FirstPosition + t;
        int lo = a.SlidingWindow > 0 ? IntrinsicMath.Max(0, pos - a.SlidingWindow + 1) : 0;
        long o = (long)row * a.Padded;
        float m = float.NegativeInfinity, l = 0f;
        for (int p = lo + lane; p <= pos; p += 4 * ws)
        {
            // four scores per lane per step (loads in flight together), then one rescale of the running sum
            float s0 = Score(scores[o + p], a);
            float s1 = p + ws <= pos ? Score(scores[o + p + ws], a) : float.NegativeInfinity;
            float s2 = p + 2 * ws <= pos ? Score(scores[o + p + 2 * ws], a) : float.NegativeInfinity;
            float s3 = p + 3 * ws <= pos ? Score(scores[o + p + 3 * ws], a) : float.NegativeInfinity;
            float mn = IntrinsicMath.Max(m, IntrinsicMath.Max(IntrinsicMath.Max(s0, s1), IntrinsicMath.Max(s2, s3)));
            // Exp(−∞) = 0: the first step's old sum and the missing scores add nothing
            l = l * KernelMath.Exp(m - mn) + (KernelMath.Exp(s0 - mn) + KernelMath.Exp(s1 - mn) + (KernelMath.Exp(s2 - mn) + KernelMath.Exp(s3 - mn)));
            m = mn;
        }
        for (int k = ws / 2; k > 0; k >>= 1)
        {
            float m2 = Warp.ShuffleXor(m, k), l2 = Warp.ShuffleXor(l, k);
            float mm = IntrinsicMath.Max(m, m2);
            if (mm > float.NegativeInfinity)
            {
                l = (m > float.NegativeInfinity ? l * KernelMath.Exp(m - mm) : 0f) + (m2 > float.NegativeInfinity ? l2 * KernelMath.Exp(m2 - mm) : 0f);
                m = mm;
            }
        }
        float inv = 1f / l;
        int p0 = lane;
        for (; p0 + 3 * ws < a.Padded; p0 += 4 * ws)
        {
            ushort q0 = Prob(scores, o, p0, lo, pos, m, inv, a), q1 = Prob(scores, o, p0 + ws, lo, pos, m, inv, a);
            ushort q2 = Prob(scores, o, p0 + 2 * ws, lo, pos, m, inv, a), q3 = Prob(scores, o, p0 + 3 * ws, lo, pos, m, inv, a);
            probs[o + p0] = q0;
            probs[o + p0 + ws] = q1;
            probs[o + p0 + 2 * ws] = q2;
            probs[o + p0 + 3 * ws] = q3;
        }
        for (; p0 < a.Padded; p0 += ws) probs[o + p0] = Prob(scores, o, p0, lo, pos, m, inv, a);
    }

    private static ushort Prob(ArrayView<float> scores, long o, int p, int lo, int pos, float m, float inv, PrefillArgs a) =>
        p >= lo && p <= pos ? NumberBits.ToBf16(KernelMath.Exp(Score(scores[o + p], a) - m) * inv) : (ushort)0;

    private static float Score(float raw, PrefillArgs a)
    {
        float s = raw * a.Scale;
        return a.SoftCap > 0f ? a.SoftCap * KernelMath.Tanh(s / a.SoftCap) : s;
    }
}

/// <summary>
/// Attention output O [KvHeads, Tokens·G, HeadDim] (F32, from the product P·V) back to token rows
/// [Tokens, Heads·HeadDim]: the inverse of <see cref="GroupQueriesKernel"/>'s row mapping.
/// </summary>
internal static class UngroupOutputKernel
{
    public static void Run(Index2D i, ArrayView<float> o, ArrayView<float> output, PrefillArgs a)
    {
        int t = i.Y, c = i.X, hd = a.HeadDim, g = a.Heads / a.KvHeads;
        int h = c / hd, d = c - h * hd, kvh = h / g, j = h - kvh * g;
        output[(long)t * a.Heads * hd + c] = o[(((long)kvh * a.Tokens + t) * g + j) * hd + d];
    }
}
