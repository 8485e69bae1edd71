using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Quanta.Core.Kernels.Ops;

/// <summary>Element-wise y[i] = a[i] + b[i] (residual add). Shapes [n]; <c>y</c> may alias <c>a</c> or <c>b</c>. Exact (bit-identical on every path).</summary>
public static class Add
{
    /// <summary>Kernel name used with <see cref="Simd.KernelPaths"/>.</summary>
    public const string KernelName = "add";

    /// <summary>SIMD dispatch.</summary>
    public static void Forward(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => ElementWiseDriver.Binary<AddOp>(KernelName, a, b, y);

    /// <summary>Scalar reference.</summary>
    public static void ForwardReference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => ElementWiseDriver.BinaryReference<AddOp>(a, b, y);
}

internal readonly struct AddOp : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Invoke(float a, float b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a + b;
}
