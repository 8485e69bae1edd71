using System.Runtime.Intrinsics;
using Quanta.Core.Kernels.Quantized;
using Quanta.Core.Simd;
using Quanta.Core.Tests.Support;
using static Quanta.Core.Tests.Quantized.LegacyTestData;

namespace Quanta.Core.Tests.Quantized;

/// <summary>Q8_0 / Q8_1 activation quantizers against ggml-cpu's run-time quantizer and ggml's reference quantizer.</summary>
[Trait("Category", "Kernels")]
public class LegacyActivationTests
{
    internal static IEnumerable<SimdPath> SupportedPaths()
    {
        if (Vector512.IsHardwareAccelerated) yield return SimdPath.V512;
        if (Vector256.IsHardwareAccelerated) yield return SimdPath.V256;
        if (Vector128.IsHardwareAccelerated) yield return SimdPath.V128;
        yield return SimdPath.Scalar;
    }

    [Theory]
    [InlineData(8)] [InlineData(9)]
    public void Cpu_path_matches_ggml_cpu_from_float_on_every_simd_path(int type)
    {
        int seed = NewSeed();
        var r = new Random(seed);
        bool q81 = type == 9;
        foreach (Dist dist in All)
        {
            foreach (int nb in BlockCounts(300, 29))
            {
                int n = nb * 32;
                float[] x = Make(r, dist, n);
                int bytes = q81 ? Q8Activation.RowBytesQ8_1(n) : Q8Activation.RowBytesQ8_0(n);
                var ggml = new byte[bytes];
                GgmlNative.FromFloatCpu(type, x, ggml, n);
                var ours = new byte[bytes];
                if (q81) Q8Activation.QuantizeQ8_1(x, ours); else Q8Activation.QuantizeQ8_0(x, ours);
                int at = FirstDiff(ours, ggml);
                Assert.True(at < 0, $"seed {seed} type {type} {dist} n={n} dispatch: first differing byte {at}");
                Array.Clear(ours);
                if (q81) Q8Activation.QuantizeQ8_1Scalar(x, ours); else Q8Activation.QuantizeQ8_0Scalar(x, ours);
                at = FirstDiff(ours, ggml);
                Assert.True(at < 0, $"seed {seed} type {type} {dist} n={n} scalar: first differing byte {at}");
                foreach (SimdPath path in SupportedPaths())
                {
                    Array.Clear(ours);
                    Q8Activation.QuantizePath(x, ours, q81, path);
                    at = FirstDiff(ours, ggml);
                    Assert.True(at < 0, $"seed {seed} type {type} {dist} n={n} path {path}: first differing byte {at}");
                }
            }
        }
    }

    [Theory]
    [InlineData(8)] [InlineData(9)]
    public void Reference_matches_ggml_reference_quantizer(int type)
    {
        int seed = NewSeed();
        var r = new Random(seed);
        bool q81 = type == 9;
        foreach (Dist dist in All)
        {
            foreach (int nb in BlockCounts(300, 29))
            {
                int n = nb * 32;
                float[] x = Make(r, dist, n);
                int bytes = q81 ? Q8Activation.RowBytesQ8_1(n) : Q8Activation.RowBytesQ8_0(n);
                var ggml = new byte[bytes];
                var ours = new byte[bytes];
                GgmlNative.FromFloatRef(type, x, ggml, n);
                if (q81) Q8Activation.QuantizeQ8_1Reference(x, ours); else Q8Activation.QuantizeQ8_0Reference(x, ours);
                int at = FirstDiff(ours, ggml);
                Assert.True(at < 0, $"seed {seed} type {type} {dist} n={n}: first differing byte {at}");
            }
        }
    }

    [Fact]
    public void Cpu_path_and_reference_really_differ_on_ties()
    {
        // Guards the two tests above against both sides silently using the same rounding: on exact .5 ties the
        // run-time quantizer rounds half to even and the reference half away from zero.
        var x = new float[32];
        x[0] = 127f; x[1] = 2.5f; x[2] = -3.5f;
        var cpu = new byte[34];
        var reference = new byte[34];
        Q8Activation.QuantizeQ8_0(x, cpu);
        Q8Activation.QuantizeQ8_0Reference(x, reference);
        Assert.Equal(new sbyte[] { 127, 2, -4 }, new[] { (sbyte)cpu[2], (sbyte)cpu[3], (sbyte)cpu[4] });
        Assert.Equal(new sbyte[] { 127, 3, -4 }, new[] { (sbyte)reference[2], (sbyte)reference[3], (sbyte)reference[4] });
    }

    [Fact]
    public void Q8_1_sum_field_is_d_times_the_code_sum()
    {
        int seed = NewSeed();
        var r = new Random(seed);
        float[] x = Make(r, Dist.Normal, 64 * 32);
        var y = new byte[Q8Activation.RowBytesQ8_1(x.Length)];
        Q8Activation.QuantizeQ8_1(x, y);
        for (int b = 0; b < 64; b++)
        {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.Max(amax, Math.Abs(x[b * 32 + j]));
            int sum = 0;
            for (int j = 0; j < 32; j++) sum += (sbyte)y[b * 36 + 4 + j];
            ushort expected = BitConverter.HalfToUInt16Bits((Half)(amax / 127f * sum));
            Assert.True(expected == BitConverter.ToUInt16(y, b * 36 + 2), $"seed {seed} block {b}");
        }
    }
}
