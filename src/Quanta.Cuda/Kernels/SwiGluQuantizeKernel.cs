using ILGPU;
using Bits = ILGPU.Interop;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// SwiGLU (see <see cref="SwiGluKernel"/>) of one token straight into FP8 E4M3 with a per-tensor scale, in one group:
/// the first pass computes y[j] = silu(gu[j])·gu[ffn + j] and reduces amax(|y|) (NaN skipped), the second recomputes y
/// and writes E4M3(y / scale) with scale = amax / 448 (1 when zero or not finite) into codes, and the scale into
/// scaleOut[0]. The same codes and scale as <see cref="SwiGluKernel"/> followed by <see cref="QuantizeE4M3SmallKernel"/>
/// (the same float operations), without the F32 round trip and the second launch (decode's down projection input).
/// </summary>
internal static class SwiGluQuantizeKernel
{
    public static void Run(ArrayView<float> gu, ArrayView<byte> codes, ArrayView<float> scaleOut, int ffn)
    {
        var sh = SharedMemory.Allocate<int>(GpuKernels.MaxGroupSize);
        int tid = Group.IdxX, g = Group.DimX;
        int m = 0;
        for (int j = tid; j < ffn; j += g)
        {
            uint b = Bits.FloatAsInt(Value(gu, j, ffn)) & 0x7FFFFFFFu;
            if (b <= 0x7F800000u) m = IntrinsicMath.Max(m, (int)b);
        }
        float amax = Bits.IntAsFloat((uint)GroupReduce.Max(sh, m));
        float scale = amax > 0f && amax < float.PositiveInfinity ? amax / 448f : 1f;
        for (int j = tid; j < ffn; j += g) codes[j] = NumberBits.ToE4M3(Value(gu, j, ffn) / scale);
        if (tid == 0) scaleOut[0] = scale;
    }

    private static float Value(ArrayView<float> gu, int j, int ffn)
    {
        float gate = gu[j], up = gu[ffn + j];
        return gate / (1f + KernelMath.Exp(-gate)) * up;
    }
}
