using ILGPU;

namespace Quanta.Cuda.Kernels;

/// <summary>Scalar arguments of <see cref="RopeKvWriteKernel"/>.</summary>
internal struct RopeKvArgs
{
    public int Heads, HeadDim, Rot, Neox;   // query heads, head size, rotary dims (even, ≤ HeadDim), 1: NeoX pairs
    public int QkvStride, KOffset, VOffset; // floats per token row; key and value columns
    public int KvDim;                       // KvHeads·HeadDim
    public long LayerOffset;                // elements: layer · slots · KvDim
}

/// <summary>
/// RoPE of the queries in place and of the keys on their way into the paged BF16 cache, with the values, in one launch
/// (the decode step's three small kernels as one). Threads x &lt; Heads·Rot/2 rotate one query pair in place exactly as
/// <see cref="RopeKernel"/> does; the next KvDim threads each take one key element, rotate it from the unrotated pair in
/// the QKV row (y_j = x_j·C_j + x_partner·S_j, partner j^1 in the normal layout, j ± Rot/2 in NeoX; the same expression
/// as the in-place kernel), and write it and the value element to slot slots[t] as <see cref="KvWriteKernel"/> does.
/// The keys in the QKV buffer stay unrotated: attention reads them from the cache. Index (x, token), x fastest.
/// </summary>
internal static class RopeKvWriteKernel
{
    public static void Run(Index2D idx, ArrayView<float> qkv, ArrayView<int> positions, ArrayView<int> slots, ArrayView<float> c,
        ArrayView<float> s, ArrayView<ushort> kCache, ArrayView<ushort> vCache, RopeKvArgs a)
    {
        int x = idx.X, t = idx.Y, half = a.Rot / 2, qPairs = a.Heads * half;
        long row = (long)t * a.QkvStride;
        long tb = (long)positions[t] * a.Rot;
        if (x < qPairs)
        {
            int h = x / half, i = x - h * half;
            int j0 = a.Neox != 0 ? i : 2 * i, j1 = a.Neox != 0 ? i + half : 2 * i + 1;
            long b = row + (long)h * a.HeadDim;
            float x0 = qkv[b + j0], x1 = qkv[b + j1];
            qkv[b + j0] = x0 * c[tb + j0] + x1 * s[tb + j0];
            qkv[b + j1] = x1 * c[tb + j1] + x0 * s[tb + j1];
            return;
        }
        int e = x - qPairs;
        int kh = e / a.HeadDim, j = e - kh * a.HeadDim;
        long kb = row + a.KOffset + (long)kh * a.HeadDim;
        float k = qkv[kb + j];
        if (j < a.Rot)
        {
            int p = a.Neox != 0 ? (j < half ? j + half : j - half) : (j ^ 1);
            k = k * c[tb + j] + qkv[kb + p] * s[tb + j];
        }
        long dst = a.LayerOffset + (long)slots[t] * a.KvDim + e;
        kCache[dst] = NumberBits.ToBf16(k);
        vCache[dst] = NumberBits.ToBf16(qkv[row + a.VOffset + e]);
    }
}
