using System.Runtime.Intrinsics;
using Quanta.Core.Kernels.Ops;

namespace Quanta.Core.Tests.Ops;

[Trait("Category", "Kernels")]
public class ErfTests
{
    /// <summary>erf in double from first principles: Maclaurin-type series (x &lt; 2.5) or erfc continued fraction.</summary>
    public static double ErfDouble(double x)
    {
        if (x < 0) return -ErfDouble(-x);
        if (x < 2.5)
        {
            // erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)), all terms positive (no cancellation).
            double t = x, s = x, x2 = x * x;
            for (int n = 1; n < 300; n++) { t *= 2 * x2 / (2 * n + 1); s += t; if (t < 1e-17 * s) break; }
            return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x2) * s;
        }
        // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), modified Lentz.
        double f = x, c = x, d = 0;
        for (int n = 1; n < 500; n++)
        {
            double a = n / 2.0;
            d = x + a * d; d = 1 / d;
            c = x + a / c;
            double delta = c * d; f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return 1 - Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }

    private static double Ulps(float got, double exact)
    {
        float r = (float)exact;
        double ulp = r == 0 ? float.Epsilon : (double)MathF.BitIncrement(MathF.Abs(r)) - MathF.Abs(r);
        return Math.Abs(got - exact) / ulp;
    }

    [Fact]
    public void Reference_itself_is_sane()
    {
        Assert.True(Math.Abs(0.8427007929497149 - ErfDouble(1)) <= 2e-15, "erf(1)");
        Assert.True(Math.Abs(0.9953222650189527 - ErfDouble(2)) <= 2e-15, "erf(2)");
        Assert.True(Math.Abs(0.9999779095030014 - ErfDouble(3)) <= 2e-15, "erf(3)");
        Assert.True(Math.Abs(0.0112834155558496 - ErfDouble(0.01)) <= 2e-15, "erf(0.01)");
    }

    [Fact]
    public void Scalar_erf_within_1_5_ulp_on_dense_sweep()
    {
        double worst = 0; float at = 0;
        // every 211th float from 1e-7 to 5 (≈ 1 M points), plus negatives by symmetry check
        for (float x = 1e-7f; x < 5f; x = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(x) + 211))
        {
            double u = Ulps(FloatErf.Erf(x), ErfDouble(x));
            if (u > worst) { worst = u; at = x; }
        }
        Assert.True(worst <= 1.5, $"max error {worst:F3} ulp at {at:R}");
        Assert.Equal(-FloatErf.Erf(0.7f), FloatErf.Erf(-0.7f));
        Assert.Equal(1f, FloatErf.Erf(float.PositiveInfinity));
        Assert.Equal(-1f, FloatErf.Erf(float.NegativeInfinity));
        Assert.True(float.IsNaN(FloatErf.Erf(float.NaN)));
        Assert.Equal(0f, FloatErf.Erf(0f));
    }

    [Fact]
    public void Vector_erf_within_2_ulp_every_width()
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        var xs = new float[1 << 16];
        for (int i = 0; i < xs.Length; i++) xs[i] = (float)((rng.NextDouble() * 2 - 1) * (i % 3 == 0 ? 5 : 1.2));
        double worst = 0;
        for (int i = 0; i + 16 <= xs.Length; i += 16)
        {
            var v512 = FloatErf.Erf(Vector512.Create(xs, i));
            var v256 = FloatErf.Erf(Vector256.Create(xs, i));
            var v128 = FloatErf.Erf(Vector128.Create(xs, i));
            for (int k = 0; k < 16; k++)
            {
                double e = ErfDouble(xs[i + k]);
                worst = Math.Max(worst, Ulps(v512[k], e));
                if (k < 8) worst = Math.Max(worst, Ulps(v256[k], e));
                if (k < 4) worst = Math.Max(worst, Ulps(v128[k], e));
            }
        }
        Assert.True(worst <= 2.0, $"seed {seed}: vector erf max error {worst:F3} ulp");
    }
}
