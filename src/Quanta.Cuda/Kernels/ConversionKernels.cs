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
/// Largest |x| over x[0, count) into amaxBits[0] (as the bit pattern of a non-negative float, whose integer order is the
/// float order, so an integer atomic max suffices; NaN is skipped). Each group strides over the buffer, reduces its
/// threads' maxima in shared memory and issues one atomic, so a prefill-sized buffer costs one atomic per group, not
/// one per element. amaxBits[0] must be zeroed first.
/// </summary>
internal static class AbsMaxKernel
{
    public static void Run(ArrayView<float> x, ArrayView<int> amaxBits, int count)
    {
        var sh = SharedMemory.Allocate<int>(GpuKernels.MaxGroupSize);
        int tid = Group.IdxX, g = Group.DimX;
        int m = 0;
        for (long e = (long)Grid.IdxX * g + tid; e < count; e += (long)Grid.DimX * g)
        {
            uint b = Bits.FloatAsInt(x[e]) & 0x7FFFFFFFu;
            if (b <= 0x7F800000u) m = IntrinsicMath.Max(m, (int)b);
        }
        int groupMax = GroupReduce.Max(sh, m);
        if (tid == 0) Atomic.Max(ref amaxBits[0], groupMax);
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

/// <summary>
/// <see cref="AbsMaxKernel"/> and <see cref="QuantizeE4M3Kernel"/> in one group for small buffers (decode
/// activations): the group reduces the absolute maximum, then quantizes with scale = amax / 448 and stores the scale.
/// Same codes and scale as the two-kernel path, in one launch instead of three.
/// </summary>
internal static class QuantizeE4M3SmallKernel
{
    public static void Run(ArrayView<float> src, ArrayView<byte> dst, ArrayView<float> scaleOut, int count)
    {
        var sh = SharedMemory.Allocate<int>(GpuKernels.MaxGroupSize);
        int tid = Group.IdxX, g = Group.DimX;
        int m = 0, e0 = tid;
        for (; e0 + 3 * g < count; e0 += 4 * g)
        {
            // four loads in flight per thread
            uint b0 = Bits.FloatAsInt(src[e0]) & 0x7FFFFFFFu, b1 = Bits.FloatAsInt(src[e0 + g]) & 0x7FFFFFFFu;
            uint b2 = Bits.FloatAsInt(src[e0 + 2 * g]) & 0x7FFFFFFFu, b3 = Bits.FloatAsInt(src[e0 + 3 * g]) & 0x7FFFFFFFu;
            if (b0 <= 0x7F800000u) m = IntrinsicMath.Max(m, (int)b0);
            if (b1 <= 0x7F800000u) m = IntrinsicMath.Max(m, (int)b1);
            if (b2 <= 0x7F800000u) m = IntrinsicMath.Max(m, (int)b2);
            if (b3 <= 0x7F800000u) m = IntrinsicMath.Max(m, (int)b3);
        }
        for (; e0 < count; e0 += g)
        {
            uint b = Bits.FloatAsInt(src[e0]) & 0x7FFFFFFFu;
            if (b <= 0x7F800000u) m = IntrinsicMath.Max(m, (int)b);
        }
        float amax = Bits.IntAsFloat((uint)GroupReduce.Max(sh, m));
        float scale = amax > 0f && amax < float.PositiveInfinity ? amax / 448f : 1f;
        int e1 = tid;
        for (; e1 + 3 * g < count; e1 += 4 * g)
        {
            float v0 = src[e1], v1 = src[e1 + g], v2 = src[e1 + 2 * g], v3 = src[e1 + 3 * g];
            dst[e1] = NumberBits.ToE4M3(v0 / scale);
            dst[e1 + g] = NumberBits.ToE4M3(v1 / scale);
            dst[e1 + 2 * g] = NumberBits.ToE4M3(v2 / scale);
            dst[e1 + 3 * g] = NumberBits.ToE4M3(v3 / scale);
        }
        for (; e1 < count; e1 += g) dst[e1] = NumberBits.ToE4M3(src[e1] / scale);
        if (tid == 0) scaleOut[0] = scale;
    }
}

/// <summary>FP8 E4M3 → F32 with a scale: dst[i] = decode(src[i])·scale[0]. Reference: Fp8E4M3.DecodeRowReference.</summary>
internal static class DequantizeE4M3Kernel
{
    public static void Run(Index1D i, ArrayView<byte> src, ArrayView<float> scale, ArrayView<float> dst) =>
        dst[i] = NumberBits.FromE4M3(src[i]) * scale[0];
}
