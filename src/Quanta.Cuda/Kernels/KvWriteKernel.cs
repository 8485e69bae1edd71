using ILGPU;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// Writes the new tokens' keys and values (F32 columns [kOffset, kOffset + kvDim) and [vOffset, vOffset + kvDim) of the
/// fused QKV rows) into the paged BF16 cache: token t goes to slot slots[t] = physicalBlock·BlockSize + position %
/// BlockSize, cache layout [layers, slots, KvHeads, HeadDim]. One thread per (element, token): X (fastest) along the row for contiguous loads and stores.
/// Reference: SequenceKv.Write (engine block tables) followed by BF16 rounding.
/// </summary>
internal static class KvWriteKernel
{
    public static void Run(Index2D idx, ArrayView<float> qkv, ArrayView<int> slots, ArrayView<ushort> kCache, ArrayView<ushort> vCache,
        int rowStride, int kOffset, int vOffset, int kvDim, long layerOffset)
    {
        int t = idx.Y, e = idx.X;
        long dst = layerOffset + (long)slots[t] * kvDim + e;
        long src = (long)t * rowStride;
        kCache[dst] = NumberBits.ToBf16(qkv[src + kOffset + e]);
        vCache[dst] = NumberBits.ToBf16(qkv[src + vOffset + e]);
    }
}
