using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// Fused SwiGLU: y[i] = silu(gate[i])·up[i] (Llama feed-forward). Shapes: gate, up, y are [n].
/// <c>y</c> may be the same span as <c>gate</c> or <c>up</c>.
/// </summary>
public static class SwiGlu
{
    /// <summary>Kernel name used with <see cref="Simd.KernelPaths"/>.</summary>
    public const string KernelName = "swiglu";

    /// <summary>SIMD dispatch.</summary>
    public static void Forward(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> y) =>
        ElementWiseDriver.Binary<SwiGluOp>(KernelName, gate, up, y);

    /// <summary>Scalar reference of <see cref="Forward"/>.</summary>
    public static void ForwardReference(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> y) =>
        ElementWiseDriver.BinaryReference<SwiGluOp>(gate, up, y);
}

internal readonly struct SwiGluOp : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Invoke(float g, float u) => SiluOp.Invoke(g) * u;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Invoke(Vector128<float> g, Vector128<float> u) => SiluOp.Invoke(g) * u;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Invoke(Vector256<float> g, Vector256<float> u) => SiluOp.Invoke(g) * u;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Invoke(Vector512<float> g, Vector512<float> u) => SiluOp.Invoke(g) * u;
}
