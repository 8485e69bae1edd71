using System.Runtime.Intrinsics;
using Quanta.Core.Kernels.Onnx;
using Quanta.Core.Simd;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels.Onnx;

/// <summary>
/// Winograd F(2×2, 3×3) convolution against the convolution's definition in double precision (odd sizes, channels
/// that are not a multiple of 16, asymmetric padding, batch 1 and 3, with and without the pool), a batch against its
/// images run one at a time (bit for bit), and the SIMD path it records.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class WinogradConvTests
{
    private static float[] Random(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

    private static Conv2dShape RandomShape(Random rng, int c)
    {
        int h = rng.Next(1, 21), w = rng.Next(1, 38), pt = rng.Next(0, 3), pl = rng.Next(0, 3), pb = rng.Next(0, 3), pr = rng.Next(0, 3);
        int oh = h + pt + pb - 2, ow = w + pl + pr - 2;
        if (oh < 1) { pb += 1 - oh; oh = 1; }
        if (ow < 1) { pr += 1 - ow; ow = 1; }
        return new Conv2dShape(c, h, w, 3, 3, 1, 1, 1, 1, pt, pl, oh, ow);
    }

    [Fact]
    public void Matches_the_definition_at_odd_shapes()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        using var pool = new WorkerPool(2);
        for (int t = 0; t < 40; t++)
        {
            // Case 0: a ResNet 56×56 layer cut down in channels; case 1: 7×7 with 24 channels at batch 3; the rest random.
            int c = t switch { 0 => 16, 1 => 24, _ => rng.Next(8, 41) };
            var s = t switch
            {
                0 => new Conv2dShape(c, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 56, 56),
                1 => new Conv2dShape(c, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 7, 7),
                _ => RandomShape(rng, c),
            };
            Assert.True(WinogradConv.Applies(s));
            int batch = t == 1 || rng.Next(2) == 0 ? 3 : 1, m = t == 0 ? 20 : rng.Next(1, 41);
            int image = c * s.Height * s.Width, xStride = image + rng.Next(0, 3) * 3, yStride = m * s.Plane + rng.Next(0, 3) * 5;
            var x = Random(rng, (batch - 1) * xStride + image);
            var w = Random(rng, m * c * 9);
            var bias = rng.Next(3) == 0 ? [] : Random(rng, m);
            bool relu = rng.Next(2) == 1;
            var y = Enumerable.Repeat(float.NaN, (batch - 1) * yStride + m * s.Plane).ToArray();
            WinogradConv.ForwardBatch(t % 2 == 0 ? pool : null, WinogradFilters.Create(w, m, c), x, xStride, batch, s, y, yStride, bias, relu);
            var e = new float[m * s.Plane];
            double tol = 1e-6 * 9 * c + 1e-6;
            for (int i = 0; i < batch; i++)
            {
                WinogradConv.Reference(x.AsSpan(i * xStride, image), w, m, s, bias, relu, e);
                for (int j = 0; j < e.Length; j++)
                    Assert.True(Math.Abs(y[i * yStride + j] - e[j]) <= tol,
                        $"seed {seed} case {t}: {s} m {m} batch {batch}: image {i} y[{j}] {y[i * yStride + j]} vs {e[j]}");
            }
        }
    }

    [Fact]
    public void A_batch_equals_its_images_one_at_a_time_bit_for_bit()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        using var pool = new WorkerPool(2);
        foreach (var (hw, c, m, batch) in new[] { (7, 64, 48, 5), (14, 32, 24, 3), (30, 12, 20, 2) })
        {
            var s = new Conv2dShape(c, hw, hw, 3, 3, 1, 1, 1, 1, 1, 1, hw, hw);
            int image = c * hw * hw, outImage = m * s.Plane;
            var x = Random(rng, batch * image);
            var f = WinogradFilters.Create(Random(rng, m * c * 9), m, c);
            var bias = Random(rng, m);
            var batched = new float[batch * outImage];
            WinogradConv.ForwardBatch(pool, f, x, image, batch, s, batched, outImage, bias, true);
            for (int i = 0; i < batch; i++)
            {
                var one = new float[outImage];
                WinogradConv.ForwardBatch(i % 2 == 0 ? pool : null, f, x.AsSpan(i * image, image), image, 1, s, one, outImage, bias, true);
                for (int j = 0; j < outImage; j++)
                    Assert.True(BitConverter.SingleToInt32Bits(one[j]) == BitConverter.SingleToInt32Bits(batched[i * outImage + j]),
                        $"seed {seed}: {s} image {i} y[{j}] alone {one[j]} vs batched {batched[i * outImage + j]}");
            }
        }
    }

    [Fact]
    public void Refuses_bad_input()
    {
        var s = new Conv2dShape(8, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5, 5);
        var f = WinogradFilters.Create(new float[4 * 8 * 9], 4, 8);
        Assert.Throws<ArgumentException>(() => WinogradFilters.Create(new float[10], 4, 8));
        Assert.Throws<ArgumentException>(() => WinogradConv.ForwardBatch(null, f, new float[8 * 25 - 1], 8 * 25, 1, s, new float[4 * 25], 4 * 25, default, false));
        Assert.Throws<ArgumentException>(() => WinogradConv.ForwardBatch(null, f, new float[8 * 25], 8 * 25, 1, s, new float[4 * 25 - 1], 4 * 25, default, false));
        Assert.Throws<ArgumentException>(() => WinogradConv.ForwardBatch(null, f, new float[8 * 25], 8 * 25, 1, s with { StrideH = 2, OutH = 3 }, new float[4 * 25], 4 * 25, default, false));
        Assert.Throws<ArgumentException>(() => WinogradConv.ForwardBatch(null, f, new float[9 * 25], 9 * 25, 1, s with { Channels = 9 }, new float[4 * 25], 4 * 25, default, false));
    }

    [Fact]
    public void Dispatch_records_the_expected_path()
    {
        string? env = Environment.GetEnvironmentVariable("QUANTA_EXPECT_SIMD");
        SimdPath expected = string.IsNullOrEmpty(env) || env == "native"
            ? (Vector512.IsHardwareAccelerated ? SimdPath.V512 : Vector256.IsHardwareAccelerated ? SimdPath.V256 : Vector128.IsHardwareAccelerated ? SimdPath.V128 : SimdPath.Scalar)
            : Enum.Parse<SimdPath>(env);
        bool was = KernelPaths.Enabled;
        KernelPaths.Enabled = true;
        try
        {
            var s = new Conv2dShape(8, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4, 4);
            WinogradConv.ForwardBatch(null, WinogradFilters.Create(new float[2 * 8 * 9], 2, 8), new float[8 * 16], 8 * 16, 1, s, new float[2 * 16], 2 * 16, default, false);
            Assert.Equal(expected, KernelPaths.Snapshot()["WinogradConv"]);
        }
        finally
        {
            KernelPaths.Enabled = was;
        }
    }
}
