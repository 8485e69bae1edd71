using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// SiLU (swish): y = x·σ(x) = x / (1 + exp(−x)), element-wise. <c>y</c> may be the same span as <c>x</c>.
/// Vector lanes use <c>VectorNNN.Exp</c>, the scalar reference <see cref="MathF.Exp"/>; they agree within a few ulp.
/// </summary>
public static class Silu
{
    /// <summary>Kernel name used with <see cref="Simd.KernelPaths"/>.</summary>
    public const string KernelName = "silu";

    /// <summary>y[i] = silu(x[i]) for i &lt; x.Length (SIMD dispatch).</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y) => ElementWiseDriver.Unary<SiluOp>(KernelName, x, y);

    /// <summary>Scalar reference of <see cref="Forward"/>.</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, Span<float> y) => ElementWiseDriver.UnaryReference<SiluOp>(x, y);

    /// <summary>silu(x) for one value.</summary>
    public static float Apply(float x) => x / (1f + MathF.Exp(-x));
}

internal readonly struct SiluOp : IUnaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Invoke(float x) => x / (1f + MathF.Exp(-x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Invoke(Vector128<float> x) => x / (Vector128<float>.One + Vector128.Exp(-x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Invoke(Vector256<float> x) => x / (Vector256<float>.One + Vector256.Exp(-x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Invoke(Vector512<float> x) => x / (Vector512<float>.One + Vector512.Exp(-x));
}
