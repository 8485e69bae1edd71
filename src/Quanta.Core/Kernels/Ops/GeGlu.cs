using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// Fused GeGLU: y[i] = gelu(gate[i])·up[i] (Gemma feed-forward), with the tanh-approximation GELU
/// (<see cref="Forward"/>) or the exact erf GELU (<see cref="ForwardErf"/>). Shapes: gate, up, y are [n].
/// <c>y</c> may be the same span as <c>gate</c> or <c>up</c>.
/// </summary>
public static class GeGlu
{
    /// <summary>Kernel name (tanh GELU) used with <see cref="Simd.KernelPaths"/>.</summary>
    public const string KernelName = "geglu_tanh";

    /// <summary>Kernel name (erf GELU) used with <see cref="Simd.KernelPaths"/>.</summary>
    public const string KernelNameErf = "geglu_erf";

    /// <summary>gelu_tanh(gate)·up, SIMD dispatch.</summary>
    public static void Forward(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> y) =>
        ElementWiseDriver.Binary<GeGluTanhOp>(KernelName, gate, up, y);

    /// <summary>Scalar reference of <see cref="Forward"/>.</summary>
    public static void ForwardReference(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> y) =>
        ElementWiseDriver.BinaryReference<GeGluTanhOp>(gate, up, y);

    /// <summary>gelu_erf(gate)·up, SIMD dispatch.</summary>
    public static void ForwardErf(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> y) =>
        ElementWiseDriver.Binary<GeGluErfOp>(KernelNameErf, gate, up, y);

    /// <summary>Scalar reference of <see cref="ForwardErf"/>.</summary>
    public static void ForwardErfReference(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> y) =>
        ElementWiseDriver.BinaryReference<GeGluErfOp>(gate, up, y);
}

internal readonly struct GeGluTanhOp : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Invoke(float g, float u) => GeluTanhOp.Invoke(g) * u;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Invoke(Vector128<float> g, Vector128<float> u) => GeluTanhOp.Invoke(g) * u;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Invoke(Vector256<float> g, Vector256<float> u) => GeluTanhOp.Invoke(g) * u;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Invoke(Vector512<float> g, Vector512<float> u) => GeluTanhOp.Invoke(g) * u;
}

internal readonly struct GeGluErfOp : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Invoke(float g, float u) => GeluErfOp.Invoke(g) * u;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Invoke(Vector128<float> g, Vector128<float> u) => GeluErfOp.Invoke(g) * u;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Invoke(Vector256<float> g, Vector256<float> u) => GeluErfOp.Invoke(g) * u;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Invoke(Vector512<float> g, Vector512<float> u) => GeluErfOp.Invoke(g) * u;
}
