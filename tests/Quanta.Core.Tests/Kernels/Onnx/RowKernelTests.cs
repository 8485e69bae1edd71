using System.Runtime.Intrinsics;
using Quanta.Core.Kernels.Onnx;

namespace Quanta.Core.Tests.Kernels.Onnx;

/// <summary>GELU, softmax and layer-norm row kernels on every path against double-precision references, at odd lengths.</summary>
[Trait("Category", "Kernels")]
public sealed class RowKernelTests
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
    public void Gelu_matches_the_erf_definition()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        foreach (int path in Paths())
            foreach (int n in new[] { 1, 3, 7, 15, 17, 33, 100, 1001 })
            {
                var x = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 16 - 8)).ToArray();
                if (n == 1001) { x[0] = 0; x[1] = -0f; x[2] = 20; x[3] = -20; x[4] = 1e-8f; }
                var y = new float[n];
                GeluKernel.Apply(path, x, y);
                for (int i = 0; i < n; i++)
                {
                    double e = GeluKernel.Reference(x[i]);
                    Assert.True(Math.Abs(y[i] - e) <= 1e-6 + 2e-6 * Math.Abs(e), $"seed {seed} path {path}: GELU({x[i]}) = {y[i]}, expected {e}");
                }
            }
        // Spot values: GELU(1) = 0.8413447460685429, GELU(-1) = -0.15865525393145707 (½·x·(1 + erf(x/√2)) from tables).
        Assert.Equal(0.8413447460685429, GeluKernel.Reference(1), 12);
        Assert.Equal(-0.15865525393145707, GeluKernel.Reference(-1), 12);
    }

    [Fact]
    public void Softmax_matches_the_reference()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        foreach (int path in Paths())
            foreach (int n in new[] { 1, 2, 5, 16, 19, 40, 129 })
            {
                var x = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 40 - 20)).ToArray();
                var y = new float[n];
                var r = new float[n];
                SoftmaxKernel.Row(path, x, y);
                SoftmaxKernel.Reference(x, r);
                for (int i = 0; i < n; i++) Assert.True(Math.Abs(y[i] - r[i]) <= 1e-6 + 1e-5 * r[i], $"seed {seed} path {path} n {n}: {y[i]} vs {r[i]}");
                Assert.Equal(1.0, y.Sum(v => (double)v), 4);
            }
    }

    [Fact]
    public void Layer_norm_matches_the_reference()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        foreach (int path in Paths())
            foreach (int n in new[] { 1, 3, 8, 21, 64, 384, 385 })
            {
                var x = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 6 - 2)).ToArray();
                var g = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() + 0.5f).ToArray();
                var b = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
                var y = new float[n];
                var r = new float[n];
                LayerNormKernel.Row(path, x, g, n % 2 == 0 ? b : default, 1e-5f, y);
                LayerNormKernel.Reference(x, g, n % 2 == 0 ? b : default, 1e-5f, r);
                for (int i = 0; i < n; i++) Assert.True(Math.Abs(y[i] - r[i]) <= 1e-4 + 1e-4 * Math.Abs(r[i]), $"seed {seed} path {path} n {n}: {y[i]} vs {r[i]}");
            }
    }
}
