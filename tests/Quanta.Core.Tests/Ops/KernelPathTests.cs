using Quanta.Core.Kernels.Ops;
using Quanta.Core.Simd;

namespace Quanta.Core.Tests.Ops;

[Trait("Category", "Kernels")]
public class KernelPathTests
{
    [Fact]
    public void Ops_record_the_expected_path()
    {
        var expected = OpsTestUtil.ExpectedPath();
        var x = new float[64]; var y = new float[64];
        KernelPaths.Enabled = true;
        // other test classes may Clear() concurrently: retry a few times
        for (int attempt = 0; ; attempt++)
        {
            Silu.Forward(x, y); Gelu.Forward(x, y); Gelu.ForwardErf(x, y); SwiGlu.Forward(x, x, y); GeGlu.Forward(x, x, y);
            Add.Forward(x, x, y); Mul.Forward(x, x, y); Scale.Forward(x, 2f, y); AddScaled.Forward(1f, x, y);
            RmsNorm.Forward(x, x, y, 1e-5f); LayerNorm.Forward(x, default, default, y, 1e-5f); Softmax.Forward(x, y);
            Argmax.Find(x); Rope.ApplyDirect(y, 1, 64, new RopeParameters(64), default, 3);
            var snap = KernelPaths.Snapshot();
            string[] names = [Silu.KernelName, Gelu.KernelName, Gelu.KernelNameErf, SwiGlu.KernelName, GeGlu.KernelName, Add.KernelName,
                Mul.KernelName, Scale.KernelName, AddScaled.KernelName, RmsNorm.KernelName, LayerNorm.KernelName, Softmax.KernelName,
                Argmax.KernelName, Rope.KernelName];
            if (names.All(snap.ContainsKey) || attempt == 20)
            {
                foreach (string n in names)
                {
                    Assert.True(snap.TryGetValue(n, out var path), $"{n} not recorded");
                    Assert.Equal(expected, path);
                }
                break;
            }
        }
    }
}
