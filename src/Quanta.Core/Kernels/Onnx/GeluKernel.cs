using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// GELU with the exact (erf) form, y = ½·x·(1 + erf(x/√2)), for the graph executor. erf is evaluated with the
/// Abramowitz–Stegun 7.1.26 approximation (|error| ≤ 1.5e-7): erf(z) = 1 − t·(a₁ + t·(a₂ + …))·e^(−z²), t = 1/(1 + p·z)
/// for z ≥ 0, odd extension, evaluated as max(x, 0) − ½·|x|·(1 − erf(|x|/√2)) with fused multiply-adds, the FMA e^x
/// (<see cref="FastExp.ExpFused(Vector512{float})"/>) and a refined reciprocal estimate where the ISA has one. Every
/// path (Vector512, Vector256, Vector128, scalar) evaluates the same formula; results agree to a few ulps. <see cref="Reference"/> uses
/// a double-precision erf series for tests.
/// </summary>
public static class GeluKernel
{
    private const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
    private const float InvSqrt2 = 0.70710678118654752f;

    /// <summary>The widest path here: 3 = Vector512, 2 = Vector256, 1 = Vector128, 0 = scalar.</summary>
    internal static int DefaultPath =>
        Vector512.IsHardwareAccelerated ? 3 : Vector256.IsHardwareAccelerated ? 2 : Vector128.IsHardwareAccelerated ? 1 : 0;

