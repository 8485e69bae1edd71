using Quanta.Core.Kernels.Onnx;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels.Onnx;

/// <summary>
/// The batched convolution (small images folded into one product's columns) against the per-image convolution: a GEMM
/// column's reduction does not depend on the other columns, so the results must be equal bit for bit; one case is also
/// checked against the convolution's definition in double precision.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class SgemmConvBatchTests
{
    private static float[] Random(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

    private static Conv2dShape RandomShape(Random rng)
    {
        int c = rng.Next(1, 9), h = rng.Next(1, 16), w = rng.Next(1, 16), kh = rng.Next(1, 4), kw = rng.Next(1, 4);
        int sh = rng.Next(1, 3), sw = rng.Next(1, 3), dh = rng.Next(1, 3), dw = rng.Next(1, 3), pt = rng.Next(0, 3), pl = rng.Next(0, 3), pb = rng.Next(0, 3), pr = rng.Next(0, 3);
        int oh = Math.Max(1, (h + pt + pb - dh * (kh - 1) - 1) / sh + 1), ow = Math.Max(1, (w + pl + pr - dw * (kw - 1) - 1) / sw + 1);
        return new Conv2dShape(c, h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow);
    }

    [Fact]
    public void Folded_batches_equal_per_image_convolution_bit_for_bit()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        using var pool = new WorkerPool(2);
        for (int t = 0; t < 80; t++)
        {
            // Case 0: a ResNet 14×14 stage at batch 7 (one folded product, its columns cut between the participants);
            // case 1: a 7×7 1×1 pointwise layer; case 2: images too large to fold (per-image path); cases 4 and 6: large
            // images at batch 4 on the pool (one whole image per participant; 3×3 padded and pointwise); case 8: 20×20 images
            // at batch 13 (two folded products of 7 and 6 images, over the pool); the rest
            // random small geometries.
            var s = t switch
            {
                0 => new Conv2dShape(64, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 14, 14),
                1 => new Conv2dShape(24, 7, 7, 1, 1, 1, 1, 1, 1, 0, 0, 7, 7),
                2 => new Conv2dShape(3, 24, 24, 3, 3, 1, 1, 1, 1, 1, 1, 24, 24),
                4 => new Conv2dShape(16, 24, 23, 3, 3, 1, 1, 1, 1, 1, 1, 24, 23),
                6 => new Conv2dShape(40, 24, 24, 1, 1, 1, 1, 1, 1, 0, 0, 24, 24),
                8 => new Conv2dShape(8, 20, 20, 3, 3, 1, 1, 1, 1, 1, 1, 20, 20),
                _ => RandomShape(rng),
            };
            int batch = t switch { 0 => 7, 4 or 6 => 4, 8 => 13, _ => rng.Next(1, 9) }, m = t switch { 0 or 4 => 40, 6 => 70, 8 => 24, _ => rng.Next(1, 24) };
            int image = s.Channels * s.Height * s.Width, xStride = image + rng.Next(0, 3) * 5, yStride = m * s.Plane + rng.Next(0, 3) * 7;
            if (t == 0) Assert.Equal(7, SgemmConv.ImagesPerProduct(s, batch));
            if (t == 8) Assert.Equal(7, SgemmConv.ImagesPerProduct(s, batch));
            if (t is 2 or 4 or 6) Assert.Equal(1, SgemmConv.ImagesPerProduct(s, batch));
            if (t is not (2 or 4 or 6) && batch > 1 && s.Plane < SgemmConv.FoldPlane) Assert.True(SgemmConv.ImagesPerProduct(s, batch) > 1, $"seed {seed} case {t}: {s} batch {batch} not folded");
            var x = Random(rng, (batch - 1) * xStride + image);
            var packed = SgemmPackedOperand.PackA(Random(rng, m * s.Rows), m, s.Rows, s.Rows, false);
            var bias = rng.Next(3) == 0 ? [] : Random(rng, m);
            bool relu = rng.Next(2) == 1;
            var p = t % 2 == 0 ? pool : null;

            var expected = Enumerable.Repeat(float.NaN, (batch - 1) * yStride + m * s.Plane).ToArray();
            for (int i = 0; i < batch; i++)
                SgemmConv.Forward(p, packed, x.AsSpan(i * xStride, image), s, expected.AsSpan(i * yStride, m * s.Plane), bias, relu);
            var actual = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
            var scratch = new float[Math.Max(1, SgemmConv.BatchScratchLength(s, m, batch))];
            SgemmConv.ForwardBatch(p, packed, x, xStride, batch, s, actual, yStride, bias, relu, scratch);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"seed {seed} case {t}: {s} m {m} batch {batch}: y[{i}] {actual[i]} vs per-image {expected[i]}");
        }
    }

    [Fact]
    public void Folded_batch_matches_the_definition()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        using var pool = new WorkerPool(2);
        var s = new Conv2dShape(16, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 4, 4);
        int batch = 5, m = 13, image = s.Channels * s.Height * s.Width;
        Assert.True(SgemmConv.ImagesPerProduct(s, batch) > 1);
        var x = Random(rng, batch * image);
        var w = Random(rng, m * s.Rows);
        var bias = Random(rng, m);
        var y = new float[batch * m * s.Plane];
        SgemmConv.ForwardBatch(pool, SgemmPackedOperand.PackA(w, m, s.Rows, s.Rows, false), x, image, batch, s, y, m * s.Plane, bias, true,
            new float[SgemmConv.BatchScratchLength(s, m, batch)]);
        for (int i = 0; i < batch; i++)
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
                                    acc += (double)w[o * s.Rows + (c * s.KernelH + ki) * s.KernelW + kj] * x[i * image + (c * s.Height + ih) * s.Width + iw];
                            }
                    double e = Math.Max(acc, 0), got = y[(i * m + o) * s.Plane + p];
                    Assert.True(Math.Abs(e - got) <= 1e-4 * s.Rows + 1e-5, $"seed {seed}: image {i} y[{o}, {p}] {got} vs {e}");
                }
    }
}

