using Quanta.Core.Kernels.Ops;

namespace Quanta.Core.Tests.Ops;

[Trait("Category", "Kernels")]
public class NormTests
{
    [Fact]
    public void RmsNorm_simd_matches_reference_and_double()
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        const float eps = 1e-5f;
        foreach (int n in OpsTestUtil.Lengths)
        {
            var x = OpsTestUtil.RandomArray(rng, n);
            var w = OpsTestUtil.RandomArray(rng, n, 0.5f, 1.5f);
            var y = new float[n]; var r = new float[n]; var nw = new float[n]; var nwr = new float[n];
            RmsNorm.Forward(x, w, y, eps);
            RmsNorm.ForwardReference(x, w, r, eps);
            RmsNorm.ForwardNoWeight(x, nw, eps);
            RmsNorm.ForwardReference(x, default, nwr, eps);
            string m = $"seed {seed} n {n}";
            // tolerance: float lane-sum of squares vs double sequential sum: 2e-6 relative
            OpsTestUtil.Close(r, y, 1e-7, 2e-6, m);
            OpsTestUtil.Close(nwr, nw, 1e-7, 2e-6, m);
            var xi = (float[])x.Clone();
            RmsNorm.ForwardInPlace(xi, w, eps);
            OpsTestUtil.Identical(y, xi, "in place " + m);
            double ss = 0; foreach (float v in x) ss += (double)v * v;
            double s = 1 / Math.Sqrt(ss / n + eps);
            for (int i = 0; i < n; i++) Assert.True(Math.Abs(y[i] - x[i] * s * w[i]) <= 1e-6 + 2e-6 * Math.Abs(x[i] * s * w[i]), m);
        }
    }

    [Fact]
    public void RmsNorm_of_a_known_vector()
    {
        // x = (3, 4): mean(x²) = 12.5, rms = √12.5; eps = 0 → y = x/√12.5 = (0.848528…, 1.131370…)
        var y = new float[2];
        RmsNorm.ForwardNoWeight([3f, 4f], y, 0f);
        Assert.Equal(3 / Math.Sqrt(12.5), y[0], 6);
        Assert.Equal(4 / Math.Sqrt(12.5), y[1], 6);
        // weights (2, 0.5) and eps 0.5: rms = √13
        RmsNorm.Forward([3f, 4f], [2f, 0.5f], y, 0.5f);
        Assert.Equal(6 / Math.Sqrt(13), y[0], 6);
        Assert.Equal(2 / Math.Sqrt(13), y[1], 6);
        // a constant vector normalizes to ±1 (eps 0)
        var c = Enumerable.Repeat(-7.25f, 4096).ToArray();
        var yc = new float[c.Length];
        RmsNorm.ForwardNoWeight(c, yc, 0f);
        Assert.All(yc, v => Assert.Equal(-1.0, v, 6));
    }

    [Fact]
    public void LayerNorm_simd_matches_reference_and_double()
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        const float eps = 1e-5f;
        foreach (int n in OpsTestUtil.Lengths)
        {
            var x = OpsTestUtil.RandomArray(rng, n, -3f, 5f);
            var w = OpsTestUtil.RandomArray(rng, n, 0.5f, 1.5f);
            var b = OpsTestUtil.RandomArray(rng, n, -1f, 1f);
            var y = new float[n]; var r = new float[n];
            string m = $"seed {seed} n {n}";
            LayerNorm.Forward(x, w, b, y, eps);
            LayerNorm.ForwardReference(x, w, b, r, eps);
            // mean and variance from float lane sums vs double: 1e-5 absolute on O(1) outputs
            OpsTestUtil.Close(r, y, 1e-5, 1e-5, m);
            double mean = 0; foreach (float v in x) mean += v; mean /= n;
            double var_ = 0; foreach (float v in x) var_ += (v - mean) * (v - mean); var_ /= n;
            double s = 1 / Math.Sqrt(var_ + eps);
            for (int i = 0; i < n; i++)
            {
                double e = (x[i] - mean) * s * w[i] + b[i];
                Assert.True(Math.Abs(y[i] - e) <= 1e-5 + 1e-5 * Math.Abs(e), $"{m} i {i}: {y[i]} vs {e}");
            }
            // no weight / no bias variants
            LayerNorm.Forward(x, default, default, y, eps);
            LayerNorm.ForwardReference(x, default, default, r, eps);
            OpsTestUtil.Close(r, y, 1e-5, 1e-5, "plain " + m);
            LayerNorm.Forward(x, w, default, y, eps);
            LayerNorm.ForwardReference(x, w, default, r, eps);
            OpsTestUtil.Close(r, y, 1e-5, 1e-5, "weight only " + m);
        }
    }

    [Fact]
    public void LayerNorm_of_a_known_vector()
    {
        // x = (1, 2, 3, 4): mean 2.5, variance 1.25 → (x − 2.5)/√1.25
        var y = new float[4];
        LayerNorm.Forward([1f, 2f, 3f, 4f], default, default, y, 0f);
        for (int i = 0; i < 4; i++) Assert.Equal((i + 1 - 2.5) / Math.Sqrt(1.25), y[i], 6);
    }
}
