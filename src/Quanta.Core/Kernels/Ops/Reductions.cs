using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// Vectorized reductions shared by the normalization and softmax kernels. Lane partial sums are combined at the
/// end, so results differ from a sequential scalar sum by rounding only (relative ~n·1e-7 worst case, far less
/// in practice; the scalar tail accumulates in double so the scalar-only path stays accurate for long rows).
/// The order depends only on the length, never on other data.
/// </summary>
internal static class Reductions
{
    /// <summary>Σ x[i]².</summary>
    public static float SumOfSquares(ReadOnlySpan<float> x)
    {
        int n = x.Length;
        ref float xs = ref MemoryMarshal.GetReference(x);
        int i = 0;
        float total = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                var a = Vector512.LoadUnsafe(ref xs, (nuint)i);
                var b = Vector512.LoadUnsafe(ref xs, (nuint)(i + 16));
                acc0 += a * a;
                acc1 += b * b;
            }
            for (; i <= n - 16; i += 16)
            {
                var a = Vector512.LoadUnsafe(ref xs, (nuint)i);
                acc0 += a * a;
            }
            total += Vector512.Sum(acc0 + acc1);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var a = Vector256.LoadUnsafe(ref xs, (nuint)i);
                acc += a * a;
            }
            total += Vector256.Sum(acc);
        }
        if (Vector128.IsHardwareAccelerated && n - i >= 4)
        {
            var acc = Vector128<float>.Zero;
            for (; i <= n - 4; i += 4)
            {
                var a = Vector128.LoadUnsafe(ref xs, (nuint)i);
                acc += a * a;
            }
            total += Vector128.Sum(acc);
        }
        double tail = 0;
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref xs, i);
            tail += v * v;
        }
        return (float)(total + tail);
    }

    /// <summary>Σ x[i].</summary>
    public static float Sum(ReadOnlySpan<float> x)
    {
        int n = x.Length;
        ref float xs = ref MemoryMarshal.GetReference(x);
        int i = 0;
        float total = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16) acc += Vector512.LoadUnsafe(ref xs, (nuint)i);
            total += Vector512.Sum(acc);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8) acc += Vector256.LoadUnsafe(ref xs, (nuint)i);
            total += Vector256.Sum(acc);
        }
        if (Vector128.IsHardwareAccelerated && n - i >= 4)
        {
            var acc = Vector128<float>.Zero;
            for (; i <= n - 4; i += 4) acc += Vector128.LoadUnsafe(ref xs, (nuint)i);
            total += Vector128.Sum(acc);
        }
        double tail = 0;
        for (; i < n; i++) tail += Unsafe.Add(ref xs, i);
        return (float)(total + tail);
    }

    /// <summary>Σ (x[i] − mean)².</summary>
    public static float SumOfSquaredDeviations(ReadOnlySpan<float> x, float mean)
    {
        int n = x.Length;
        ref float xs = ref MemoryMarshal.GetReference(x);
        int i = 0;
        float total = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            var m = Vector512.Create(mean);
            for (; i <= n - 16; i += 16)
            {
                var d = Vector512.LoadUnsafe(ref xs, (nuint)i) - m;
                acc += d * d;
            }
            total += Vector512.Sum(acc);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= 8)
        {
            var acc = Vector256<float>.Zero;
            var m = Vector256.Create(mean);
            for (; i <= n - 8; i += 8)
            {
                var d = Vector256.LoadUnsafe(ref xs, (nuint)i) - m;
                acc += d * d;
            }
            total += Vector256.Sum(acc);
        }
        if (Vector128.IsHardwareAccelerated && n - i >= 4)
        {
            var acc = Vector128<float>.Zero;
            var m = Vector128.Create(mean);
            for (; i <= n - 4; i += 4)
            {
                var d = Vector128.LoadUnsafe(ref xs, (nuint)i) - m;
                acc += d * d;
            }
            total += Vector128.Sum(acc);
        }
        double tail = 0;
        for (; i < n; i++)
        {
            float d = Unsafe.Add(ref xs, i) - mean;
            tail += d * d;
        }
        return (float)(total + tail);
    }

    /// <summary>max x[i] (NaN-free input assumed); −∞ for an empty span.</summary>
    public static float Max(ReadOnlySpan<float> x)
    {
        int n = x.Length;
        ref float xs = ref MemoryMarshal.GetReference(x);
        int i = 0;
        float best = float.NegativeInfinity;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc = Vector512.Create(float.NegativeInfinity);
            for (; i <= n - 16; i += 16) acc = Vector512.Max(acc, Vector512.LoadUnsafe(ref xs, (nuint)i));
            for (int k = 0; k < 16; k++) best = MathF.Max(best, acc[k]);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= 8)
        {
            var acc = Vector256.Create(float.NegativeInfinity);
            for (; i <= n - 8; i += 8) acc = Vector256.Max(acc, Vector256.LoadUnsafe(ref xs, (nuint)i));
            for (int k = 0; k < 8; k++) best = MathF.Max(best, acc[k]);
        }
        if (Vector128.IsHardwareAccelerated && n - i >= 4)
        {
            var acc = Vector128.Create(float.NegativeInfinity);
            for (; i <= n - 4; i += 4) acc = Vector128.Max(acc, Vector128.LoadUnsafe(ref xs, (nuint)i));
            for (int k = 0; k < 4; k++) best = MathF.Max(best, acc[k]);
        }
        for (; i < n; i++) best = MathF.Max(best, Unsafe.Add(ref xs, i));
        return best;
    }
}
