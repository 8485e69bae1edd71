using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// Layer normalization of one contiguous row: μ = mean x, r = 1/√(mean (x − μ)² + ε), y = (x − μ)·r·γ + β (β optional,
/// empty span = 0). Two passes over x for the statistics (float vector sums), one for the output. Paths Vector512 →
/// Vector256 → Vector128 → scalar; <see cref="Reference"/> sums in double.
/// </summary>
public static class LayerNormKernel
{
    /// <summary>Normalizes x into y (y may be x); gamma has x.Length values, beta x.Length or none. Returns (μ, r).</summary>
    public static (float Mean, float InvStd) Row(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float epsilon, Span<float> y) =>
        Row(GeluKernel.DefaultPath, x, gamma, beta, epsilon, y);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static (float Mean, float InvStd) Row(int path, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float epsilon, Span<float> y)
    {
        int n = x.Length;
        if (gamma.Length != n || (beta.Length != 0 && beta.Length != n) || y.Length < n)
            throw new ArgumentException($"layer norm of {n} values with gamma {gamma.Length}, beta {beta.Length}, output {y.Length}");
        if (n == 0) return (0, 0);
        KernelPaths.Record("LayerNorm", Sgemm.PathName(path));
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rg = ref MemoryMarshal.GetReference(gamma);
        ref float rb = ref MemoryMarshal.GetReference(beta);
        bool hasBeta = beta.Length > 0;

        float sum = 0;
        int i = 0;
        if (path >= 3) { var s = Vector512<float>.Zero; for (; i + 16 <= n; i += 16) s += Vector512.LoadUnsafe(ref rx, (nuint)i); sum += Vector512.Sum(s); }
        if (path >= 2) { var s = Vector256<float>.Zero; for (; i + 8 <= n; i += 8) s += Vector256.LoadUnsafe(ref rx, (nuint)i); sum += Vector256.Sum(s); }
        if (path >= 1) { var s = Vector128<float>.Zero; for (; i + 4 <= n; i += 4) s += Vector128.LoadUnsafe(ref rx, (nuint)i); sum += Vector128.Sum(s); }
        for (; i < n; i++) sum += x[i];
        float mu = sum / n;

        float sq = 0;
        i = 0;
        if (path >= 3) { var m = Vector512.Create(mu); var s = Vector512<float>.Zero; for (; i + 16 <= n; i += 16) { var d = Vector512.LoadUnsafe(ref rx, (nuint)i) - m; s += d * d; } sq += Vector512.Sum(s); }
        if (path >= 2) { var m = Vector256.Create(mu); var s = Vector256<float>.Zero; for (; i + 8 <= n; i += 8) { var d = Vector256.LoadUnsafe(ref rx, (nuint)i) - m; s += d * d; } sq += Vector256.Sum(s); }
        if (path >= 1) { var m = Vector128.Create(mu); var s = Vector128<float>.Zero; for (; i + 4 <= n; i += 4) { var d = Vector128.LoadUnsafe(ref rx, (nuint)i) - m; s += d * d; } sq += Vector128.Sum(s); }
        for (; i < n; i++) { float d = x[i] - mu; sq += d * d; }
        float r = 1f / MathF.Sqrt(sq / n + epsilon);

        i = 0;
        if (path >= 3)
        {
            var m = Vector512.Create(mu); var vr = Vector512.Create(r);
            for (; i + 16 <= n; i += 16)
            {
                var v = (Vector512.LoadUnsafe(ref rx, (nuint)i) - m) * vr * Vector512.LoadUnsafe(ref rg, (nuint)i);
                if (hasBeta) v += Vector512.LoadUnsafe(ref rb, (nuint)i);
                v.StoreUnsafe(ref ry, (nuint)i);
            }
        }
        if (path >= 2)
        {
            var m = Vector256.Create(mu); var vr = Vector256.Create(r);
            for (; i + 8 <= n; i += 8)
            {
                var v = (Vector256.LoadUnsafe(ref rx, (nuint)i) - m) * vr * Vector256.LoadUnsafe(ref rg, (nuint)i);
                if (hasBeta) v += Vector256.LoadUnsafe(ref rb, (nuint)i);
                v.StoreUnsafe(ref ry, (nuint)i);
            }
        }
        if (path >= 1)
        {
            var m = Vector128.Create(mu); var vr = Vector128.Create(r);
            for (; i + 4 <= n; i += 4)
            {
                var v = (Vector128.LoadUnsafe(ref rx, (nuint)i) - m) * vr * Vector128.LoadUnsafe(ref rg, (nuint)i);
                if (hasBeta) v += Vector128.LoadUnsafe(ref rb, (nuint)i);
                v.StoreUnsafe(ref ry, (nuint)i);
            }
        }
        for (; i < n; i++) y[i] = (x[i] - mu) * r * gamma[i] + (hasBeta ? beta[i] : 0f);
        return (mu, r);
    }

    /// <summary>Scalar reference with double sums.</summary>
    public static void Reference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float epsilon, Span<float> y)
    {
        double s = 0;
        foreach (float v in x) s += v;
        double mu = s / x.Length, q = 0;
        foreach (float v in x) q += (v - mu) * (v - mu);
        double r = 1 / Math.Sqrt(q / x.Length + epsilon);
        for (int i = 0; i < x.Length; i++) y[i] = (float)((x[i] - mu) * r * gamma[i] + (beta.Length > 0 ? beta[i] : 0));
    }
}
