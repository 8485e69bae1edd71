using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// GELU, element-wise, in two forms:
/// <list type="bullet">
/// <item><see cref="Forward"/>: tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (GPT-2, ggml_gelu).</item>
/// <item><see cref="ForwardErf"/>: exact 0.5·x·(1 + erf(x/√2)) with <see cref="FloatErf"/>.</item>
/// </list>
/// <c>y</c> may be the same span as <c>x</c>. SIMD and scalar agree within about 1e-6·(1 + |x|) absolute.
/// </summary>
public static class Gelu
{
    /// <summary>Kernel name (tanh form) used with <see cref="Simd.KernelPaths"/>.</summary>
    public const string KernelName = "gelu_tanh";

    /// <summary>Kernel name (erf form) used with <see cref="Simd.KernelPaths"/>.</summary>
    public const string KernelNameErf = "gelu_erf";

    internal const float SqrtTwoOverPi = 0.7978845608028654f;
    internal const float Coef = 0.044715f;
    internal const float InvSqrt2 = 0.7071067811865476f;

    /// <summary>Tanh-approximation GELU (SIMD dispatch).</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y) => ElementWiseDriver.Unary<GeluTanhOp>(KernelName, x, y);

    /// <summary>Scalar reference of <see cref="Forward"/> (uses <see cref="MathF.Tanh"/>).</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, Span<float> y) => ElementWiseDriver.UnaryReference<GeluTanhOp>(x, y);

    /// <summary>Exact (erf) GELU (SIMD dispatch).</summary>
    public static void ForwardErf(ReadOnlySpan<float> x, Span<float> y) => ElementWiseDriver.Unary<GeluErfOp>(KernelNameErf, x, y);

    /// <summary>Scalar reference of <see cref="ForwardErf"/>.</summary>
    public static void ForwardErfReference(ReadOnlySpan<float> x, Span<float> y) => ElementWiseDriver.UnaryReference<GeluErfOp>(x, y);
}

internal readonly struct GeluTanhOp : IUnaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Invoke(float x) =>
        0.5f * x * (1f + MathF.Tanh(Gelu.SqrtTwoOverPi * x * (1f + Gelu.Coef * x * x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Invoke(Vector128<float> x) =>
        Vector128.Create(0.5f) * x * (Vector128<float>.One + VectorMath.Tanh(Vector128.Create(Gelu.SqrtTwoOverPi) * x * (Vector128<float>.One + Vector128.Create(Gelu.Coef) * x * x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Invoke(Vector256<float> x) =>
        Vector256.Create(0.5f) * x * (Vector256<float>.One + VectorMath.Tanh(Vector256.Create(Gelu.SqrtTwoOverPi) * x * (Vector256<float>.One + Vector256.Create(Gelu.Coef) * x * x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Invoke(Vector512<float> x) =>
        Vector512.Create(0.5f) * x * (Vector512<float>.One + VectorMath.Tanh(Vector512.Create(Gelu.SqrtTwoOverPi) * x * (Vector512<float>.One + Vector512.Create(Gelu.Coef) * x * x)));
}

internal readonly struct GeluErfOp : IUnaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Invoke(float x) => 0.5f * x * (1f + FloatErf.Erf(x * Gelu.InvSqrt2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Invoke(Vector128<float> x) =>
        Vector128.Create(0.5f) * x * (Vector128<float>.One + FloatErf.Erf(x * Vector128.Create(Gelu.InvSqrt2)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Invoke(Vector256<float> x) =>
        Vector256.Create(0.5f) * x * (Vector256<float>.One + FloatErf.Erf(x * Vector256.Create(Gelu.InvSqrt2)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Invoke(Vector512<float> x) =>
        Vector512.Create(0.5f) * x * (Vector512<float>.One + FloatErf.Erf(x * Vector512.Create(Gelu.InvSqrt2)));
}
