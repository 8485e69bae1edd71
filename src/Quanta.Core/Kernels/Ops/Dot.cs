using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// F32 dot product Σ a[i]·b[i] (attention scores). Vector lanes accumulate partial sums (separate multiply and
/// add, no fusion) combined at the end; the order depends only on the length. Agrees with the double-precision
/// reference within ~1e-6·Σ|a·b|.
/// </summary>
public static class Dot
{
    /// <summary>Kernel name used with <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "dot_f32";

    /// <summary>SIMD dispatch.</summary>
    public static float Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (b.Length != a.Length) throw new ArgumentException("Lengths differ.", nameof(b));
        KernelPaths.Record(KernelName, SimdCapabilities.Widest);
        return ComputeUnchecked(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), a.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float ComputeUnchecked(ref float a, ref float b, int n)
    {
        int i = 0;
        float total = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                acc0 += Vector512.LoadUnsafe(ref a, (nuint)i) * Vector512.LoadUnsafe(ref b, (nuint)i);
                acc1 += Vector512.LoadUnsafe(ref a, (nuint)(i + 16)) * Vector512.LoadUnsafe(ref b, (nuint)(i + 16));
            }
            for (; i <= n - 16; i += 16)
                acc0 += Vector512.LoadUnsafe(ref a, (nuint)i) * Vector512.LoadUnsafe(ref b, (nuint)i);
            total += Vector512.Sum(acc0 + acc1);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
                acc += Vector256.LoadUnsafe(ref a, (nuint)i) * Vector256.LoadUnsafe(ref b, (nuint)i);
            total += Vector256.Sum(acc);
        }
        if (Vector128.IsHardwareAccelerated && n - i >= 4)
        {
            var acc = Vector128<float>.Zero;
            for (; i <= n - 4; i += 4)
                acc += Vector128.LoadUnsafe(ref a, (nuint)i) * Vector128.LoadUnsafe(ref b, (nuint)i);
            total += Vector128.Sum(acc);
        }
        double tail = 0;
        for (; i < n; i++) tail += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
        return (float)(total + tail);
    }

    /// <summary>Scalar reference: sequential sum in double.</summary>
    public static float ComputeReference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (b.Length != a.Length) throw new ArgumentException("Lengths differ.", nameof(b));
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return (float)s;
    }
}
