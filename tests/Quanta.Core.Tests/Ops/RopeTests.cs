using Quanta.Core.Kernels.Ops;

namespace Quanta.Core.Tests.Ops;

[Trait("Category", "Kernels")]
public class RopeTests
{
    public static TheoryData<int, int, RopeLayout> Shapes() => new()
    {
        { 128, 128, RopeLayout.Normal }, { 128, 128, RopeLayout.NeoX },
        { 64, 32, RopeLayout.Normal }, { 64, 32, RopeLayout.NeoX },     // partial rotary (n_rot < head_dim)
        { 80, 80, RopeLayout.NeoX }, { 96, 24, RopeLayout.Normal },
        { 6, 6, RopeLayout.Normal }, { 10, 6, RopeLayout.NeoX }, { 256, 256, RopeLayout.Normal },
    };

    /// <summary>
    /// First principles in double: pair i turns by θ = p·base^(−2i/n)/ff[i] (no YaRN), output (x0 cos − x1 sin, x1 cos + x0 sin).
    /// </summary>
    private static double[] Expected(float[] x, int nHeads, int headDim, int nRot, RopeLayout layout, double fbase, int pos, float[]? ff)
    {
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = x[i];
        for (int h = 0; h < nHeads; h++)
            for (int i = 0; i < nRot / 2; i++)
            {
                int j0 = h * headDim + (layout == RopeLayout.NeoX ? i : 2 * i);
                int j1 = h * headDim + (layout == RopeLayout.NeoX ? i + nRot / 2 : 2 * i + 1);
                double theta = pos / Math.Pow(fbase, 2.0 * i / nRot) / (ff?[i] ?? 1.0);
                double c = Math.Cos(theta), s = Math.Sin(theta);
                y[j0] = x[j0] * c - x[j1] * s;
                y[j1] = x[j1] * c + x[j0] * s;
            }
        return y;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Simd_cache_direct_and_reference_agree_bitwise_and_match_double(int headDim, int nRot, RopeLayout layout)
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        const int nHeads = 5;
        var p = new RopeParameters(nRot, layout, 10000f);
        var cache = new RopeCache(p, 5000);
        foreach (int pos in new[] { 0, 1, 2, 17, 1000, 4095, 4999 })
        {
            var x = OpsTestUtil.RandomArray(rng, nHeads * headDim, -2f, 2f);
            var a = (float[])x.Clone(); var b = (float[])x.Clone(); var c = (float[])x.Clone();
            Rope.ApplyReference(a, nHeads, headDim, p, default, pos);
            Rope.ApplyDirect(b, nHeads, headDim, p, default, pos);
            cache.Apply(c, nHeads, headDim, pos);
            string m = $"seed {seed} hd {headDim} nrot {nRot} {layout} pos {pos}";
            OpsTestUtil.Identical(a, b, "direct " + m);
            OpsTestUtil.Identical(a, c, "cache " + m);
            var e = Expected(x, nHeads, headDim, nRot, layout, 10000, pos, null);
            // cos/sin rounded to float once plus two float products and a sum: 5e-7 relative of |x| ≤ 2
            for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(a[i] - e[i]) <= 1e-6, $"{m} i {i}: {a[i]} vs {e[i]}");
            for (int h = 0; h < nHeads; h++)
                for (int i = nRot; i < headDim; i++) Assert.Equal(x[h * headDim + i], a[h * headDim + i]);
        }
    }

    private static void Near(double expected, float actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-7, $"expected {expected:R} got {actual:R}");

    [Fact]
    public void Rotation_of_unit_vector_is_the_angle()
    {
        // head_dim 4, normal layout: pair 0 turns by p, pair 1 by p/√base. x = (1,0,1,0) → (cos θ0, sin θ0, cos θ1, sin θ1)
        var p = new RopeParameters(4, RopeLayout.Normal, 100f);
        float[] x = [1f, 0f, 1f, 0f];
        Rope.ApplyDirect(x, 1, 4, p, default, 3);
        Near(Math.Cos(3), x[0]); Near(Math.Sin(3), x[1]);
        Near(Math.Cos(0.3), x[2]); Near(Math.Sin(0.3), x[3]);
        // NeoX pairs (0,2) and (1,3)
        var q = new RopeParameters(4, RopeLayout.NeoX, 100f);
        float[] y = [1f, 1f, 0f, 0f];
        Rope.ApplyDirect(y, 1, 4, q, default, 3);
        Near(Math.Cos(3), y[0]); Near(Math.Sin(3), y[2]);
        Near(Math.Cos(0.3), y[1]); Near(Math.Sin(0.3), y[3]);
    }

    [Fact]
    public void Llama3_factors_match_hugging_face_formula()
    {
        // Llama 3.1: base 500000, factor 8, low 1, high 4, original 8192, head dim 128
        const int n = 128; const double fbase = 500000, factor = 8, low = 1, high = 4, old = 8192;
        var ff = new float[n / 2];
        RopeScaling.Llama3FrequencyFactors(n, (float)fbase, (float)factor, (float)low, (float)high, (int)old, ff);
        for (int i = 0; i < n / 2; i++)
        {
            // transformers _compute_llama3_parameters, written out
            double invFreq = 1.0 / Math.Pow(fbase, (2.0 * i) / n);
            double wavelen = 2 * Math.PI / invFreq;
            double lowWl = old / low, highWl = old / high;
            double llama = wavelen > lowWl ? invFreq / factor : invFreq;
            double smooth = (old / wavelen - low) / (high - low);
            double smoothed = (1 - smooth) * llama / factor + smooth * llama;
            bool medium = !(wavelen < highWl) && !(wavelen > lowWl);
            if (medium) llama = smoothed;
            Assert.Equal(invFreq / llama, ff[i], 5);
        }
        Assert.Equal(1f, ff[0]);
        Assert.Equal(8f, ff[n / 2 - 1]);
        // applying them: θ_i = p·inv_freq_llama
        var p = new RopeParameters(n, RopeLayout.NeoX, (float)fbase);
        var rng = new Random(OpsTestUtil.NewSeed());
        var x = OpsTestUtil.RandomArray(rng, 2 * n, -1f, 1f);
        var a = (float[])x.Clone(); var c = (float[])x.Clone();
        Rope.ApplyReference(a, 2, n, p, ff, 20000);
        new RopeCache(p, 20001, ff).Apply(c, 2, n, 20000);
        OpsTestUtil.Identical(a, c, "cache with freq factors");
        var e = Expected(x, 2, n, n, RopeLayout.NeoX, fbase, 20000, ff);
        for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(a[i] - e[i]) <= 2e-6, $"i {i}: {a[i]} vs {e[i]}");
    }

    [Fact]
    public void Yarn_matches_ggml_formulas_in_double()
    {
        // YaRN as ggml: n_ctx_orig 4096, freq_scale 1/4, ext_factor 1, attn_factor 1, beta_fast 32, beta_slow 1
        const int n = 128, ctx = 4096; const double fbase = 10000, fs = 0.25, ext = 1, attn = 1, bf = 32, bs = 1;
        var p = new RopeParameters(n, RopeLayout.Normal, (float)fbase)
        { FreqScale = (float)fs, ExtFactor = (float)ext, AttnFactor = (float)attn, BetaFast = (float)bf, BetaSlow = (float)bs, OriginalContext = ctx };
        double CorrDim(double r) => n * Math.Log(ctx / (r * 2 * Math.PI)) / (2 * Math.Log(fbase));
        double lo = Math.Max(0, Math.Floor(CorrDim(bf))), hi = Math.Min(n - 1, Math.Ceiling(CorrDim(bs)));
        var dims = new float[2];
        RopeScaling.YarnCorrectionDims(n, ctx, (float)fbase, (float)bf, (float)bs, dims);
        Assert.Equal(lo, dims[0]); Assert.Equal(hi, dims[1]);
        Assert.True(lo > 0 && hi < n - 1 && lo < hi, "test should exercise the ramp");
        var cos = new float[n / 2]; var sin = new float[n / 2];
        const int pos = 12345;
        Rope.ComputeCosSin(p, default, pos, cos, sin);
        double mscale = attn * (1 + 0.1 * Math.Log(1 / fs));
        for (int i = 0; i < n / 2; i++)
        {
            double extrap = pos * Math.Pow(fbase, -2.0 * i / n);
            double interp = fs * extrap;
            double y = (i - lo) / Math.Max(0.001, hi - lo);
            double ramp = (1 - Math.Min(1, Math.Max(0, y))) * ext;
            double theta = interp * (1 - ramp) + extrap * ramp;
            Assert.True(Math.Abs(cos[i] - Math.Cos(theta) * mscale) <= 3e-7, $"cos i {i}");
            Assert.True(Math.Abs(sin[i] - Math.Sin(theta) * mscale) <= 3e-7, $"sin i {i}");
        }
        var rng = new Random(OpsTestUtil.NewSeed());
        var x = OpsTestUtil.RandomArray(rng, 3 * n);
        var a = (float[])x.Clone(); var b = (float[])x.Clone();
        Rope.ApplyReference(a, 3, n, p, default, pos);
        Rope.ApplyDirect(b, 3, n, p, default, pos);
        OpsTestUtil.Identical(a, b, "yarn direct");
    }
}
