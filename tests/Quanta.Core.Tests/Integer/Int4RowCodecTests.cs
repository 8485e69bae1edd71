using System.Buffers.Binary;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Integer;

namespace Quanta.Core.Tests.Integer;

[Trait("Category", "Kernels")]
public class Int4RowCodecTests
{
    public static TheoryData<int, bool> Configs() => new() { { 32, false }, { 32, true }, { 64, false }, { 64, true }, { 128, false }, { 128, true } };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Dequantize_is_bit_identical_to_reference(int groupSize, bool symmetric)
    {
        var codec = new Int4RowCodec(groupSize, symmetric);
        int seed = TestData.NewSeed();
        var rng = new Random(seed);
        var lengths = Enumerable.Range(1, 300 * 32 / groupSize).Select(k => k * groupSize).Concat([4096, 11008]);
        foreach (int n in lengths)
        {
            float[] x = TestData.Weights(rng, n);
            var row = new byte[codec.RowBytes(n)];
            codec.Quantize(x, row);
            var r = new float[n];
            var v = new float[n];
            codec.DequantizeReference(row, r);
            codec.Dequantize(row, v);
            for (int i = 0; i < n; i++)
                Assert.True(BitConverter.SingleToInt32Bits(r[i]) == BitConverter.SingleToInt32Bits(v[i]), $"seed {seed} G {groupSize} n {n} i {i}: {r[i]} vs {v[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Quantize_error_is_at_most_half_the_group_scale(int groupSize, bool symmetric)
    {
        // Bound (Int4Group): |x - (s*q + m)| <= s/2 per element, s the stored fp16 scale; slack for F32 rounding.
        var codec = new Int4RowCodec(groupSize, symmetric);
        int seed = TestData.NewSeed();
        var rng = new Random(seed);
        for (int rep = 0; rep < 60; rep++)
        {
            int n = groupSize * rng.Next(1, 9);
            float mag = (float)Math.Pow(10, rng.Next(-3, 3));
            float[] x = TestData.Weights(rng, n, mag);
            if (rep % 6 == 1) for (int i = 0; i < n; i++) x[i] = Math.Abs(x[i]);          // one-sided groups
            if (rep % 6 == 2) for (int i = 0; i < n; i++) x[i] = -Math.Abs(x[i]);
            if (rep % 6 == 3) for (int i = 0; i < n; i++) x[i] = 1000f + x[i];            // far from zero
            var row = new byte[codec.RowBytes(n)];
            codec.Quantize(x, row);
            var y = new float[n];
            codec.DequantizeReference(row, y);
            int gb = Int4Group.GroupBytes(groupSize);
            for (int i = 0; i < n; i++)
            {
                int g = i / groupSize;
                float s = (float)BinaryPrimitives.ReadHalfLittleEndian(row.AsSpan(g * gb));
                double err = Math.Abs((double)x[i] - y[i]);
                Assert.True(err <= s * (0.5 + 1e-5) + Math.Abs(x[i]) * 1e-6, $"seed {seed} G {groupSize} sym {symmetric} rep {rep} i {i}: x {x[i]} y {y[i]} s {s}");
            }
        }
    }

    [Theory]
    [InlineData(32)] [InlineData(64)] [InlineData(128)]
    public void Hand_built_group_decodes_per_documented_layout(int groupSize)
    {
        // Layout: [Half s][Half m][G/2 bytes], byte j = q[2j] | q[2j+1] << 4, w = s*q + m.
        var codec = new Int4RowCodec(groupSize, symmetric: false);
        var row = new byte[4 + groupSize / 2];
        BinaryPrimitives.WriteHalfLittleEndian(row, (Half)0.25f);
        BinaryPrimitives.WriteHalfLittleEndian(row.AsSpan(2), (Half)(-1.5f));
        for (int j = 0; j < groupSize / 2; j++) row[4 + j] = (byte)((j % 16) | ((15 - j % 16) << 4));
        var y = new float[groupSize];
        codec.Dequantize(row, y);
        for (int k = 0; k < groupSize; k++)
        {
            int q = k % 2 == 0 ? (k / 2) % 16 : 15 - (k / 2) % 16;
            Assert.Equal(0.25f * q - 1.5f, y[k]);
        }
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Codec_and_matrix_packer_write_the_same_rows(int groupSize, bool symmetric)
    {
        int seed = TestData.NewSeed();
        var rng = new Random(seed);
        int outF = 5, inF = groupSize * 3;
        float[] w = TestData.Weights(rng, outF * inF);
        var codec = new Int4RowCodec(groupSize, symmetric);
        byte[] viaMatrix = Int4QuantizedMatrix.FromF32(w, outF, inF, groupSize, symmetric).ToRows();
        var viaCodec = new byte[viaMatrix.Length];
        long rb = codec.RowBytes(inF);
        for (int o = 0; o < outF; o++) codec.Quantize(w.AsSpan(o * inF, inF), viaCodec.AsSpan((int)(o * rb), (int)rb));
        Assert.True(viaMatrix.SequenceEqual(viaCodec), $"seed {seed}");
    }

    [Fact]
    public void Symmetric_groups_use_zero_8_and_zero_groups_decode_to_zero()
    {
        var codec = new Int4RowCodec(32, symmetric: true);
        float[] x = new float[64];
        for (int i = 0; i < 32; i++) x[i] = i - 16;          // amax 16 -> s = 32/15, zero 8
        var row = new byte[codec.RowBytes(64)];
        codec.Quantize(x, row);
        Half s = BinaryPrimitives.ReadHalfLittleEndian(row);
        Assert.Equal((float)(Half)(-8f * (float)s), (float)BinaryPrimitives.ReadHalfLittleEndian(row.AsSpan(2)));
        var y = new float[64];
        codec.Dequantize(row, y);
        for (int i = 32; i < 64; i++) Assert.Equal(0f, y[i]);
        Assert.Equal(WeightFormat.Int4G32, codec.Format);
        Assert.Equal("INT4_G32", codec.Name);
    }
}
