using ILGPU;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// Strided batched BF16 product with F32 output as a plain kernel (the CPU stand-in for cuBLASLt's batched product):
/// for b &lt; batch, y_b[i, j] = Σ_e x_b[i, e]·w_b[j, e] in e order, row-major with the given leading dimensions and
/// batch strides. One thread per (b, i, j).
/// </summary>
internal static class BatchedReferenceMatMulKernel
{
    public static void Run(Index3D idx, ArrayView<ushort> x, ArrayView<ushort> w, ArrayView<float> y, BatchedMatMulArgs a)
    {
        int b = idx.X, i = idx.Y, j = idx.Z;
        long xo = b * a.StrideX + (long)i * a.LdX, wo = b * a.StrideW + (long)j * a.LdW;
        float acc = 0f;
        for (int e = 0; e < a.K; e++) acc += NumberBits.FromBf16(x[xo + e]) * NumberBits.FromBf16(w[wo + e]);
        y[b * a.StrideY + (long)i * a.LdY + j] = acc;
    }
}

/// <summary>Shape of a strided batched product (see <see cref="BatchedReferenceMatMulKernel"/>).</summary>
internal struct BatchedMatMulArgs
{
    public int K, LdX, LdW, LdY;
    public long StrideX, StrideW, StrideY;
}
