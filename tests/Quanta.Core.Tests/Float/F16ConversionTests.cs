using System.Runtime.InteropServices;
using Quanta.Core.Formats.Float;
using Quanta.Core.Tests.Support;

namespace Quanta.Core.Tests.Float;

public class F16ConversionTests
{
    private const int F16 = 1;

    /// <summary>Values exactly halfway between adjacent F16 values (ties), and just beside them.</summary>
    private static float[] Ties(Random r, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            ushort h = (ushort)r.Next(0, 0x7C00);           // finite, non-negative; h + 1 may be inf (tie 65520)
            double mid = ((double)HalfValue(h) + HalfValue((ushort)(h + 1))) / 2;
            float f = (float)mid;                            // exact: 12 significant bits
            int k = r.Next(3);
            if (k == 1) f = MathF.BitIncrement(f); else if (k == 2) f = MathF.BitDecrement(f);
            a[i] = r.Next(2) == 0 ? f : -f;
        }
        return a;
    }

    /// <summary>First-principles F16 value (inf for 0x7C00).</summary>
    private static double HalfValue(ushort h)
    {
        int e = (h >> 10) & 31, m = h & 1023;
        double v = e == 31 ? double.PositiveInfinity : e == 0 ? Math.ScaleB(m, -24) : Math.ScaleB(1024 + m, e - 25);
        return (h & 0x8000) != 0 ? -v : v;
    }

    [Fact]
    public void Scalar_encode_matches_ggml_reference_bit_for_bit()
    {
        int seed = FloatTestUtil.NewSeed();
        var r = new Random(seed);
        var x = FloatTestUtil.MixedFloats(r, 20000).Concat(Ties(r, 20000)).Concat(FloatTestUtil.SpecialBits.Select(BitConverter.UInt32BitsToSingle)).ToArray();
        var oracle = new byte[x.Length * 2];
        GgmlNative.FromFloatRef(F16, x, oracle, x.Length);
        var o = MemoryMarshal.Cast<byte, ushort>(oracle);
        for (int i = 0; i < x.Length; i++)
            Assert.True(o[i] == F16Conversion.FromSingle(x[i]),
                $"seed {seed}: x bits 0x{BitConverter.SingleToUInt32Bits(x[i]):X8}: ggml 0x{o[i]:X4}, ours 0x{F16Conversion.FromSingle(x[i]):X4}");
    }

    [Fact]
    public void Scalar_decode_of_all_65536_codes_matches_ggml_bit_for_bit()
    {
        var codes = new ushort[65536];
        for (int i = 0; i < codes.Length; i++) codes[i] = (ushort)i;
        var oracle = new float[codes.Length];
        GgmlNative.ToFloat(F16, MemoryMarshal.AsBytes(codes.AsSpan()), oracle, codes.Length);
        for (int i = 0; i < codes.Length; i++)
            Assert.True(BitConverter.SingleToUInt32Bits(oracle[i]) == BitConverter.SingleToUInt32Bits(F16Conversion.ToSingle(codes[i])),
                $"code 0x{i:X4}: ggml 0x{BitConverter.SingleToUInt32Bits(oracle[i]):X8}, ours 0x{BitConverter.SingleToUInt32Bits(F16Conversion.ToSingle(codes[i])):X8}");
    }

    [Fact]
    public void Ties_round_to_even()
    {
        // 1 + 2^-11 is halfway between 1 (even) and 1 + 2^-10 (odd): goes down; 1 + 3*2^-11 goes up to 1 + 2^-9.
        Assert.Equal(0x3C00, F16Conversion.FromSingle(1f + MathF.Pow(2, -11)));
        Assert.Equal(0x3C02, F16Conversion.FromSingle(1f + 3 * MathF.Pow(2, -11)));
        Assert.Equal(0x7BFF, F16Conversion.FromSingle(65519.99f));
        Assert.Equal(0x7C00, F16Conversion.FromSingle(65520f));           // tie with odd 65504 -> infinity
        Assert.Equal(0x0000, F16Conversion.FromSingle(MathF.Pow(2, -25))); // tie between 0 and smallest subnormal
        Assert.Equal(0x0001, F16Conversion.FromSingle(MathF.BitIncrement(MathF.Pow(2, -25))));
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
            F16Conversion.FromSingleRowReference(x, h1);
            F16Conversion.FromSingleRow(x, h2);
            Assert.True(h1.AsSpan().SequenceEqual(h2), $"seed {seed} n {n}: f32->f16 row differs");
            for (int i = 0; i < n; i++) h1[i] = (ushort)r.Next(65536);
            var f1 = new float[n]; var f2 = new float[n];
            F16Conversion.ToSingleRowReference(h1, f1);
            F16Conversion.ToSingleRow(h1, f2);
            Assert.True(MemoryMarshal.AsBytes(f1.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(f2.AsSpan())), $"seed {seed} n {n}: f16->f32 row differs");
        }
        FloatTestUtil.AssertPath(F16Conversion.ToSingleName, () => F16Conversion.ToSingleRow(new ushort[64], new float[64]));
        FloatTestUtil.AssertPath(F16Conversion.FromSingleName, () => F16Conversion.FromSingleRow(new float[64], new ushort[64]));
    }

    [Fact]
    [Trait("Category", "Kernels")]
    public void Vectorized_decode_of_all_codes_matches_ggml()
    {
        var codes = new ushort[65536];
        for (int i = 0; i < codes.Length; i++) codes[i] = (ushort)i;
        var oracle = new float[codes.Length];
        GgmlNative.ToFloat(F16, MemoryMarshal.AsBytes(codes.AsSpan()), oracle, codes.Length);
        var ours = new float[codes.Length];
        F16Codec.Instance.Dequantize(MemoryMarshal.AsBytes(codes.AsSpan()), ours);
        Assert.True(MemoryMarshal.AsBytes(oracle.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(ours.AsSpan())));
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
            GgmlNative.FromFloatRef(F16, x, oracle, x.Length);
            var q = new byte[F16Codec.Instance.RowBytes(x.Length)];
            F16Codec.Instance.Quantize(x, q);
            Assert.True(oracle.AsSpan().SequenceEqual(q), $"seed {seed} n {n}: Quantize differs from ggml");
            var qf = new byte[q.Length];
            F16Codec.QuantizeFast(x, qf);
            Assert.True(oracle.AsSpan().SequenceEqual(qf), $"seed {seed} n {n}: QuantizeFast differs from ggml");
            var d0 = new float[x.Length]; var d1 = new float[x.Length]; var d2 = new float[x.Length];
            GgmlNative.ToFloat(F16, q, d0, x.Length);
            F16Codec.Instance.DequantizeReference(q, d1);
            F16Codec.Instance.Dequantize(q, d2);
            Assert.True(MemoryMarshal.AsBytes(d0.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(d1.AsSpan())), $"seed {seed} n {n}: reference decode differs");
            Assert.True(MemoryMarshal.AsBytes(d0.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(d2.AsSpan())), $"seed {seed} n {n}: vector decode differs");
        }
    }
}
