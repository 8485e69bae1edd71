using System.Runtime.Intrinsics;
using Quanta.Core.Kernels.Onnx;

namespace Quanta.Core.Tests.Kernels.Onnx;

/// <summary>The fused-multiply-add e^x (every vector width and the scalar form) against Math.Exp in double.</summary>
[Trait("Category", "Kernels")]
public sealed class FastExpFusedTests
{
    [Fact]
    public void Matches_math_exp_to_a_few_ulps_on_every_width()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var x = Enumerable.Range(0, 4096).Select(_ => (float)(rng.NextDouble() * 170 - 86)).ToArray();
        float[] edges = [0f, -0f, 1f, -1f, 0.5f, -0.5f, 1e-7f, -1e-7f, 20f, -20f, -87f, 88f, 0.34657359f, -0.34657359f];
        edges.CopyTo(x, 0);
        for (int i = 0; i < x.Length; i += 16)
        {
            var v512 = Vector512.Create(x.AsSpan(i, 16));
            var v256 = Vector256.Create(x.AsSpan(i, 8));
            var v128 = Vector128.Create(x.AsSpan(i, 4));
            var r512 = FastExp.ExpFused(v512);
            var r256 = FastExp.ExpFused(v256);
            var r128 = FastExp.ExpFused(v128);
            for (int j = 0; j < 16; j++)
            {
                float xi = x[i + j];
                double e = Math.Exp(xi);
                Check(xi, FastExp.ScalarFused(xi), e, "scalar");
                Check(xi, r512[j], e, "Vector512");
                if (j < 8) Check(xi, r256[j], e, "Vector256");
                if (j < 4) Check(xi, r128[j], e, "Vector128");
            }
        }
        Assert.Equal(1f, FastExp.ScalarFused(0f));

        void Check(float xi, float got, double e, string width) =>
            Assert.True(Math.Abs(got - e) <= 4e-7 * e, $"seed {seed} {width}: exp({xi}) = {got}, expected {e} (relative error {Math.Abs(got - e) / e:E2})");
    }

    [Fact]
    public void Clamps_far_arguments_instead_of_overflowing_into_denormals()
    {
        Assert.True(FastExp.ScalarFused(-1000f) is > 0 and < 1.3e-38f);
        Assert.True(FastExp.ExpFused(Vector512.Create(-1e30f))[0] is > 0 and < 1.3e-38f);
        Assert.True(float.IsFinite(FastExp.ScalarFused(88f)));
    }
}