    /// <summary>y[i] = GELU(x[i]); y may be x.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => Apply(DefaultPath, x, y);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void Apply(int path, ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException($"output of {y.Length} for {x.Length} values", nameof(y));
        KernelPaths.Record("Gelu", Sgemm.PathName(path));
        int i = 0;
        if (path >= 3)
            for (; i + 16 <= x.Length; i += 16) Vector512.StoreUnsafe(G512(Vector512.LoadUnsafe(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x), (nuint)i)), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y), (nuint)i);
        if (path >= 2)
            for (; i + 8 <= x.Length; i += 8) Vector256.StoreUnsafe(G256(Vector256.LoadUnsafe(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x), (nuint)i)), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y), (nuint)i);
        if (path >= 1)
            for (; i + 4 <= x.Length; i += 4) Vector128.StoreUnsafe(G128(Vector128.LoadUnsafe(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x), (nuint)i)), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y), (nuint)i);
        for (; i < x.Length; i++) y[i] = Scalar(x[i]);
    }

    // Every width evaluates, with q = 1 − erf(|x|/√2) = t·poly(t)·e^(−z²), z = |x|/√2, t = 1/(1 + p·z):
    //   GELU(x) = ½·x·(1 + erf(x/√2)) = max(x, 0) − ½·|x|·q   (x ≥ 0: x − ½·x·q; x < 0: ½·x·q)
    // with fused multiply-adds, the FMA e^x (FastExp.ExpFused) and, where the ISA has one, a reciprocal estimate refined
    // by one Newton step instead of a division (14-bit AVX-512 or 12-bit SSE/AVX estimate → about 2⁻²⁴ after the step).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> G512(Vector512<float> x)
    {
        var a = Vector512.Abs(x);
        var z = a * Vector512.Create(InvSqrt2);
        var den = Vector512.MultiplyAddEstimate(Vector512.Create(P), z, Vector512<float>.One);
        Vector512<float> t;
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
        {
            var r0 = System.Runtime.Intrinsics.X86.Avx512F.Reciprocal14(den);
            t = Vector512.MultiplyAddEstimate(r0, Vector512.MultiplyAddEstimate(-den, r0, Vector512<float>.One), r0);
        }
        else t = Vector512<float>.One / den;
        var poly = Vector512.MultiplyAddEstimate(Vector512.Create(A5), t, Vector512.Create(A4));
        poly = Vector512.MultiplyAddEstimate(poly, t, Vector512.Create(A3));
        poly = Vector512.MultiplyAddEstimate(poly, t, Vector512.Create(A2));
        poly = Vector512.MultiplyAddEstimate(poly, t, Vector512.Create(A1));
        var q = poly * t * FastExp.ExpFused(-(z * z));
        return Vector512.MultiplyAddEstimate(-(a * Vector512.Create(0.5f)), q, Vector512.Max(x, Vector512<float>.Zero));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> G256(Vector256<float> x)
    {
        var a = Vector256.Abs(x);
        var z = a * Vector256.Create(InvSqrt2);
        var den = Vector256.MultiplyAddEstimate(Vector256.Create(P), z, Vector256<float>.One);
        Vector256<float> t;
        if (System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            var r0 = System.Runtime.Intrinsics.X86.Avx.Reciprocal(den);
            t = Vector256.MultiplyAddEstimate(r0, Vector256.MultiplyAddEstimate(-den, r0, Vector256<float>.One), r0);
        }
        else t = Vector256<float>.One / den;
        var poly = Vector256.MultiplyAddEstimate(Vector256.Create(A5), t, Vector256.Create(A4));
        poly = Vector256.MultiplyAddEstimate(poly, t, Vector256.Create(A3));
        poly = Vector256.MultiplyAddEstimate(poly, t, Vector256.Create(A2));
        poly = Vector256.MultiplyAddEstimate(poly, t, Vector256.Create(A1));
        var q = poly * t * FastExp.ExpFused(-(z * z));
        return Vector256.MultiplyAddEstimate(-(a * Vector256.Create(0.5f)), q, Vector256.Max(x, Vector256<float>.Zero));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> G128(Vector128<float> x)
    {
        var a = Vector128.Abs(x);
        var z = a * Vector128.Create(InvSqrt2);
        var den = Vector128.MultiplyAddEstimate(Vector128.Create(P), z, Vector128<float>.One);
        Vector128<float> t;
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            var r0 = System.Runtime.Intrinsics.X86.Sse.Reciprocal(den);
            t = Vector128.MultiplyAddEstimate(r0, Vector128.MultiplyAddEstimate(-den, r0, Vector128<float>.One), r0);
        }
        else t = Vector128<float>.One / den;
        var poly = Vector128.MultiplyAddEstimate(Vector128.Create(A5), t, Vector128.Create(A4));
        poly = Vector128.MultiplyAddEstimate(poly, t, Vector128.Create(A3));
        poly = Vector128.MultiplyAddEstimate(poly, t, Vector128.Create(A2));
        poly = Vector128.MultiplyAddEstimate(poly, t, Vector128.Create(A1));
        var q = poly * t * FastExp.ExpFused(-(z * z));
        return Vector128.MultiplyAddEstimate(-(a * Vector128.Create(0.5f)), q, Vector128.Max(x, Vector128<float>.Zero));
    }

    internal static float Scalar(float x)
    {
        float a = Math.Abs(x);
        float z = a * InvSqrt2;
        float t = 1f / float.MultiplyAddEstimate(P, z, 1f);
        float poly = float.MultiplyAddEstimate(float.MultiplyAddEstimate(float.MultiplyAddEstimate(float.MultiplyAddEstimate(A5, t, A4), t, A3), t, A2), t, A1);
        float q = poly * t * FastExp.ScalarFused(-(z * z));
        return float.MultiplyAddEstimate(-(a * 0.5f), q, Math.Max(x, 0f));
    }

    /// <summary>Reference GELU in double precision: erf from its Maclaurin series (|z| &lt; 3) or continued fraction.</summary>
    public static double Reference(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    private static double Erf(double z)
    {
        double a = Math.Abs(z);
        double r;
        if (a < 3)
        {
            // erf z = 2/√π Σ (-1)^n z^(2n+1) / (n! (2n+1))
            double term = a, sum = a;
            for (int n = 1; n < 200 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= -a * a / n;
                sum += term / (2 * n + 1);
            }
            r = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc z = e^(−z²)/√π · 1/(z + 1/2/(z + 1/(z + 3/2/(z + …)))) (Lentz-free backward evaluation)
            double f = a;
            for (int n = 60; n >= 1; n--) f = a + n / 2.0 / f;
            r = 1 - Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f;
        }
        return z < 0 ? -r : r;
    }
}
