using Quanta.Core.Kernels.Ops;

namespace Quanta.Core.Tests.Ops;

[Trait("Category", "Kernels")]
public class ElementWiseTests
{
    private delegate void Unary(ReadOnlySpan<float> x, Span<float> y);
    private delegate void Binary(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y);

    // Tolerances (SIMD vs scalar reference): exp-based kernels use VectorNNN.Exp vs MathF.Exp (few ulp apart);
    // tanh-based kernels use exp(−2|x|) rational form vs MathF.Tanh (~1e-7 absolute in tanh).
    private static void CheckUnary(Unary simd, Unary reference, double abs, double rel, float lo = -10f, float hi = 10f)
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        foreach (int n in OpsTestUtil.Lengths)
        {
            var x = OpsTestUtil.RandomArray(rng, n, lo, hi);
            var y = new float[n];
            var r = new float[n];
            simd(x, y);
            reference(x, r);
            OpsTestUtil.Close(r, y, abs, rel, $"seed {seed} n {n}");
            // in place gives the same bits as out of place
            var xi = (float[])x.Clone();
            simd(xi, xi);
            OpsTestUtil.Identical(y, xi, $"in-place seed {seed} n {n}");
        }
    }

    private static void CheckBinary(Binary simd, Binary reference, double abs, double rel)
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        foreach (int n in OpsTestUtil.Lengths)
        {
            var a = OpsTestUtil.RandomArray(rng, n, -10f, 10f);
            var b = OpsTestUtil.RandomArray(rng, n, -3f, 3f);
            var y = new float[n];
            var r = new float[n];
            simd(a, b, y);
            reference(a, b, r);
            OpsTestUtil.Close(r, y, abs, rel, $"seed {seed} n {n}");
        }
    }

    [Fact] public void Silu_simd_matches_reference() => CheckUnary(Silu.Forward, Silu.ForwardReference, 1e-6, 1e-6, -30f, 30f);
    [Fact] public void GeluTanh_simd_matches_reference() => CheckUnary(Gelu.Forward, Gelu.ForwardReference, 2e-6, 1e-6);
    [Fact] public void GeluErf_simd_matches_reference() => CheckUnary(Gelu.ForwardErf, Gelu.ForwardErfReference, 1e-6, 1e-6);
    [Fact] public void SwiGlu_simd_matches_reference() => CheckBinary(SwiGlu.Forward, SwiGlu.ForwardReference, 1e-6, 1e-6);
    [Fact] public void GeGlu_simd_matches_reference() => CheckBinary(GeGlu.Forward, GeGlu.ForwardReference, 5e-6, 1e-6);
    [Fact] public void GeGluErf_simd_matches_reference() => CheckBinary(GeGlu.ForwardErf, GeGlu.ForwardErfReference, 3e-6, 1e-6);
    [Fact] public void Add_is_exact() => CheckBinary(Add.Forward, Add.ForwardReference, 0, 0);
    [Fact] public void Mul_is_exact() => CheckBinary(Mul.Forward, Mul.ForwardReference, 0, 0);

    [Fact]
    public void Scale_and_AddScaled_are_exact()
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        foreach (int n in OpsTestUtil.Lengths)
        {
            var x = OpsTestUtil.RandomArray(rng, n);
            var y0 = OpsTestUtil.RandomArray(rng, n);
            float s = (float)rng.NextDouble() * 3 - 1.5f;
            var a = new float[n]; var b = new float[n];
            Scale.Forward(x, s, a);
            Scale.ForwardReference(x, s, b);
            OpsTestUtil.Identical(b, a, $"scale seed {seed} n {n}");
            var ya = (float[])y0.Clone(); var yb = (float[])y0.Clone();
            AddScaled.Forward(s, x, ya);
            AddScaled.ForwardReference(s, x, yb);
            OpsTestUtil.Identical(yb, ya, $"axpy seed {seed} n {n}");
            for (int i = 0; i < n; i++) Assert.Equal(y0[i] + s * x[i], ya[i], 1e-5f);
        }
    }

    [Fact]
    public void Activations_match_first_principles_in_double()
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        var x = OpsTestUtil.RandomArray(rng, 4099, -12f, 12f);
        var gate = x; var up = OpsTestUtil.RandomArray(rng, x.Length, -2f, 2f);
        var silu = new float[x.Length]; var gt = new float[x.Length]; var ge = new float[x.Length];
        var sw = new float[x.Length]; var gg = new float[x.Length]; var gge = new float[x.Length];
        Silu.Forward(x, silu); Gelu.Forward(x, gt); Gelu.ForwardErf(x, ge);
        SwiGlu.Forward(gate, up, sw); GeGlu.Forward(gate, up, gg); GeGlu.ForwardErf(gate, up, gge);
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            double dSilu = v / (1 + Math.Exp(-v));
            double dGt = 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            double dGe = 0.5 * v * (1 + ErfTests.ErfDouble(v / Math.Sqrt(2)));
            string m = $"seed {seed} x {x[i]:R}";
            Assert.True(Math.Abs(silu[i] - dSilu) <= 1e-6 + 1e-6 * Math.Abs(dSilu), $"silu {m}: {silu[i]} vs {dSilu}");
            Assert.True(Math.Abs(gt[i] - dGt) <= 3e-6 + 1e-6 * Math.Abs(dGt), $"gelu tanh {m}: {gt[i]} vs {dGt}");
            Assert.True(Math.Abs(ge[i] - dGe) <= 1e-6 + 1e-6 * Math.Abs(dGe), $"gelu erf {m}: {ge[i]} vs {dGe}");
            Assert.True(Math.Abs(sw[i] - dSilu * up[i]) <= 4e-6 + 2e-6 * Math.Abs(dSilu * up[i]), $"swiglu {m}");
            Assert.True(Math.Abs(gg[i] - dGt * up[i]) <= 8e-6 + 2e-6 * Math.Abs(dGt * up[i]), $"geglu {m}");
            Assert.True(Math.Abs(gge[i] - dGe * up[i]) <= 4e-6 + 2e-6 * Math.Abs(dGe * up[i]), $"geglu erf {m}");
        }
    }
}
