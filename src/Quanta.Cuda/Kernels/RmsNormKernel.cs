using ILGPU;
using ILGPU.Runtime;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// RMSNorm of rows: y[r] = x[src(r)] · (1/√(mean(x[src(r)]²) + eps)) · w, one group per output row, sum of squares by a
/// shared-memory tree. src(r) = rowMap[r] when useMap ≠ 0 (gathering the rows whose logits are wanted), else r.
/// x [*, dim], w [dim]; the result goes to y [rows, dim] in F32, or to yBf16 [rows, dim] in BF16 (round to nearest
/// even) when toBf16 ≠ 0, ready for a BF16 matrix product. Loads are unrolled four deep so each thread keeps several in
/// flight. Reference: Quanta.Core RmsNorm.ForwardReference (which sums in double).
/// </summary>
internal static class RmsNormKernel
{
    public static void Run(ArrayView<float> x, ArrayView<float> w, ArrayView<float> y, ArrayView<ushort> yBf16, ArrayView<int> rowMap,
        int dim, float eps, int useMap, int toBf16)
    {
        var sh = SharedMemory.Allocate<float>(GpuKernels.MaxGroupSize);
        int r = Grid.IdxX, tid = Group.IdxX, g = Group.DimX;
        int src = useMap != 0 ? rowMap[r] : r;
        long xo = (long)src * dim, yo = (long)r * dim;
        float sum = 0f;
        int i = tid;
        for (; i + 3 * g < dim; i += 4 * g)
        {
            float a0 = x[xo + i], a1 = x[xo + i + g], a2 = x[xo + i + 2 * g], a3 = x[xo + i + 3 * g];
            sum += a0 * a0 + a1 * a1 + (a2 * a2 + a3 * a3);
        }
        for (; i < dim; i += g)
        {
            float v = x[xo + i];
            sum += v * v;
        }
        sh[tid] = sum;
        Group.Barrier();
        for (int s = g / 2; s > 0; s >>= 1)
        {
            if (tid < s) sh[tid] += sh[tid + s];
            Group.Barrier();
        }
        float scale = 1f / MathF.Sqrt(sh[0] / dim + eps);
        i = tid;
        for (; i + 3 * g < dim; i += 4 * g)
        {
            float a0 = x[xo + i], a1 = x[xo + i + g], a2 = x[xo + i + 2 * g], a3 = x[xo + i + 3 * g];
            float w0 = w[i], w1 = w[i + g], w2 = w[i + 2 * g], w3 = w[i + 3 * g];
            Store(y, yBf16, yo + i, a0 * scale * w0, toBf16);
            Store(y, yBf16, yo + i + g, a1 * scale * w1, toBf16);
            Store(y, yBf16, yo + i + 2 * g, a2 * scale * w2, toBf16);
            Store(y, yBf16, yo + i + 3 * g, a3 * scale * w3, toBf16);
        }
        for (; i < dim; i += g) Store(y, yBf16, yo + i, x[xo + i] * scale * w[i], toBf16);
    }

    private static void Store(ArrayView<float> y, ArrayView<ushort> yBf16, long at, float v, int toBf16)
    {
        if (toBf16 != 0) yBf16[at] = NumberBits.ToBf16(v);
        else y[at] = v;
    }
}
