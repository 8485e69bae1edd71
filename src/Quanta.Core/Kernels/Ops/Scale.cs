using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Ops;

/// <summary>Element-wise y[i] = s·x[i]. Shapes [n]; <c>y</c> may alias <c>x</c>. Exact (bit-identical on every path).</summary>
public static class Scale
{
    /// <summary>Kernel name used with <see cref="Simd.KernelPaths"/>.</summary>
    public const string KernelName = "scale";

    /// <summary>SIMD dispatch.</summary>
    public static void Forward(ReadOnlySpan<float> x, float s, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("Output is shorter than input.", nameof(y));
        KernelPaths.Record(KernelName, SimdCapabilities.Widest);
        int n = x.Length;
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var v = Vector512.Create(s);
            for (; i <= n - 16; i += 16) (Vector512.LoadUnsafe(ref xs, (nuint)i) * v).StoreUnsafe(ref ys, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var v = Vector256.Create(s);
            for (; i <= n - 8; i += 8) (Vector256.LoadUnsafe(ref xs, (nuint)i) * v).StoreUnsafe(ref ys, (nuint)i);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var v = Vector128.Create(s);
            for (; i <= n - 4; i += 4) (Vector128.LoadUnsafe(ref xs, (nuint)i) * v).StoreUnsafe(ref ys, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref ys, i) = Unsafe.Add(ref xs, i) * s;
    }

    /// <summary>In place: x[i] *= s.</summary>
    public static void InPlace(Span<float> x, float s) => Forward(x, s, x);

    /// <summary>Scalar reference.</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, float s, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("Output is shorter than input.", nameof(y));
        for (int i = 0; i < x.Length; i++) y[i] = x[i] * s;
    }
}
