using ILGPU;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// Reductions over one group, called by every thread of the group (they contain barriers): each thread passes its
/// value and gets the group's result. Two levels: a butterfly of warp shuffles inside each warp, one shared-memory slot
/// per warp, then every warp reduces the slots with shuffles again (two barriers per reduction instead of one per
/// halving of a shared-memory tree). The group size is a multiple of the warp size. <c>sh</c> holds at least
/// Group.DimX / warp size elements and is overwritten; a caller that writes <c>sh</c> again must pass a barrier first.
/// The warp-level helpers (<see cref="WarpSum"/>, <see cref="WarpMax(float)"/>) give every lane of a warp its warp's result.
/// </summary>
internal static class GroupReduce
{
    public static float WarpSum(float v)
    {
        for (int m = Warp.WarpSize / 2; m > 0; m >>= 1) v += Warp.ShuffleXor(v, m);
        return v;
    }

    public static float WarpMax(float v)
    {
        for (int m = Warp.WarpSize / 2; m > 0; m >>= 1) v = IntrinsicMath.Max(v, Warp.ShuffleXor(v, m));
        return v;
    }

    public static int WarpMax(int v)
    {
        for (int m = Warp.WarpSize / 2; m > 0; m >>= 1) v = IntrinsicMath.Max(v, Warp.ShuffleXor(v, m));
        return v;
    }

    public static float Sum(ArrayView<float> sh, float value)
    {
        int ws = Warp.WarpSize, lane = Warp.LaneIdx, nw = Group.DimX / ws;
        float v = WarpSum(value);
        if (lane == 0) sh[Group.IdxX / ws] = v;
        Group.Barrier();
        float t = 0f;
        for (int i = lane; i < nw; i += ws) t += sh[i];
        return WarpSum(t);
    }

    public static float Max(ArrayView<float> sh, float value)
    {
        int ws = Warp.WarpSize, lane = Warp.LaneIdx, nw = Group.DimX / ws;
        float v = WarpMax(value);
        if (lane == 0) sh[Group.IdxX / ws] = v;
        Group.Barrier();
        float t = float.NegativeInfinity;
        for (int i = lane; i < nw; i += ws) t = IntrinsicMath.Max(t, sh[i]);
        return WarpMax(t);
    }

    public static int Max(ArrayView<int> sh, int value)
    {
        int ws = Warp.WarpSize, lane = Warp.LaneIdx, nw = Group.DimX / ws;
        int v = WarpMax(value);
        if (lane == 0) sh[Group.IdxX / ws] = v;
        Group.Barrier();
        int t = int.MinValue;
        for (int i = lane; i < nw; i += ws) t = IntrinsicMath.Max(t, sh[i]);
        return WarpMax(t);
    }
}
