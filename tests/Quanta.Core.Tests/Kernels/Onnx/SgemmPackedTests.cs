using System.Runtime.Intrinsics;
using Quanta.Core.Kernels.Onnx;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels.Onnx;

/// <summary>Pre-packed operands, the bias/ReLU epilogue and the im2col convolution against the scalar references, on every path.</summary>
[Trait("Category", "Kernels")]
public sealed class SgemmPackedTests
{
    private static int[] Paths()
    {
        var p = new List<int> { 0 };
        if (Vector128.IsHardwareAccelerated) p.Add(1);
        if (Vector256.IsHardwareAccelerated) p.Add(2);
        if (Vector512.IsHardwareAccelerated) p.Add(3);
        return p.ToArray();
    }

    private static float[] Random(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

    // Expected from the textbook product plus bias and ReLU written out here.
    private static float[] Expected(int m, int n, int k, float[] a, int lda, bool ta, float[] b, int ldb, bool tb, float[]? rowBias, float[]? colBias, bool relu)
    {
        var c = new float[m * n];
        Sgemm.MultiplyReference(m, n, k, a, lda, ta, b, ldb, tb, c, n, false);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float v = c[i * n + j] + (rowBias?[i] ?? 0) + (colBias?[j] ?? 0);
                c[i * n + j] = relu ? Math.Max(v, 0) : v;
            }
        return c;
    }

