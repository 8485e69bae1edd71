using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// y[i] += a·x[i] (axpy), computed as a separate multiply and add (no fusion) so every path gives the same bits.
/// Shapes: x, y are [n].
/// </summary>
public static class AddScaled
{
    /// <summary>Kernel name used with <see cref="Simd.KernelPaths"/>.</summary>
    public const string KernelName = "add_scaled";

    /// <summary>SIMD dispatch.</summary>
    public static void Forward(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length != x.Length) throw new ArgumentException("x and y differ in length.", nameof(y));
        KernelPaths.Record(KernelName, SimdCapabilities.Widest);
        Core(a, ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), x.Length);
    }

    /// <summary>Unchecked, unrecorded body for kernels that call it in inner loops (they record their own dispatch).</summary>
    internal static void Core(float a, ref float xs, ref float ys, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var v = Vector512.Create(a);
            for (; i <= n - 16; i += 16)
                (Vector512.LoadUnsafe(ref ys, (nuint)i) + Vector512.LoadUnsafe(ref xs, (nuint)i) * v).StoreUnsafe(ref ys, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var v = Vector256.Create(a);
            for (; i <= n - 8; i += 8)
                (Vector256.LoadUnsafe(ref ys, (nuint)i) + Vector256.LoadUnsafe(ref xs, (nuint)i) * v).StoreUnsafe(ref ys, (nuint)i);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var v = Vector128.Create(a);
            for (; i <= n - 4; i += 4)
                (Vector128.LoadUnsafe(ref ys, (nuint)i) + Vector128.LoadUnsafe(ref xs, (nuint)i) * v).StoreUnsafe(ref ys, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref ys, i) += Unsafe.Add(ref xs, i) * a;
    }

    /// <summary>Scalar reference.</summary>
    public static void ForwardReference(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length != x.Length) throw new ArgumentException("x and y differ in length.", nameof(y));
        for (int i = 0; i < x.Length; i++) y[i] += x[i] * a;
    }
}
