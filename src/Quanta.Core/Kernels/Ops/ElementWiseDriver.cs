using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Ops;

/// <summary>An element-wise unary operation in scalar and every vector width (all must compute the same function).</summary>
internal interface IUnaryOp
{
    static abstract float Invoke(float x);
    static abstract Vector128<float> Invoke(Vector128<float> x);
    static abstract Vector256<float> Invoke(Vector256<float> x);
    static abstract Vector512<float> Invoke(Vector512<float> x);
}

/// <summary>An element-wise binary operation in scalar and every vector width.</summary>
internal interface IBinaryOp
{
    static abstract float Invoke(float a, float b);
    static abstract Vector128<float> Invoke(Vector128<float> a, Vector128<float> b);
    static abstract Vector256<float> Invoke(Vector256<float> a, Vector256<float> b);
    static abstract Vector512<float> Invoke(Vector512<float> a, Vector512<float> b);
}

/// <summary>
/// Shared loops for element-wise kernels: the widest accelerated width handles the bulk, narrower widths
/// the remainder, scalar the last few elements. Output may alias an input exactly (in place); partial
/// overlap is not supported.
/// </summary>
internal static class ElementWiseDriver
{
    public static void Unary<TOp>(string kernel, ReadOnlySpan<float> x, Span<float> y)
        where TOp : IUnaryOp
    {
        if (y.Length < x.Length) throw new ArgumentException("Output is shorter than input.", nameof(y));
        KernelPaths.Record(kernel, SimdCapabilities.Widest);
        int n = x.Length;
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
                TOp.Invoke(Vector512.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
                TOp.Invoke(Vector256.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 4; i += 4)
                TOp.Invoke(Vector128.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        for (; i < n; i++)
            Unsafe.Add(ref ys, i) = TOp.Invoke(Unsafe.Add(ref xs, i));
    }

    public static void UnaryReference<TOp>(ReadOnlySpan<float> x, Span<float> y)
        where TOp : IUnaryOp
    {
        if (y.Length < x.Length) throw new ArgumentException("Output is shorter than input.", nameof(y));
        for (int i = 0; i < x.Length; i++) y[i] = TOp.Invoke(x[i]);
    }

    public static void Binary<TOp>(string kernel, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
        where TOp : IBinaryOp
    {
        if (b.Length != a.Length) throw new ArgumentException("Inputs differ in length.", nameof(b));
        if (y.Length < a.Length) throw new ArgumentException("Output is shorter than input.", nameof(y));
        KernelPaths.Record(kernel, SimdCapabilities.Widest);
        int n = a.Length;
        ref float as_ = ref MemoryMarshal.GetReference(a);
        ref float bs = ref MemoryMarshal.GetReference(b);
        ref float ys = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
                TOp.Invoke(Vector512.LoadUnsafe(ref as_, (nuint)i), Vector512.LoadUnsafe(ref bs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
                TOp.Invoke(Vector256.LoadUnsafe(ref as_, (nuint)i), Vector256.LoadUnsafe(ref bs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 4; i += 4)
                TOp.Invoke(Vector128.LoadUnsafe(ref as_, (nuint)i), Vector128.LoadUnsafe(ref bs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        for (; i < n; i++)
            Unsafe.Add(ref ys, i) = TOp.Invoke(Unsafe.Add(ref as_, i), Unsafe.Add(ref bs, i));
    }

    public static void BinaryReference<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
        where TOp : IBinaryOp
    {
        if (b.Length != a.Length) throw new ArgumentException("Inputs differ in length.", nameof(b));
        if (y.Length < a.Length) throw new ArgumentException("Output is shorter than input.", nameof(y));
        for (int i = 0; i < a.Length; i++) y[i] = TOp.Invoke(a[i], b[i]);
    }
}
