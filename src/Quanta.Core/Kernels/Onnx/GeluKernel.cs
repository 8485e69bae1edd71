using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// GELU with the exact (erf) form, y = ½·x·(1 + erf(x/√2)), for the graph executor. erf is evaluated with the
/// Abramowitz–Stegun 7.1.26 approximation (|error| ≤ 1.5e-7): erf(z) = 1 − t·(a₁ + t·(a₂ + …))·e^(−z²), t = 1/(1 + p·z)
/// for z ≥ 0, odd extension. Every path (Vector512, Vector256, Vector128, scalar) evaluates the same formula;
/// results agree to a few ulps (the vector exp differs from MathF.Exp in the last bits). <see cref="Reference"/> uses
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
        ApplyUnrecorded(path, x, y);
    }

    /// <summary>As <see cref="Apply(int, ReadOnlySpan{float}, Span{float})"/> without recording the path (the SGEMM epilogue calls it per tile row); y.Length ≥ x.Length.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void ApplyUnrecorded(int path, ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (path >= 3)
            for (; i + 16 <= x.Length; i += 16) Vector512.StoreUnsafe(G512(Vector512.LoadUnsafe(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x), (nuint)i)), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y), (nuint)i);
        if (path >= 2)
            for (; i + 8 <= x.Length; i += 8) Vector256.StoreUnsafe(G256(Vector256.LoadUnsafe(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x), (nuint)i)), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y), (nuint)i);
        if (path >= 1)
            for (; i + 4 <= x.Length; i += 4) Vector128.StoreUnsafe(G128(Vector128.LoadUnsafe(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x), (nuint)i)), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y), (nuint)i);
        for (; i < x.Length; i++) y[i] = Scalar(x[i]);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> G512(Vector512<float> x)
    {
        var z = Vector512.Abs(x) * Vector512.Create(InvSqrt2);
        var t = Vector512<float>.One / (Vector512<float>.One + Vector512.Create(P) * z);
        var poly = Vector512.Create(A5);
        poly = poly * t + Vector512.Create(A4);
        poly = poly * t + Vector512.Create(A3);
        poly = poly * t + Vector512.Create(A2);
        poly = poly * t + Vector512.Create(A1);
        var erf = Vector512<float>.One - poly * t * FastExp.Exp(-(z * z));
        erf = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -erf, erf);
        return Vector512.Create(0.5f) * x * (Vector512<float>.One + erf);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> G256(Vector256<float> x)
    {
        var z = Vector256.Abs(x) * Vector256.Create(InvSqrt2);
        var t = Vector256<float>.One / (Vector256<float>.One + Vector256.Create(P) * z);
        var poly = Vector256.Create(A5);
        poly = poly * t + Vector256.Create(A4);
        poly = poly * t + Vector256.Create(A3);
        poly = poly * t + Vector256.Create(A2);
        poly = poly * t + Vector256.Create(A1);
        var erf = Vector256<float>.One - poly * t * FastExp.Exp(-(z * z));
        erf = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), -erf, erf);
        return Vector256.Create(0.5f) * x * (Vector256<float>.One + erf);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> G128(Vector128<float> x)
    {
        var z = Vector128.Abs(x) * Vector128.Create(InvSqrt2);
        var t = Vector128<float>.One / (Vector128<float>.One + Vector128.Create(P) * z);
        var poly = Vector128.Create(A5);
        poly = poly * t + Vector128.Create(A4);
        poly = poly * t + Vector128.Create(A3);
        poly = poly * t + Vector128.Create(A2);
        poly = poly * t + Vector128.Create(A1);
        var erf = Vector128<float>.One - poly * t * FastExp.Exp(-(z * z));
        erf = Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<float>.Zero), -erf, erf);
        return Vector128.Create(0.5f) * x * (Vector128<float>.One + erf);
    }

    private static float Scalar(float x)
    {
        float z = Math.Abs(x) * InvSqrt2;
        float t = 1f / (1f + P * z);
        float poly = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1);
        float erf = 1f - poly * t * FastExp.Scalar(-(z * z));
        if (x < 0) erf = -erf;
        return 0.5f * x * (1f + erf);
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
