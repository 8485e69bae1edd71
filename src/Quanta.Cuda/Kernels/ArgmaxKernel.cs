using ILGPU;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// Greedy sampling: index of the largest value of each row of x [rows, n] (the first on ties; NaN never wins), one
/// group per row with a shared-memory tree. Reference: Quanta.Core Argmax.Find.
/// </summary>
internal static class ArgmaxKernel
{
    public static void Run(ArrayView<float> x, ArrayView<int> result, int n)
    {
        var bestV = SharedMemory.Allocate<float>(GpuKernels.MaxGroupSize);
        var bestI = SharedMemory.Allocate<int>(GpuKernels.MaxGroupSize);
        int r = Grid.IdxX, tid = Group.IdxX, g = Group.DimX;
        long o = (long)r * n;
        float bv = float.NegativeInfinity;
        int bi = int.MaxValue;
        for (int i = tid; i < n; i += g)
        {
            float v = x[o + i];
            if (v > bv || (bi == int.MaxValue && v == bv)) { bv = v; bi = i; }
        }
        bestV[tid] = bv;
        bestI[tid] = bi;
        Group.Barrier();
        for (int s = g / 2; s > 0; s >>= 1)
        {
            if (tid < s)
            {
                float ov = bestV[tid + s];
                int oi = bestI[tid + s];
                if (ov > bestV[tid] || (ov == bestV[tid] && oi < bestI[tid])) { bestV[tid] = ov; bestI[tid] = oi; }
            }
            Group.Barrier();
        }
        if (tid == 0) result[r] = bestI[0] == int.MaxValue ? 0 : bestI[0];
    }
}
