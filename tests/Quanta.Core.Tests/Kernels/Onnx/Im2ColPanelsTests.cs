using Quanta.Core.Kernels.Onnx;

namespace Quanta.Core.Tests.Kernels.Onnx;

/// <summary>
/// The implicit-im2col panel packing against its definition (each element computed from the convolution's indexing):
/// random geometries (strides 1 to 3, dilation, padding), column ranges that start mid-row and run over several
/// images, K blocks that start mid-channel, and panel widths of every SIMD path.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class Im2ColPanelsTests
{
    [Fact]
    public unsafe void Panels_match_the_definition_for_random_geometries_blocks_and_image_runs()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        for (int t = 0; t < 400; t++)
        {
            int c = rng.Next(1, 5), h = rng.Next(1, 12), w = rng.Next(1, 12), kh = rng.Next(1, 4), kw = rng.Next(1, 4);
            int sh = rng.Next(1, 4), sw = rng.Next(1, 4), dh = rng.Next(1, 3), dw = rng.Next(1, 3), pt = rng.Next(0, 3), pl = rng.Next(0, 3), pb = rng.Next(0, 3), pr = rng.Next(0, 3);
            int oh = Math.Max(1, (h + pt + pb - dh * (kh - 1) - 1) / sh + 1), ow = Math.Max(1, (w + pl + pr - dw * (kw - 1) - 1) / sw + 1);
            var s = new Conv2dShape(c, h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow);
            int images = rng.Next(1, 4), image = c * h * w, xStride = image + rng.Next(0, 3) * 3;
            var x = Enumerable.Range(0, (images - 1) * xStride + image).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            int total = images * s.Plane, start = rng.Next(0, total), count = rng.Next(1, total - start + 1);
            int p0 = rng.Next(0, s.Rows), kc = rng.Next(1, s.Rows - p0 + 1);
            int nr = new[] { 4, 8, 16, 32 }[rng.Next(4)];
            int length = (count + nr - 1) / nr * kc * nr;
            var expected = new float[length];
            var actual = Enumerable.Repeat(float.NaN, length).ToArray();
            Im2ColPanels.FillReference(x, xStride, s, start, count, p0, kc, nr, expected);
            fixed (float* px = x) fixed (float* pd = actual)
                Im2ColPanels.Fill(px, xStride, s, start, count, p0, kc, nr, pd);
            for (int i = 0; i < length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"seed {seed} case {t}: {s}, {images} images, columns [{start}, {start + count}), rows [{p0}, {p0 + kc}), nr {nr}: element {i} {actual[i]} vs {expected[i]}");
        }
    }
}
