using System.Runtime.Intrinsics;
using Quanta.Core.Kernels.Onnx;

namespace Quanta.Core.Tests.Kernels.Onnx;

/// <summary>
/// The fused one-head attention kernel on every path against softmax(Q·Kᵀ·scale + mask)·V computed in double from its
/// definition (<see cref="AttentionHeadKernel.Reference"/>, itself checked here against a hand-worked case), at odd
/// sizes that leave partial register tiles and panels, with heads read in place from wider rows and every mask layout.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class AttentionHeadKernelTests
{
    private static int[] Paths()
    {
        var p = new List<int> { 0 };
        if (Vector128.IsHardwareAccelerated) p.Add(1);
        if (Vector256.IsHardwareAccelerated) p.Add(2);
        if (Vector512.IsHardwareAccelerated) p.Add(3);
        return p.ToArray();
    }

    [Fact]
    public void Matches_the_double_precision_definition_on_every_path()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        float[] Rand(int n, float lo, float hi) => Enumerable.Range(0, n).Select(_ => lo + (float)rng.NextDouble() * (hi - lo)).ToArray();
        foreach (int path in Paths())
            foreach (var (t, d) in new[] { (1, 1), (1, 4), (3, 5), (7, 3), (9, 32), (16, 32), (17, 33), (33, 17), (40, 64), (65, 7), (128, 32) })
                foreach (int maskMode in new[] { 0, 1, 2 }) // 0: one row for all queries, 1: a row per query, 2: one value per query
                {
                    int ld = d + 2 + rng.Next(5), ldy = d + rng.Next(4);
                    var q = Rand((t - 1) * ld + d, -2, 2);
                    var k = Rand((t - 1) * ld + d, -2, 2);
                    var v = Rand((t - 1) * ld + d, -2, 2);
                    float scale = 1f / MathF.Sqrt(d) * (0.5f + (float)rng.NextDouble());
                    int maskStride = maskMode switch { 0 => 0, 1 => t, _ => 1 };
                    bool perKey = maskMode < 2;
                    // keys masked with −10000 (BERT); one value per query row only shifts that row's scores, so it stays small
                    // (a −10000 there would round every score of the row to 1e-3 in float, in any implementation)
                    var mask = Rand(maskMode == 1 ? t * t : t, -1, 1).Select(x => perKey && x < -0.6f ? -10000f : x).ToArray();
                    if (perKey) for (int i = 0; i < (maskMode == 1 ? t : 1); i++) mask[i * maskStride + rng.Next(t)] = 0; // a key kept in every row
                    var y = Enumerable.Repeat(float.NaN, (t - 1) * ldy + d + 3).ToArray();
                    var want = new float[y.Length];
                    AttentionHeadKernel.Head(path, t, d, q, k, v, ld, scale, mask, maskStride, perKey, y, ldy);
                    AttentionHeadKernel.Reference(t, d, q, k, v, ld, scale, mask, maskStride, perKey, want, ldy);
                    for (int i = 0; i < t; i++)
                    {
                        for (int j = 0; j < d; j++)
                        {
                            float a = y[i * ldy + j], e = want[i * ldy + j];
                            Assert.True(Math.Abs(a - e) <= 2e-5 + 2e-5 * Math.Abs(e), $"seed {seed} path {path} t {t} d {d} mask {maskMode}: y[{i}, {j}] = {a}, expected {e}");
                        }
                        for (int j = d; j < ldy && i < t - 1; j++) Assert.True(float.IsNaN(y[i * ldy + j]), $"seed {seed}: wrote outside the head at [{i}, {j}]");
                    }
                    Assert.True(float.IsNaN(y[^1]), $"seed {seed}: wrote past the last row");
                }
    }

    [Fact]
    public void Reference_matches_a_hand_worked_head()
    {
        // T = 2, D = 1: q = [1, 0], k = [ln 3, 0], v = [1, 5], scale 1, no mask.
        // row 0: scores [ln 3, 0] → softmax [3/4, 1/4] → y = 3/4·1 + 1/4·5 = 2; row 1: scores [0, 0] → y = (1 + 5)/2 = 3.
        var y = new float[2];
        float[] q = [1, 0], k = [MathF.Log(3), 0], v = [1, 5];
        AttentionHeadKernel.Reference(2, 1, q, k, v, 1, 1f, [0f], 0, false, y, 1);
        Assert.Equal(2f, y[0], 5);
        Assert.Equal(3f, y[1], 5);
        var fused = new float[2];
        AttentionHeadKernel.Head(2, 1, q, k, v, 1, 1f, [0f], 0, false, fused, 1);
        Assert.Equal(2f, fused[0], 5);
        Assert.Equal(3f, fused[1], 5);
    }

    [Fact]
    public void A_masked_key_gets_no_weight()
    {
        // key 1 masked with −10000: every query row returns v of key 0 exactly (up to the e^−10000 underflow)
        int t = 2, d = 3;
        float[] q = [1, 2, 3, -1, 0, 2], k = [0.5f, -1, 2, 3, 3, 3], v = [1, 2, 3, 100, 200, 300];
        var y = new float[t * d];
        AttentionHeadKernel.Head(t, d, q, k, v, d, 0.5f, [0f, -10000f], 0, true, y, d);
        Assert.Equal([1f, 2f, 3f, 1f, 2f, 3f], y);
    }

    [Fact]
    public void Rejects_operands_that_do_not_fit()
    {
        Assert.Throws<ArgumentException>(() => AttentionHeadKernel.Head(4, 2, new float[7], new float[8], new float[8], 2, 1f, [0f], 0, false, new float[8], 2));
        Assert.Throws<ArgumentException>(() => AttentionHeadKernel.Head(4, 2, new float[8], new float[8], new float[8], 2, 1f, new float[3], 0, true, new float[8], 2));
        Assert.Throws<ArgumentException>(() => AttentionHeadKernel.Head(4, 2, new float[8], new float[8], new float[8], 2, 1f, [0f], 0, false, new float[7], 2));
    }
}
