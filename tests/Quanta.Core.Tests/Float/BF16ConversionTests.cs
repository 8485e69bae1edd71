using System.Runtime.InteropServices;
using Quanta.Core.Formats.Float;
using Quanta.Core.Tests.Support;

namespace Quanta.Core.Tests.Float;

public class BF16ConversionTests
{
    private const int BF16 = 30;

    /// <summary>F32 values exactly halfway between adjacent BF16 values (low half 0x8000), and one ulp beside them.</summary>
    private static float[] Ties(Random r, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            uint h = (uint)r.Next(0, 0x7F80) | (r.Next(2) == 0 ? 0u : 0x8000u);
            uint bits = (h << 16) | 0x8000u;
            bits = (uint)(bits + r.Next(-1, 2));
            a[i] = BitConverter.UInt32BitsToSingle(bits);
        }
        return a;
    }

    private static void AssertSameBits(ReadOnlySpan<float> a, ReadOnlySpan<float> b, string what) =>
        Assert.True(MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b)), what);

    [Fact]
    public void Scalar_encode_matches_ggml_reference_bit_for_bit()
    {
        int seed = FloatTestUtil.NewSeed();
        var r = new Random(seed);
        var x = FloatTestUtil.MixedFloats(r, 20000).Concat(Ties(r, 20000)).Concat(FloatTestUtil.SpecialBits.Select(BitConverter.UInt32BitsToSingle)).ToArray();
        var oracle = new byte[x.Length * 2];
        GgmlNative.FromFloatRef(BF16, x, oracle, x.Length);
        var o = MemoryMarshal.Cast<byte, ushort>(oracle);
        for (int i = 0; i < x.Length; i++)
            Assert.True(o[i] == BF16Conversion.FromSingle(x[i]),
                $"seed {seed}: x bits 0x{BitConverter.SingleToUInt32Bits(x[i]):X8}: ggml 0x{o[i]:X4}, ours 0x{BF16Conversion.FromSingle(x[i]):X4}");
    }

    [Fact]
    public void Decode_of_all_65536_codes_matches_ggml_bit_for_bit()
    {
        var codes = new ushort[65536];
        for (int i = 0; i < codes.Length; i++) codes[i] = (ushort)i;
        var oracle = new float[codes.Length];
        GgmlNative.ToFloat(BF16, MemoryMarshal.AsBytes(codes.AsSpan()), oracle, codes.Length);
        var reference = new float[codes.Length];
        BF16Conversion.ToSingleRowReference(codes, reference);
        AssertSameBits(oracle, reference, "scalar decode differs from ggml");
        var vector = new float[codes.Length];
        BF16Codec.Instance.Dequantize(MemoryMarshal.AsBytes(codes.AsSpan()), vector);
        AssertSameBits(oracle, vector, "vector decode differs from ggml");
    }

    [Fact]
    public void Ties_round_to_even_and_nan_stays_quiet()
    {
        Assert.Equal(0x3F80, BF16Conversion.FromSingle(BitConverter.UInt32BitsToSingle(0x3F808000))); // tie, 0x3F80 even
        Assert.Equal(0x3F82, BF16Conversion.FromSingle(BitConverter.UInt32BitsToSingle(0x3F818000))); // tie, 0x3F81 odd -> up
        Assert.Equal(0x3F81, BF16Conversion.FromSingle(BitConverter.UInt32BitsToSingle(0x3F808001)));
        Assert.Equal(0x7F80, BF16Conversion.FromSingle(BitConverter.UInt32BitsToSingle(0x7F7F8000))); // rounds to inf
        Assert.Equal(0x7FC0, BF16Conversion.FromSingle(BitConverter.UInt32BitsToSingle(0x7F800001))); // sNaN -> quiet
        Assert.Equal(0xFFC0, BF16Conversion.FromSingle(BitConverter.UInt32BitsToSingle(0xFF800001)));
    }

    [Fact]
    [Trait("Category", "Kernels")]
    public void Vectorized_rows_match_reference_at_all_lengths()
    {
        int seed = FloatTestUtil.NewSeed();
        var r = new Random(seed);
        foreach (int n in Enumerable.Range(0, 301).Concat([4096, 11008]))
        {
            var x = FloatTestUtil.MixedFloats(r, n);
            var h1 = new ushort[n]; var h2 = new ushort[n];
            BF16Conversion.FromSingleRowReference(x, h1);
            BF16Conversion.FromSingleRow(x, h2);
            Assert.True(h1.AsSpan().SequenceEqual(h2), $"seed {seed} n {n}: f32->bf16 row differs");
            for (int i = 0; i < n; i++) h1[i] = (ushort)r.Next(65536);
            var f1 = new float[n]; var f2 = new float[n];
            BF16Conversion.ToSingleRowReference(h1, f1);
            BF16Conversion.ToSingleRow(h1, f2);
            AssertSameBits(f1, f2, $"seed {seed} n {n}: bf16->f32 row differs");
        }
        FloatTestUtil.AssertPath(BF16Conversion.ToSingleName, () => BF16Conversion.ToSingleRow(new ushort[64], new float[64]));
        FloatTestUtil.AssertPath(BF16Conversion.FromSingleName, () => BF16Conversion.FromSingleRow(new float[64], new ushort[64]));
    }

    [Fact]
    [Trait("Category", "Kernels")]
    public void Codec_matches_ggml_both_ways()
    {
        int seed = FloatTestUtil.NewSeed();
        var r = new Random(seed);
        foreach (int n in new[] { 1, 7, 32, 33, 255, 1000 })
        {
            var x = FloatTestUtil.MixedFloats(r, n).Concat(Ties(r, n)).ToArray();
            var oracle = new byte[2 * x.Length];
            GgmlNative.FromFloatRef(BF16, x, oracle, x.Length);
            var q = new byte[BF16Codec.Instance.RowBytes(x.Length)];
            BF16Codec.Instance.Quantize(x, q);
            Assert.True(oracle.AsSpan().SequenceEqual(q), $"seed {seed} n {n}: Quantize differs from ggml");
            var qf = new byte[q.Length];
            BF16Codec.QuantizeFast(x, qf);
            Assert.True(oracle.AsSpan().SequenceEqual(qf), $"seed {seed} n {n}: QuantizeFast differs from ggml");
            var d0 = new float[x.Length]; var d1 = new float[x.Length]; var d2 = new float[x.Length];
            GgmlNative.ToFloat(BF16, q, d0, x.Length);
            BF16Codec.Instance.DequantizeReference(q, d1);
            BF16Codec.Instance.Dequantize(q, d2);
            AssertSameBits(d0, d1, $"seed {seed} n {n}: reference decode differs");
            AssertSameBits(d0, d2, $"seed {seed} n {n}: vector decode differs");
        }
    }
}

public class F32CodecTests
{
    [Fact]
    [Trait("Category", "Kernels")]
    public void Codec_round_trips_bits_and_matches_ggml()
    {
        int seed = FloatTestUtil.NewSeed();
        var x = FloatTestUtil.MixedFloats(new Random(seed), 301);
        var q = new byte[F32Codec.Instance.RowBytes(x.Length)];
        F32Codec.Instance.Quantize(x, q);
        var oracle = x; // ggml has no to_float for F32: the stored row is the values themselves
        var d1 = new float[x.Length]; var d2 = new float[x.Length];
        F32Codec.Instance.DequantizeReference(q, d1);
        F32Codec.Instance.Dequantize(q, d2);
        Assert.True(MemoryMarshal.AsBytes(x.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(oracle.AsSpan())), $"seed {seed}");
        Assert.True(MemoryMarshal.AsBytes(x.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(d1.AsSpan())), $"seed {seed}");
        Assert.True(MemoryMarshal.AsBytes(x.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(d2.AsSpan())), $"seed {seed}");
    }
}