    private static void AssertClose(float[] expected, float[] actual, int k, string what)
    {
        float tol = 1e-5f * k + 1e-5f;
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"{what}: element {i} {actual[i]} vs reference {expected[i]}");
    }

    [Fact]
    public void Packed_operands_with_epilogue_match_the_reference_on_every_path_and_odd_shapes()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        using var pool = new WorkerPool(2);
        foreach (int path in Paths())
            for (int t = 0; t < 40; t++)
            {
                int m = rng.Next(1, 50), n = rng.Next(1, 90), k = rng.Next(1, 600);
                if (t == 0) { m = 130; n = 1100; k = 300; } // crosses MC, NC and KC edges
                bool ta = rng.Next(2) == 1, tb = rng.Next(2) == 1, relu = rng.Next(2) == 1;
                if (t == 1) { m = 200; n = 1100; k = 600; ta = false; } // A read in place (row blocks outermost) across MC, NC and KC edges
                var a = Random(rng, m * k);
                var b = Random(rng, k * n);
                var rowBias = Random(rng, m);
                var colBias = Random(rng, n);
                int lda = ta ? m : k, ldb = tb ? k : n;
                var packedB = SgemmPackedOperand.PackB(path, b, k, n, ldb, tb);
                var packedA = SgemmPackedOperand.PackA(path, a, m, k, lda, ta);
                string what = $"seed {seed} path {path} m={m} n={n} k={k} ta={ta} tb={tb} relu={relu}";
                var c1 = new float[m * n];
                SgemmParallel.Multiply(t % 2 == 0 ? pool : null, m, a, lda, ta, packedB, c1, n, colBias, relu);
                AssertClose(Expected(m, n, k, a, lda, ta, b, ldb, tb, null, colBias, relu), c1, k, what + " packed B");
                var c2 = new float[m * n];
                SgemmParallel.Multiply(t % 2 == 1 ? pool : null, packedA, n, b, ldb, tb, c2, n, rowBias, relu);
                AssertClose(Expected(m, n, k, a, lda, ta, b, ldb, tb, rowBias, null, relu), c2, k, what + " packed A");
            }
    }

    [Fact]
    public void Pooled_packed_products_equal_single_threaded_bit_for_bit()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        using var pool = new WorkerPool(3);
        foreach (var (m, n, k) in new[] { (16, 1536, 384), (200, 90, 260), (7, 3000, 200) })
        {
            var a = Random(rng, m * k);
            var b = Random(rng, k * n);
            var bias = Random(rng, n);
            var pb = SgemmPackedOperand.PackB(b, k, n, n, false);
            var c1 = new float[m * n];
            var c2 = new float[m * n];
            SgemmParallel.Multiply(null, m, a, k, false, pb, c1, n, bias, true);
            SgemmParallel.Multiply(pool, m, a, k, false, pb, c2, n, bias, true);
            Assert.True(c1.AsSpan().SequenceEqual(c2), $"{m}×{n}×{k} (seed {seed})");
        }
    }

    [Fact]
    public void Packing_rejects_operands_that_do_not_fit()
    {
        Assert.Throws<ArgumentException>(() => SgemmPackedOperand.PackB(new float[10], 4, 3, 3, false));
        var pb = SgemmPackedOperand.PackB(new float[12], 4, 3, 3, false);
        Assert.Throws<ArgumentException>(() => SgemmParallel.Multiply(null, 2, new float[8], 4, false, pb, new float[6], 3, new float[2], false));
        Assert.Throws<ArgumentException>(() => SgemmParallel.Multiply(null, 2, new float[7], 4, false, pb, new float[6], 3, default, false));
    }

    private static Conv2dShape RandomShape(Random rng)
    {
        int c = rng.Next(1, 5), h = rng.Next(1, 12), w = rng.Next(1, 12), kh = rng.Next(1, 4), kw = rng.Next(1, 4);
        int sh = rng.Next(1, 3), sw = rng.Next(1, 3), dh = rng.Next(1, 3), dw = rng.Next(1, 3), pt = rng.Next(0, 3), pl = rng.Next(0, 3), pb = rng.Next(0, 3), pr = rng.Next(0, 3);
        int oh = Math.Max(1, (h + pt + pb - dh * (kh - 1) - 1) / sh + 1), ow = Math.Max(1, (w + pl + pr - dw * (kw - 1) - 1) / sw + 1);
        return new Conv2dShape(c, h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow);
    }

    [Fact]
    public void Im2col_fill_matches_the_reference_for_random_geometries_and_pixel_ranges()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        for (int t = 0; t < 300; t++)
        {
            var s = RandomShape(rng);
            var x = Random(rng, s.Channels * s.Height * s.Width);
            int p0 = rng.Next(0, s.Plane), p1 = rng.Next(p0, s.Plane + 1);
            var expected = Enumerable.Repeat(7f, s.Rows * s.Plane).ToArray();
            var actual = (float[])expected.Clone();
            Im2Col.FillReference(x, s, p0, p1, expected, s.Plane);
            Im2Col.Fill(x, s, p0, p1, actual, s.Plane);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"seed {seed} case {t}: {s} pixels [{p0}, {p1})");
        }
    }

    [Fact]
    public void Convolution_matches_the_definition_with_bias_and_relu()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        using var pool = new WorkerPool(2);
        for (int t = 0; t < 60; t++)
        {
            var s = t == 0 ? new Conv2dShape(8, 30, 30, 3, 3, 1, 1, 1, 1, 1, 1, 30, 30) : t == 1 ? new Conv2dShape(5, 9, 9, 1, 1, 1, 1, 1, 1, 0, 0, 9, 9) : RandomShape(rng);
            int m = rng.Next(1, 20);
            var x = Random(rng, s.Channels * s.Height * s.Width);
            var w = Random(rng, m * s.Rows);
            var bias = Random(rng, m);
            bool relu = rng.Next(2) == 1;
            var y = new float[m * s.Plane];
            SgemmConv.Forward(t % 2 == 0 ? pool : null, SgemmPackedOperand.PackA(w, m, s.Rows, s.Rows, false), x, s, y, bias, relu);
            for (int o = 0; o < m; o++)
                for (int p = 0; p < s.Plane; p++)
                {
                    double acc = bias[o];
                    int oh = p / s.OutW, ow = p % s.OutW;
                    for (int c = 0; c < s.Channels; c++)
                        for (int ki = 0; ki < s.KernelH; ki++)
                            for (int kj = 0; kj < s.KernelW; kj++)
                            {
                                int ih = oh * s.StrideH - s.PadTop + ki * s.DilationH, iw = ow * s.StrideW - s.PadLeft + kj * s.DilationW;
                                if (ih >= 0 && ih < s.Height && iw >= 0 && iw < s.Width)
                                    acc += (double)w[o * s.Rows + (c * s.KernelH + ki) * s.KernelW + kj] * x[(c * s.Height + ih) * s.Width + iw];
                            }
                    double e = relu ? Math.Max(acc, 0) : acc;
                    Assert.True(Math.Abs(e - y[o * s.Plane + p]) <= 1e-4 * s.Rows + 1e-5, $"seed {seed} case {t} {s}: y[{o}, {p}] {y[o * s.Plane + p]} vs {e}");
                }
        }
    }
}
