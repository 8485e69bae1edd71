using Quanta.Core.Kernels.Ops;

namespace Quanta.Core.Tests.Ops;

[Trait("Category", "Kernels")]
public class SoftmaxArgmaxTests
{
    [Theory]
    [InlineData(1f, 0f)]
    [InlineData(0.125f, 0f)]
    [InlineData(1f, 30f)]
    [InlineData(0.5f, 50f)]
    public void Softmax_simd_matches_reference_and_double(float scale, float cap)
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        foreach (int n in OpsTestUtil.Lengths)
        {
            var x = OpsTestUtil.RandomArray(rng, n, -60f, 60f);
            var y = new float[n]; var r = new float[n];
            Softmax.Forward(x, y, scale, cap);
            Softmax.ForwardReference(x, r, scale, cap);
            string m = $"seed {seed} n {n} scale {scale} cap {cap}";
            OpsTestUtil.Close(r, y, 1e-6, 1e-5, m);
            // first principles in double
            var z = new double[n];
            double max = double.NegativeInfinity;
            for (int i = 0; i < n; i++)
            {
                z[i] = x[i] * (double)scale;
                if (cap > 0) z[i] = cap * Math.Tanh(z[i] / cap);
                max = Math.Max(max, z[i]);
            }
            double sum = 0; foreach (double v in z) sum += Math.Exp(v - max);
            double total = 0;
            for (int i = 0; i < n; i++)
            {
                double e = Math.Exp(z[i] - max) / sum;
                total += y[i];
                // cap·tanh error (~cap·1e-7) and float scale rounding feed the exponent: 1e-5 relative
                Assert.True(Math.Abs(y[i] - e) <= 1e-6 + 2e-5 * e, $"{m} i {i}: {y[i]} vs {e}");
            }
            Assert.True(Math.Abs(total - 1) <= 1e-5, $"{m}: sum {total}");
            var xi = (float[])x.Clone();
            Softmax.Forward(xi, xi, scale, cap);
            OpsTestUtil.Identical(y, xi, "in place " + m);
        }
    }

    [Fact]
    public void Softmax_handles_minus_infinity_mask()
    {
        var x = new float[37];
        for (int i = 0; i < x.Length; i++) x[i] = i % 2 == 0 ? float.NegativeInfinity : 1f;
        var y = new float[x.Length];
        Softmax.Forward(x, y);
        for (int i = 0; i < x.Length; i++) Assert.Equal(i % 2 == 0 ? 0.0 : 1.0 / 18, y[i], 6);
    }

    [Fact]
    public void Argmax_matches_reference_with_ties()
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        foreach (int n in OpsTestUtil.Lengths)
        {
            var x = OpsTestUtil.RandomArray(rng, n);
            // quantize to force ties
            for (int i = 0; i < n; i++) x[i] = MathF.Round(x[i] * 4) / 4;
            int expected = 0;
            for (int i = 1; i < n; i++) if (x[i] > x[expected]) expected = i;
            Assert.Equal(expected, Argmax.Find(x));
            Assert.Equal(expected, Argmax.FindReference(x));
        }
        Assert.Equal(-1, Argmax.Find([]));
        var withNaN = new float[40]; withNaN[3] = float.NaN; withNaN[33] = 2f; withNaN[20] = float.NaN;
        Assert.Equal(33, Argmax.Find(withNaN));
        Assert.Equal(33, Argmax.FindReference(withNaN));
    }
    [Fact]
    public void Argmax_matches_two_pass_and_reference_on_special_values_and_ties()
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        float[] specials = [0f, -0f, float.NegativeInfinity, float.PositiveInfinity, float.NaN, 1f, -1f];
        int[] lengths = [.. Enumerable.Range(1, 140), 255, 257, 1023, 32000, 32007];
        foreach (int n in lengths)
            for (int trial = 0; trial < 7; trial++)
            {
                var x = new float[n];
                for (int i = 0; i < n; i++)
                {
                    // 0: coarse values (many ties); 1: mostly special values; 2: −∞ and a few NaN (no maximum for the
                    // fast pass); 3: all NaN; 4: +0 and −0 only; 5: negatives, the maximum twice in the last elements;
                    // 6: NaN everywhere but a few finite values
                    x[i] = trial switch
                    {
                        0 => MathF.Round((float)rng.NextDouble() * 8f) / 4f,
                        1 => specials[rng.Next(specials.Length)],
                        2 => rng.Next(5) == 0 ? float.NaN : float.NegativeInfinity,
                        3 => float.NaN,
                        4 => rng.Next(2) == 0 ? 0f : -0f,
                        5 => -1f - (float)rng.NextDouble(),
                        _ => rng.Next(8) == 0 ? MathF.Round((float)rng.NextDouble() * 4f) : float.NaN,
                    };
                }
                if (trial == 5) { x[n - 1] = -0.5f; if (n > 3) x[n - 3] = -0.5f; }
                int expected = Argmax.FindReference(x);
                int got = Argmax.Find(x);
                Assert.True(expected == got, $"n={n} trial={trial} seed={seed}: Find {got}, reference {expected}");
                Assert.Equal(expected, Argmax.FindTwoPass(x));
            }
    }
}
