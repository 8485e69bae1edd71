using System.Buffers.Binary;
using Quanta.Core.Formats.Integer;

namespace Quanta.Core.Tests.Integer;

[Trait("Category", "Kernels")]
public class Int8RowCodecTests
{
    private static readonly Int8RowCodec Codec = Int8RowCodec.Instance;

    public static IEnumerable<object[]> Lengths()
    {
        for (int n = 1; n <= 300; n++) yield return [n];
        yield return [4096];
        yield return [11008];
    }

    [Fact]
    public void Dequantize_is_bit_identical_to_reference_for_lengths_1_to_300_and_large()
    {
        int seed = TestData.NewSeed();
        var rng = new Random(seed);
        foreach (object[] o in Lengths())
        {
            int n = (int)o[0];
            float[] x = TestData.Weights(rng, n);
            var row = new byte[Codec.RowBytes(n)];
            Codec.Quantize(x, row);
            var r = new float[n];
            var v = new float[n];
            Codec.DequantizeReference(row, r);
            Codec.Dequantize(row, v);
            for (int i = 0; i < n; i++)
                Assert.True(BitConverter.SingleToInt32Bits(r[i]) == BitConverter.SingleToInt32Bits(v[i]), $"seed {seed} n {n} i {i}: {r[i]} vs {v[i]}");
        }
    }

    [Fact]
    public void Quantize_error_is_at_most_half_a_scale_per_element()
    {
        // Bound: |x - scale*q| <= scale/2 (RNE of x/scale, never clamped since |x| <= amax = 127*scale),
        // plus F32 rounding of x/scale and of scale*q: slack 2^-20 relative.
        int seed = TestData.NewSeed();
        var rng = new Random(seed);
        foreach (int n in new[] { 1, 7, 32, 100, 4096 })
            for (int rep = 0; rep < 20; rep++)
            {
                float[] x = TestData.Weights(rng, n, (float)Math.Pow(10, rng.Next(-4, 4)));
                var row = new byte[Codec.RowBytes(n)];
                Codec.Quantize(x, row);
                float scale = BinaryPrimitives.ReadSingleLittleEndian(row);
                float amax = x.Max(MathF.Abs);
                Assert.Equal(amax / 127f, scale);
                var y = new float[n];
                Codec.DequantizeReference(row, y);
                for (int i = 0; i < n; i++)
                {
                    sbyte q = (sbyte)row[4 + i];
                    Assert.InRange(q, (sbyte)-127, (sbyte)127);
                    double err = Math.Abs((double)x[i] - y[i]);
                    Assert.True(err <= scale / 2.0 * (1 + 1e-6) + Math.Abs(x[i]) * 1e-6, $"seed {seed} n {n} i {i}: x {x[i]} y {y[i]} scale {scale}");
                }
            }
    }

    [Fact]
    public void Hand_worked_row_has_the_documented_bytes()
    {
        // amax 254 -> scale 2; q = RNE(x/2): 254->127, -127->-63.5->-64 (even), 1->0.5->0, 0.5->0.25->0,
        // 3->1.5->2, 2.5->1.25->1, -5->-2.5->-2 (even), 0->0
        float[] x = [254f, -127f, 1f, 0.5f, 3f, 2.5f, -5f, 0f];
        var row = new byte[4 + x.Length];
        Codec.Quantize(x, row);
        Assert.Equal(2f, BinaryPrimitives.ReadSingleLittleEndian(row));
        Assert.Equal(new sbyte[] { 127, -64, 0, 0, 2, 1, -2, 0 }, row.AsSpan(4).ToArray().Select(b => (sbyte)b).ToArray());
        var y = new float[x.Length];
        Codec.Dequantize(row, y);
        Assert.Equal(new float[] { 254, -128, 0, 0, 4, 2, -4, 0 }, y);
    }

    [Fact]
    public void All_zero_row_has_zero_scale_and_codes()
    {
        var row = new byte[4 + 64];
        row.AsSpan().Fill(0xAA);
        Codec.Quantize(new float[64], row);
        Assert.All(row, b => Assert.Equal(0, b));
    }
}
