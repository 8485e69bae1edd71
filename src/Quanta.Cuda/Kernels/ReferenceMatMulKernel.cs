using ILGPU;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// The matrix product the executor asks cuBLASLt for, as a plain kernel (the stand-in on the CPU accelerator and a
/// cross-check on the GPU): y[i, j] = (Σ_k x[i, k]·w[j, k])·sx·sw, x [m, k] and w [n, k] row-major in BF16
/// (format 0; 2 bytes little-endian) or FP8 E4M3 (format 1), F32 accumulation in k order, y [m, n] F32.
/// sx = xScale[0], sw = wScale[0]. One thread per output element.
/// </summary>
internal static class ReferenceMatMulKernel
{
    public static void Run(Index2D idx, ArrayView<byte> x, ArrayView<byte> w, ArrayView<float> xScale, ArrayView<float> wScale,
        ArrayView<float> y, int n, int k, int format)
    {
        int i = idx.X, j = idx.Y;
        float acc = 0f;
        if (format == 0)
        {
            ArrayView<ushort> x16 = x.Cast<ushort>(), w16 = w.Cast<ushort>();
            long xo = (long)i * k, wo = (long)j * k;
            for (int e = 0; e < k; e++) acc += NumberBits.FromBf16(x16[xo + e]) * NumberBits.FromBf16(w16[wo + e]);
        }
        else
        {
            long xo = (long)i * k, wo = (long)j * k;
            for (int e = 0; e < k; e++) acc += NumberBits.FromE4M3(x[xo + e]) * NumberBits.FromE4M3(w[wo + e]);
        }
        y[(long)i * n + j] = acc * (xScale[0] * wScale[0]);
    }
}
