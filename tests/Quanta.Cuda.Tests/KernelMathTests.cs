using Quanta.Cuda.Kernels;

namespace Quanta.Cuda.Tests;

/// <summary>The kernels' own exp and tanh against double-precision Math on fresh random arguments and edge cases.</summary>
[Trait("Category", "Gpu")]
public sealed class KernelMathTests
{
    [Fact]
    public void Exp_is_within_3e_7_relative_over_the_float_range()
    {
        int seed = Random.Shared.Next();
        var r = new Random(seed);
        double worst = 0;
        for (int i = 0; i < 200_000; i++)
        {
            float x = (float)(r.NextDouble() * 189.6 - 101);   // [−101, 88.6]: results from near-subnormal to near overflow
            double e = Math.Exp(x);
            if (e < 1.2e-38) continue;                          // subnormal results: absolute, checked below
            worst = Math.Max(worst, Math.Abs(KernelMath.Exp(x) - e) / e);
        }
        Assert.True(worst <= 3e-7, $"seed {seed}: worst relative error {worst}");
        Assert.Equal(1f, KernelMath.Exp(0f));
        Assert.Equal(float.PositiveInfinity, KernelMath.Exp(89f));
        Assert.Equal(0f, KernelMath.Exp(-104f));
        Assert.True(float.IsNaN(KernelMath.Exp(float.NaN)));
        Assert.True(Math.Abs(KernelMath.Exp(-100f) - Math.Exp(-100)) <= 1e-45 * 4);   // subnormal result
        Assert.True(Math.Abs(KernelMath.Exp(88.7f) / Math.Exp(88.7f) - 1) <= 3e-7);     // the k = 128 branch
    }

    [Fact]
    public void Tanh_is_within_2e_6_of_max_tanh_and_0_01_and_keeps_sign_and_zero()
    {
        int seed = Random.Shared.Next();
        var r = new Random(seed);
        double worst = 0;
        for (int i = 0; i < 100_000; i++)
        {
            float x = (float)((r.NextDouble() * 2 - 1) * Math.Pow(10, r.Next(-6, 2)));
            double t = Math.Tanh(x);
            worst = Math.Max(worst, Math.Abs(KernelMath.Tanh(x) - t) / (Math.Abs(t) + 1e-2));   // relative, absolute near 0
        }
        Assert.True(worst <= 2e-6, $"seed {seed}: worst error {worst}");
        Assert.Equal(1f, KernelMath.Tanh(50f));
        Assert.Equal(-1f, KernelMath.Tanh(-50f));
        Assert.Equal(0f, KernelMath.Tanh(0f));
        Assert.True(float.IsNegative(KernelMath.Tanh(-0f)));
        Assert.True(float.IsNaN(KernelMath.Tanh(float.NaN)));
    }
}
