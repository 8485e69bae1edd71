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
/// the next product can run over all Padded keys. One group per row; reductions by a shared-memory tree. Rows of at
/// most <see cref="RowCache"/> keys are read from S once and kept in shared memory (S is not written back); longer rows
/// go through S three times.
/// </summary>
internal static class CausalSoftmaxKernel
{
    /// <summary>Longest row kept in shared memory.</summary>
    public const int RowCache = 8192;

    public static void Run(ArrayView<float> scores, ArrayView<ushort> probs, PrefillArgs a)
    {
        var sh = SharedMemory.Allocate<float>(GpuKernels.MaxGroupSize);
        var cache = SharedMemory.Allocate<float>(RowCache);
        int row = Grid.IdxX, tid = Group.IdxX, g = Group.DimX;
        int rowsPerHead = a.Tokens * (a.Heads / a.KvHeads);
        int t = (row % rowsPerHead) / (a.Heads / a.KvHeads);
        int pos = a.FirstPosition + t;
        int lo = a.SlidingWindow > 0 ? IntrinsicMath.Max(0, pos - a.SlidingWindow + 1) : 0;
        bool cached = a.Padded <= RowCache;
        long o = (long)row * a.Padded;
        float localMax = float.NegativeInfinity;
        for (int p = lo + tid; p <= pos; p += g)
        {
            float s = scores[o + p] * a.Scale;
            if (a.SoftCap > 0f) s = a.SoftCap * KernelMath.Tanh(s / a.SoftCap);
            if (cached) cache[p] = s;
            else scores[o + p] = s;
            localMax = IntrinsicMath.Max(localMax, s);
        }
        float max = GroupReduce.Max(sh, localMax);
        Group.Barrier();
        float localSum = 0f;
        for (int p = lo + tid; p <= pos; p += g)
        {
            float e = KernelMath.Exp((cached ? cache[p] : scores[o + p]) - max);
            if (cached) cache[p] = e;
            else scores[o + p] = e;
            localSum += e;
        }
        float inv = 1f / GroupReduce.Sum(sh, localSum);
        for (int p = tid; p < a.Padded; p += g)
            probs[o + p] = p >= lo && p <= pos ? NumberBits.ToBf16((cached ? cache[p] : scores[o + p]) * inv) : (ushort)0;
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
