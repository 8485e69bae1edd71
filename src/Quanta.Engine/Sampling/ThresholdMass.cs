using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Quanta.Engine.Sampling;

/// <summary>
/// One pass that gives the softmax normalizer Z = Σ exp(z[i]) with z[i] = (x[i] − max)·scale, and the mass above
/// each of <see cref="Levels"/> cut-offs: mass[j] = Σ exp(z[i]) over z[i] ≥ −gaps[j] (<see cref="Gaps"/> is the
/// default coarse set; a caller refines between two levels with a second pass).
/// Top-p uses it to find a logit threshold below which no kept token can lie (the largest cut whose mass already
/// reaches p·Z), so only the tokens above it need an exact selection. Shapes: x is [n]; gaps and mass are [Levels].
/// Requires scale &gt; 0 and x[i] ≤ max; −∞ contributes 0. SIMD and scalar agree within float exp/summation rounding.
/// </summary>
internal static class ThresholdMass
{
    /// <summary>Number of cut-offs.</summary>
    public const int Levels = 8;

    /// <summary>Cut-offs in scaled-logit units below the maximum, increasing (probability ratios e^-0.5 … e^-32).</summary>
    public static ReadOnlySpan<float> Gaps => [0.5f, 1f, 2f, 4f, 8f, 12f, 18f, 32f];

    /// <summary>SIMD dispatch: Vector512 → Vector256 → Vector128 → scalar. Returns Z.</summary>
    public static double Compute(ReadOnlySpan<float> x, float max, float scale, ReadOnlySpan<float> gaps, Span<double> mass)
    {
        if (gaps.Length < Levels) throw new ArgumentException("Need one gap per level.", nameof(gaps));
        if (mass.Length < Levels) throw new ArgumentException("Mass buffer is too short.", nameof(mass));
        int n = x.Length;
        ref float xs = ref MemoryMarshal.GetReference(x);
        int i = 0;
        double total = 0;
        mass[..Levels].Clear();
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var m = Vector512.Create(max);
            var sc = Vector512.Create(scale);
            Span<Vector512<float>> cut = stackalloc Vector512<float>[Levels];
            Span<Vector512<float>> acc = stackalloc Vector512<float>[Levels];
            for (int j = 0; j < Levels; j++) { cut[j] = Vector512.Create(-gaps[j]); acc[j] = Vector512<float>.Zero; }
            var all = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                if ((i & (FlushEvery - 1)) == 0 && i > 0) Flush(ref all, acc, ref total, mass);
                var z = (Vector512.LoadUnsafe(ref xs, (nuint)i) - m) * sc;
                var e = FastExp.Exp(z);
                all += e;
                for (int j = 0; j < Levels; j++) acc[j] += Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(z, cut[j]), e, Vector512<float>.Zero);
            }
            Flush(ref all, acc, ref total, mass);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= 8)
        {
            var m = Vector256.Create(max);
            var sc = Vector256.Create(scale);
            Span<Vector256<float>> cut = stackalloc Vector256<float>[Levels];
            Span<Vector256<float>> acc = stackalloc Vector256<float>[Levels];
            for (int j = 0; j < Levels; j++) { cut[j] = Vector256.Create(-gaps[j]); acc[j] = Vector256<float>.Zero; }
            var all = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                if ((i & (FlushEvery - 1)) == 0 && i > 0) Flush(ref all, acc, ref total, mass);
                var z = (Vector256.LoadUnsafe(ref xs, (nuint)i) - m) * sc;
                var e = FastExp.Exp(z);
                all += e;
                for (int j = 0; j < Levels; j++) acc[j] += Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(z, cut[j]), e, Vector256<float>.Zero);
            }
            Flush(ref all, acc, ref total, mass);
        }
        if (Vector128.IsHardwareAccelerated && n - i >= 4)
        {
            var m = Vector128.Create(max);
            var sc = Vector128.Create(scale);
            Span<Vector128<float>> cut = stackalloc Vector128<float>[Levels];
            Span<Vector128<float>> acc = stackalloc Vector128<float>[Levels];
            for (int j = 0; j < Levels; j++) { cut[j] = Vector128.Create(-gaps[j]); acc[j] = Vector128<float>.Zero; }
            var all = Vector128<float>.Zero;
            for (; i <= n - 4; i += 4)
            {
                if ((i & (FlushEvery - 1)) == 0 && i > 0) Flush(ref all, acc, ref total, mass);
                var z = (Vector128.LoadUnsafe(ref xs, (nuint)i) - m) * sc;
                var e = FastExp.Exp(z);
                all += e;
                for (int j = 0; j < Levels; j++) acc[j] += Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(z, cut[j]), e, Vector128<float>.Zero);
            }
            Flush(ref all, acc, ref total, mass);
        }
        return total + ScalarTail(x, i, max, scale, gaps, mass);
    }

    // Float lane sums are moved into double every FlushEvery elements so long rows keep ~1e-7 relative accuracy.
    private const int FlushEvery = 1024;

    private static void Flush(ref Vector512<float> all, Span<Vector512<float>> acc, ref double total, Span<double> mass)
    {
        total += Vector512.Sum(all);
        all = Vector512<float>.Zero;
        for (int j = 0; j < Levels; j++) { mass[j] += Vector512.Sum(acc[j]); acc[j] = Vector512<float>.Zero; }
    }

    private static void Flush(ref Vector256<float> all, Span<Vector256<float>> acc, ref double total, Span<double> mass)
    {
        total += Vector256.Sum(all);
        all = Vector256<float>.Zero;
        for (int j = 0; j < Levels; j++) { mass[j] += Vector256.Sum(acc[j]); acc[j] = Vector256<float>.Zero; }
    }

    private static void Flush(ref Vector128<float> all, Span<Vector128<float>> acc, ref double total, Span<double> mass)
    {
        total += Vector128.Sum(all);
        all = Vector128<float>.Zero;
        for (int j = 0; j < Levels; j++) { mass[j] += Vector128.Sum(acc[j]); acc[j] = Vector128<float>.Zero; }
    }

    /// <summary>Scalar reference: sequential <see cref="MathF.Exp"/>, sums in double.</summary>
    public static double ComputeReference(ReadOnlySpan<float> x, float max, float scale, ReadOnlySpan<float> gaps, Span<double> mass)
    {
        if (gaps.Length < Levels) throw new ArgumentException("Need one gap per level.", nameof(gaps));
        if (mass.Length < Levels) throw new ArgumentException("Mass buffer is too short.", nameof(mass));
        mass[..Levels].Clear();
        return ScalarTail(x, 0, max, scale, gaps, mass);
    }

    private static double ScalarTail(ReadOnlySpan<float> x, int start, float max, float scale, ReadOnlySpan<float> gaps, Span<double> mass)
    {
        double total = 0;
        for (int i = start; i < x.Length; i++)
        {
            float z = (x[i] - max) * scale;
            float e = MathF.Exp(z);
            total += e;
            for (int j = 0; j < Levels; j++) if (z >= -gaps[j]) mass[j] += e;
        }
        return total;
    }
}
