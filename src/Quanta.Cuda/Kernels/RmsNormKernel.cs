using ILGPU;
using ILGPU.Runtime;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// RMSNorm of rows: y[r] = x[src(r)] · (1/√(mean(x[src(r)]²) + eps)) · w, one group per output row, sum of squares by a
/// shared-memory tree. src(r) = rowMap[r] when useMap ≠ 0 (gathering the rows whose logits are wanted), else r.
/// x [*, dim], y [rows, dim], w [dim]. Reference: Quanta.Core RmsNorm.ForwardReference (which sums in double).
/// </summary>
internal static class RmsNormKernel
{
    public static void Run(ArrayView<float> x, ArrayView<float> w, ArrayView<float> y, ArrayView<int> rowMap, int dim, float eps, int useMap)
    {
        var sh = SharedMemory.Allocate<float>(GpuKernels.MaxGroupSize);
        int r = Grid.IdxX, tid = Group.IdxX, g = Group.DimX;
        int src = useMap != 0 ? rowMap[r] : r;
        long xo = (long)src * dim, yo = (long)r * dim;
        float sum = 0f;
        for (int i = tid; i < dim; i += g)
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
        for (int i = tid; i < dim; i += g) y[yo + i] = x[xo + i] * scale * w[i];
    }
}
