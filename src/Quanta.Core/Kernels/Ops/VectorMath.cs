using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// Lane-wise transcendental helpers the element-wise kernels share.
/// Tanh is computed as sign(x)·(1 − e)/(1 + e) with e = exp(−2|x|): absolute error about 1e-7 everywhere
/// (relative accuracy degrades only for |x| &lt; ~1e-3, where callers such as GELU and soft-capping need
/// absolute accuracy). Sigmoid is 1/(1 + exp(−x)).
/// </summary>
internal static class VectorMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        var e = Vector512.Exp(Vector512.Abs(x) * Vector512.Create(-2f));
        return Vector512.CopySign((Vector512<float>.One - e) / (Vector512<float>.One + e), x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        var e = Vector256.Exp(Vector256.Abs(x) * Vector256.Create(-2f));
        return Vector256.CopySign((Vector256<float>.One - e) / (Vector256<float>.One + e), x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Tanh(Vector128<float> x)
    {
        var e = Vector128.Exp(Vector128.Abs(x) * Vector128.Create(-2f));
        return Vector128.CopySign((Vector128<float>.One - e) / (Vector128<float>.One + e), x);
    }

    /// <summary>Scalar twin of the vector Tanh (same formula), used for loop tails.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Tanh(float x)
    {
        float e = MathF.Exp(MathF.Abs(x) * -2f);
        return MathF.CopySign((1f - e) / (1f + e), x);
    }
}
