using System.Runtime.Intrinsics;
using Quanta.Core.Kernels.Onnx;

namespace Quanta.Core.Tests.Kernels.Onnx;

/// <summary>The scaled, masked softmax row kernel on every path against softmax(x·scale + mask) computed in double.</summary>
[Trait("Category", "Kernels")]
public sealed class MaskedSoftmaxKernelTests
{
    private static int[] Paths()
    {
        var p = new List<int> { 0 };
        if (Vector128.IsHardwareAccelerated) p.Add(1);
        if (Vector256.IsHardwareAccelerated) p.Add(2);
        if (Vector512.IsHardwareAccelerated) p.Add(3);
        return p.ToArray();
    }

    private static double[] Expected(float[] x, float scale, float[] mask)
    {
        var z = x.Select((v, i) => (double)v * scale + (mask.Length == x.Length ? mask[i] : mask[0])).ToArray();
        double max = z.Max();
        var e = z.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    [Fact]
    public void Matches_softmax_of_scaled_scores_plus_mask_on_every_path()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        foreach (int path in Paths())
            foreach (int n in new[] { 1, 3, 8, 16, 21, 40, 128, 131 })
                foreach (bool rowMask in new[] { true, false })
                {
                    var x = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 60 - 30)).ToArray();
                    // BERT-style mask: 0 for kept keys, −10000 for padding (at least one key kept).
                    var mask = rowMask ? Enumerable.Range(0, n).Select(i => i > 0 && rng.Next(4) == 0 ? -10000f : 0f).ToArray() : [(float)(rng.NextDouble() * 4 - 2)];
                    float scale = (float)(0.05 + rng.NextDouble());
                    bool inPlace = rng.Next(2) == 0;
                    var y = inPlace ? (float[])x.Clone() : new float[n];
                    MaskedSoftmaxKernel.Row(path, inPlace ? y : x, scale, mask, y);
                    var e = Expected(x, scale, mask);
                    for (int i = 0; i < n; i++)
                        Assert.True(Math.Abs(y[i] - e[i]) <= 1e-6 + 1e-5 * e[i], $"seed {seed} path {path} n {n} row mask {rowMask} in place {inPlace}: y[{i}] {y[i]} vs {e[i]}");
                    if (rowMask) for (int i = 0; i < n; i++) if (mask[i] < -1000) Assert.True(y[i] < 1e-30, $"seed {seed}: masked key {i} got {y[i]}");
                }
    }

    [Fact]
    public void Rejects_a_mask_of_the_wrong_length()
    {
        Assert.Throws<ArgumentException>(() => MaskedSoftmaxKernel.Row(new float[5], 1f, new float[3], new float[5]));
        Assert.Throws<ArgumentException>(() => MaskedSoftmaxKernel.Row(new float[5], 1f, new float[5], new float[4]));
    }
}
