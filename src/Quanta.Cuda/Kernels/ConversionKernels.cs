using ILGPU;
using Bits = ILGPU.Interop;

namespace Quanta.Cuda.Kernels;

/// <summary>F32 → BF16 (round to nearest even). Reference: Quanta.Core BF16Conversion.FromSingle.</summary>
internal static class ToBf16Kernel
{
    public static void Run(Index1D i, ArrayView<float> src, ArrayView<ushort> dst) => dst[i] = NumberBits.ToBf16(src[i]);
}

/// <summary>BF16 → F32 (exact). Reference: Quanta.Core BF16Conversion.ToSingle.</summary>
internal static class FromBf16Kernel
{
    public static void Run(Index1D i, ArrayView<ushort> src, ArrayView<float> dst) => dst[i] = NumberBits.FromBf16(src[i]);
}

/// <summary>
/// Largest |x| over a buffer into amaxBits[0] (as the bit pattern of a non-negative float, whose integer order is the
/// float order, so an integer atomic max suffices; NaN is skipped). amaxBits[0] must be zeroed first.
/// </summary>
internal static class AbsMaxKernel
{
    public static void Run(Index1D i, ArrayView<float> x, ArrayView<int> amaxBits)
    {
        uint b = Bits.FloatAsInt(x[i]) & 0x7FFFFFFFu;
        if (b <= 0x7F800000u) Atomic.Max(ref amaxBits[0], (int)b);
    }
}

/// <summary>
/// FP8 E4M3 quantization with a per-tensor scale: scale = amax / 448 (1 when amax is 0 or not finite),
/// dst[i] = E4M3(src[i] / scale); element 0 also stores the scale in scaleOut[0] for the matrix product
/// (cuBLASLt's A/B scale pointer). Reference: Quanta.Core Fp8E4M3.EncodeRow with that scale.
/// </summary>
internal static class QuantizeE4M3Kernel
{
    public static void Run(Index1D i, ArrayView<float> src, ArrayView<int> amaxBits, ArrayView<byte> dst, ArrayView<float> scaleOut)
    {
        float amax = Bits.IntAsFloat((uint)amaxBits[0]);
        float scale = amax > 0f && amax < float.PositiveInfinity ? amax / 448f : 1f;
        dst[i] = NumberBits.ToE4M3(src[i] / scale);
        if (i == 0) scaleOut[0] = scale;
    }
}

/// <summary>FP8 E4M3 → F32 with a scale: dst[i] = decode(src[i])·scale[0]. Reference: Fp8E4M3.DecodeRowReference.</summary>
internal static class DequantizeE4M3Kernel
{
    public static void Run(Index1D i, ArrayView<byte> src, ArrayView<float> scale, ArrayView<float> dst) =>
        dst[i] = NumberBits.FromE4M3(src[i]) * scale[0];
}
