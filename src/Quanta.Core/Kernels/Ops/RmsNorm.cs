using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// RMS normalization (Llama): y[i] = x[i]·s·w[i] with s = 1/√(Σx²/n + eps), computed as (x[i]·s)·w[i] like ggml's
/// rms_norm followed by mul. Shapes: x, w, y are [n]. <c>y</c> may be the same span as <c>x</c> (in place).
/// The sum of squares is vectorized (lane partial sums); SIMD and scalar reference agree within ~1e-6 relative.
/// </summary>
public static class RmsNorm
{
    /// <summary>Kernel name used with <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "rms_norm";

    /// <summary>y = x / rms(x) · w (SIMD dispatch).</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, float eps)
    {
        if (weight.Length != x.Length) throw new ArgumentException("Weight length differs from x.", nameof(weight));
        Run(x, weight, y, eps, hasWeight: true);
    }

    /// <summary>x = x / rms(x) · w in place.</summary>
    public static void ForwardInPlace(Span<float> x, ReadOnlySpan<float> weight, float eps) => Forward(x, weight, x, eps);

    /// <summary>y = x / rms(x), no weight (SIMD dispatch). <c>y</c> may be <c>x</c>.</summary>
    public static void ForwardNoWeight(ReadOnlySpan<float> x, Span<float> y, float eps) => Run(x, default, y, eps, hasWeight: false);

    /// <summary>The factor 1/√(mean(x²) + eps), computed from the vectorized sum of squares.</summary>
    public static float InverseRms(ReadOnlySpan<float> x, float eps) =>
        (float)(1.0 / Math.Sqrt((double)Reductions.SumOfSquares(x) / x.Length + eps));

    private static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, float eps, bool hasWeight)
    {
        if (y.Length < x.Length) throw new ArgumentException("Output is shorter than input.", nameof(y));
        KernelPaths.Record(KernelName, SimdCapabilities.Widest);
        int n = x.Length;
        if (n == 0) return;
        float s = InverseRms(x, eps);
        if (!hasWeight)
        {
            Scale.Forward(x, s, y);
            return;
        }
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ws = ref MemoryMarshal.GetReference(w);
        ref float ys = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var v = Vector512.Create(s);
            for (; i <= n - 16; i += 16)
                (Vector512.LoadUnsafe(ref xs, (nuint)i) * v * Vector512.LoadUnsafe(ref ws, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var v = Vector256.Create(s);
            for (; i <= n - 8; i += 8)
                (Vector256.LoadUnsafe(ref xs, (nuint)i) * v * Vector256.LoadUnsafe(ref ws, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var v = Vector128.Create(s);
            for (; i <= n - 4; i += 4)
                (Vector128.LoadUnsafe(ref xs, (nuint)i) * v * Vector128.LoadUnsafe(ref ws, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref ys, i) = Unsafe.Add(ref xs, i) * s * Unsafe.Add(ref ws, i);
    }

    /// <summary>
    /// Scalar reference: sequential sum of squares in double, then (x[i]·s)·w[i]. An empty <paramref name="weight"/>
    /// means no weight.
    /// </summary>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, float eps)
    {
        if (y.Length < x.Length) throw new ArgumentException("Output is shorter than input.", nameof(y));
        if (!weight.IsEmpty && weight.Length != x.Length) throw new ArgumentException("Weight length differs from x.", nameof(weight));
        int n = x.Length;
        if (n == 0) return;
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (double)x[i] * x[i];
        float s = (float)(1.0 / Math.Sqrt(sum / n + eps));
        for (int i = 0; i < n; i++) y[i] = weight.IsEmpty ? x[i] * s : x[i] * s * weight[i];
    }
}
