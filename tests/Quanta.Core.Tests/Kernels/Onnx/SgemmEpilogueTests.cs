using Quanta.Core.Kernels.Onnx;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels.Onnx;

/// <summary>Packed-weight products with a column bias and each epilogue activation against the product, bias and activation computed in double.</summary>
[Trait("Category", "Kernels")]
public sealed class SgemmEpilogueTests
{
    private static double Erf(double x)
    {
        // erf from its definition: Simpson integration of 2/√π·e^(−t²) over [0, |x|] (4000 steps), odd in x.
        double a = Math.Abs(x), h = a / 4000, s = 1 + Math.Exp(-a * a);
        for (int i = 1; i < 4000; i++) s += (i % 2 == 1 ? 4 : 2) * Math.Exp(-(i * h) * (i * h));
        double v = 2 / Math.Sqrt(Math.PI) * s * h / 3;
        return x < 0 ? -v : v;
    }

    [Theory]
    [InlineData(SgemmActivation.None)]
    [InlineData(SgemmActivation.Relu)]
    [InlineData(SgemmActivation.Gelu)]
    public void Packed_product_with_bias_and_activation_matches_the_definition(SgemmActivation activation)
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        using var pool = new WorkerPool(2);
        foreach (var (m, k, n) in new[] { (1, 7, 5), (13, 40, 33), (70, 64, 96), (130, 300, 70) })
        {
            var a = Enumerable.Range(0, m * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var b = Enumerable.Range(0, k * n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var bias = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var c = new float[m * n];
            SgemmParallel.Multiply(m % 2 == 0 ? pool : null, m, a, k, false, SgemmPackedOperand.PackB(b, k, n, n, false), c, n, bias, activation);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = bias[j];
                    for (int p = 0; p < k; p++) s += (double)a[i * k + p] * b[p * n + j];
                    double e = activation switch
                    {
                        SgemmActivation.Relu => Math.Max(s, 0),
                        SgemmActivation.Gelu => 0.5 * s * (1 + Erf(s / Math.Sqrt(2))),
                        _ => s,
                    };
                    Assert.True(Math.Abs(c[i * n + j] - e) <= 1e-5 * (k + 1) * (1 + Math.Abs(e)),
                        $"seed {seed} {activation} [{m}, {k}]·[{k}, {n}]: c[{i}, {j}] {c[i * n + j]} vs {e}");
                }
        }
    }
}