/// <summary>The stride-2 im2col copy (vector narrowing) against the element-by-element reference, at widths that reach every vector width.</summary>
[Trait("Category", "Kernels")]
public sealed class Im2ColStride2Tests
{
    [Fact]
    public void Stride_2_fill_matches_the_reference_on_wide_images()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        for (int t = 0; t < 120; t++)
        {
            int c = rng.Next(1, 4), h = rng.Next(1, 10), w = rng.Next(1, 120), kh = rng.Next(1, 8), kw = rng.Next(1, 8), pt = rng.Next(0, 4), pl = rng.Next(0, 4), pb = rng.Next(0, 4), pr = rng.Next(0, 4);
            int sh = rng.Next(1, 3), dw = rng.Next(1, 3);
            int oh = Math.Max(1, (h + pt + pb - (kh - 1) - 1) / sh + 1), ow = Math.Max(1, (w + pl + pr - dw * (kw - 1) - 1) / 2 + 1);
            var s = new Conv2dShape(c, h, w, kh, kw, sh, 2, 1, dw, pt, pl, oh, ow);
            // The image ends exactly where the last row does, so a read past it would throw.
            var x = Enumerable.Range(0, c * h * w).Select(_ => (float)rng.NextDouble()).ToArray();
            int p0 = rng.Next(0, s.Plane), p1 = rng.Next(p0, s.Plane + 1);
            var expected = Enumerable.Repeat(7f, s.Rows * s.Plane).ToArray();
            var actual = (float[])expected.Clone();
            Im2Col.FillReference(x, s, p0, p1, expected, s.Plane);
            Im2Col.Fill(x, s, p0, p1, actual, s.Plane);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"seed {seed} case {t}: {s} pixels [{p0}, {p1})");
        }
    }

    [Fact]
    public void Stride_2_copy_picks_every_other_value_at_every_length()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        for (int n = 0; n < 100; n++)
        {
            var src = Enumerable.Range(0, Math.Max(0, 2 * n - 1)).Select(_ => (float)rng.NextDouble()).ToArray();
            var dst = new float[n];
            Im2Col.CopyStride2(src, dst);
            for (int i = 0; i < n; i++) Assert.True(dst[i] == src[2 * i], $"seed {seed}: n {n} dst[{i}] {dst[i]} vs {src[2 * i]}");
        }
    }
}
