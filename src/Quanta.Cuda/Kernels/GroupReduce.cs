using ILGPU;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// Shared-memory tree reductions over one group, called by every thread of the group (they contain barriers): each
/// thread passes its value and gets the group's result. <c>sh</c> holds at least Group.DimX elements (a power of two)
/// and is overwritten; a caller that writes <c>sh</c> again must pass a barrier first.
/// </summary>
internal static class GroupReduce
{
    public static float Sum(ArrayView<float> sh, float value)
    {
        int tid = Group.IdxX;
        sh[tid] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (tid < s) sh[tid] += sh[tid + s];
            Group.Barrier();
        }
        return sh[0];
    }

    public static float Max(ArrayView<float> sh, float value)
    {
        int tid = Group.IdxX;
        sh[tid] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (tid < s) sh[tid] = IntrinsicMath.Max(sh[tid], sh[tid + s]);
            Group.Barrier();
        }
        return sh[0];
    }

    public static int Max(ArrayView<int> sh, int value)
    {
        int tid = Group.IdxX;
        sh[tid] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (tid < s) sh[tid] = IntrinsicMath.Max(sh[tid], sh[tid + s]);
            Group.Barrier();
        }
        return sh[0];
    }
}
