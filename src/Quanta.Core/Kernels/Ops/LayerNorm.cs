using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// Layer normalization: y[i] = (x[i] − μ)·s·w[i] + b[i], μ = mean(x), s = 1/√(Σ(x−μ)²/n + eps) (two-pass variance).
/// Shapes: x, w, b, y are [n]; empty <c>weight</c> means w = 1, empty <c>bias</c> means b = 0. <c>y</c> may be <c>x</c>.
/// SIMD and scalar reference agree within ~1e-5 relative to the output scale.
/// </summary>
public static class LayerNorm
{
    /// <summary>Kernel name used with <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "layer_norm";

    /// <summary>SIMD dispatch.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, float eps)
    {
        Check(x, weight, bias, y);
        KernelPaths.Record(KernelName, SimdCapabilities.Widest);
        int n = x.Length;
        if (n == 0) return;
        float mean = Reductions.Sum(x) / n;
        float s = (float)(1.0 / Math.Sqrt((double)Reductions.SumOfSquaredDeviations(x, mean) / n + eps));
        bool hw = !weight.IsEmpty, hb = !bias.IsEmpty;
        if (!hw || !hb)
        {
            // Uncommon forms: vectorize only the centring/scaling, then apply whichever of w/b exists.
            ScaleCentred(x, mean, s, y);
            if (hw) Mul.Forward(y[..n], weight, y);
            if (hb) Add.Forward(y[..n], bias, y);
            return;
        }
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ws = ref MemoryMarshal.GetReference(weight);
        ref float bs = ref MemoryMarshal.GetReference(bias);
        ref float ys = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(mean); var sv = Vector512.Create(s);
            for (; i <= n - 16; i += 16)
                ((Vector512.LoadUnsafe(ref xs, (nuint)i) - m) * sv * Vector512.LoadUnsafe(ref ws, (nuint)i) + Vector512.LoadUnsafe(ref bs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(mean); var sv = Vector256.Create(s);
            for (; i <= n - 8; i += 8)
                ((Vector256.LoadUnsafe(ref xs, (nuint)i) - m) * sv * Vector256.LoadUnsafe(ref ws, (nuint)i) + Vector256.LoadUnsafe(ref bs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var m = Vector128.Create(mean); var sv = Vector128.Create(s);
            for (; i <= n - 4; i += 4)
                ((Vector128.LoadUnsafe(ref xs, (nuint)i) - m) * sv * Vector128.LoadUnsafe(ref ws, (nuint)i) + Vector128.LoadUnsafe(ref bs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref ys, i) = (Unsafe.Add(ref xs, i) - mean) * s * Unsafe.Add(ref ws, i) + Unsafe.Add(ref bs, i);
    }

    private static void ScaleCentred(ReadOnlySpan<float> x, float mean, float s, Span<float> y)
    {
        int n = x.Length;
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(mean); var sv = Vector512.Create(s);
            for (; i <= n - 16; i += 16) ((Vector512.LoadUnsafe(ref xs, (nuint)i) - m) * sv).StoreUnsafe(ref ys, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(mean); var sv = Vector256.Create(s);
            for (; i <= n - 8; i += 8) ((Vector256.LoadUnsafe(ref xs, (nuint)i) - m) * sv).StoreUnsafe(ref ys, (nuint)i);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var m = Vector128.Create(mean); var sv = Vector128.Create(s);
            for (; i <= n - 4; i += 4) ((Vector128.LoadUnsafe(ref xs, (nuint)i) - m) * sv).StoreUnsafe(ref ys, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref ys, i) = (Unsafe.Add(ref xs, i) - mean) * s;
    }

    /// <summary>Scalar reference: mean and variance accumulated in double, sequentially.</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, float eps)
    {
        Check(x, weight, bias, y);
        int n = x.Length;
        if (n == 0) return;
        double sum = 0;
        for (int i = 0; i < n; i++) sum += x[i];
        float mean = (float)(sum / n);
        double sq = 0;
        for (int i = 0; i < n; i++) { double d = x[i] - mean; sq += d * d; }
        float s = (float)(1.0 / Math.Sqrt(sq / n + eps));
        for (int i = 0; i < n; i++)
        {
            float v = (x[i] - mean) * s;
            if (!weight.IsEmpty) v *= weight[i];
            if (!bias.IsEmpty) v += bias[i];
            y[i] = v;
        }
    }

    private static void Check(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("Output is shorter than input.", nameof(y));
        if (!weight.IsEmpty && weight.Length != x.Length) throw new ArgumentException("Weight length differs from x.", nameof(weight));
        if (!bias.IsEmpty && bias.Length != x.Length) throw new ArgumentException("Bias length differs from x.", nameof(bias));
    }
}
