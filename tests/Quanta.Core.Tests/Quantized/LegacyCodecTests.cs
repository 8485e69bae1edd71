using System.Runtime.CompilerServices;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Tests.Support;
using static Quanta.Core.Tests.Quantized.LegacyTestData;

namespace Quanta.Core.Tests.Quantized;

/// <summary>Legacy GGUF block codecs (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1) against ggml's native library.</summary>
[Trait("Category", "Kernels")]
public class LegacyCodecTests
{
    internal static IRowCodec Codec(int type) => type switch
    {
        2 => Q4_0Codec.Instance,
        3 => Q4_1Codec.Instance,
        6 => Q5_0Codec.Instance,
        7 => Q5_1Codec.Instance,
        8 => Q8_0Codec.Instance,
        9 => Q8_1Codec.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    [Fact]
    public void Block_structs_have_ggml_sizes()
    {
        Assert.Equal(18, Unsafe.SizeOf<BlockQ4_0>());
        Assert.Equal(20, Unsafe.SizeOf<BlockQ4_1>());
        Assert.Equal(22, Unsafe.SizeOf<BlockQ5_0>());
        Assert.Equal(24, Unsafe.SizeOf<BlockQ5_1>());
        Assert.Equal(34, Unsafe.SizeOf<BlockQ8_0>());
        Assert.Equal(36, Unsafe.SizeOf<BlockQ8_1>());
        foreach (int t in new[] { 2, 3, 6, 7, 8, 9 })
        {
            IRowCodec c = Codec(t);
            Assert.Equal(GgmlTypeInfo.TypeSize((GgmlType)t), (int)c.RowBytes(32));
            Assert.Equal((long)GgmlNative.Traits(t).TypeSize * 7, c.RowBytes(7 * 32));
            Assert.Equal(32, c.BlockSize);
            Assert.Equal(((GgmlType)t).ToString(), c.Name);
        }
    }

    [Fact]
    public void Fp16_to_fp32_is_exact_for_all_65536_inputs()
    {
        for (int h = 0; h < 65536; h++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            float got = LegacyQuantMath.Fp16ToFp32((ushort)h);
            if (float.IsNaN(expected)) Assert.True(float.IsNaN(got), $"h=0x{h:X4}");
            else Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(got));
        }
    }

    [Fact]
    public void Fp32_to_fp16_rounds_to_nearest_even()
    {
        int seed = NewSeed();
        var r = new Random(seed);
        for (int i = 0; i < 200_000; i++)
        {
            // random sign, exponent across fp16's whole range and beyond (subnormals, overflow), random mantissa
            uint bits = (uint)r.Next(2) << 31 | (uint)r.Next(127 - 30, 127 + 18) << 23 | (uint)r.Next(1 << 23);
            if (i % 7 == 0) bits = (bits & 0xFFFF_E000u) | 0x1000u; // exact halfway cases
            float f = BitConverter.UInt32BitsToSingle(bits);
            ushort expected = BitConverter.HalfToUInt16Bits((Half)f);
            Assert.True(expected == LegacyQuantMath.Fp32ToFp16(f), $"seed {seed}: f={f:R} (0x{bits:X8}) expected 0x{expected:X4} got 0x{LegacyQuantMath.Fp32ToFp16(f):X4}");
        }
        Assert.Equal(0x7E00, LegacyQuantMath.Fp32ToFp16(float.NaN) & 0x7FFF);
        Assert.Equal(0x7C00, LegacyQuantMath.Fp32ToFp16(float.PositiveInfinity));
        Assert.Equal(0x8000, LegacyQuantMath.Fp32ToFp16(-0f));
    }

    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(6)] [InlineData(7)] [InlineData(8)] [InlineData(9)]
    public void Quantize_matches_ggml_reference_quantizer(int type)
    {
        int seed = NewSeed();
        var r = new Random(seed);
        IRowCodec codec = Codec(type);
        foreach (Dist dist in All)
        {
            foreach (int nb in BlockCounts(300, 37))
            {
                int n = nb * 32;
                float[] x = Make(r, dist, n);
                var ours = new byte[codec.RowBytes(n)];
                var ggml = new byte[ours.Length];
                codec.Quantize(x, ours);
                GgmlNative.FromFloatRef(type, x, ggml, n);
                int at = FirstDiff(ours, ggml);
                Assert.True(at < 0, $"seed {seed} type {type} {dist} n={n}: first differing byte {at} (block {at / GgmlTypeInfo.TypeSize((GgmlType)type)})");
            }
        }
    }

    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void Quantize_matches_ggml_quantize_chunk(int type)
    {
        // ggml_quantize_chunk has no Q8_1 case (it aborts): Q8_1 is an activation-only format, so type 9 is not here.
        int seed = NewSeed();
        var r = new Random(seed);
        IRowCodec codec = Codec(type);
        foreach (Dist dist in All)
        {
            foreach (int nb in new[] { 1, 2, 3, 8, 17, 64, 128 })
            {
                int n = nb * 32, rows = 3;
                float[] x = Make(r, dist, n * rows);
                long rowBytes = codec.RowBytes(n);
                var ours = new byte[rowBytes * rows];
                var ggml = new byte[ours.Length];
                for (int row = 0; row < rows; row++)
                    codec.Quantize(x.AsSpan(row * n, n), ours.AsSpan((int)(row * rowBytes), (int)rowBytes));
                long written = GgmlNative.QuantizeChunk(type, x, ggml, rows, n);
                Assert.Equal(ours.Length, written);
                int at = FirstDiff(ours, ggml);
                Assert.True(at < 0, $"seed {seed} type {type} {dist} n={n}x{rows}: first differing byte {at}");
            }
        }
    }

    private static byte[] RandomBlocks(Random r, int type, int nb)
    {
        var bytes = new byte[GgmlTypeInfo.RowBytes((GgmlType)type, nb * 32)];
        r.NextBytes(bytes); // every bit pattern, fp16 scales included (subnormal, inf, NaN)
        return bytes;
    }

    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(6)] [InlineData(7)] [InlineData(8)] [InlineData(9)]
    public void Dequantize_and_reference_match_ggml_bit_for_bit(int type)
    {
        int seed = NewSeed();
        var r = new Random(seed);
        IRowCodec codec = Codec(type);
        bool ggmlHasToFloat = GgmlNative.Traits(type).ToFloat != IntPtr.Zero;
        Assert.True(ggmlHasToFloat || type == 9, $"ggml has no to_float for type {type}");
        foreach (int nb in BlockCounts(300, 23))
        {
            int n = nb * 32;
            for (int variant = 0; variant < 3; variant++)
            {
                byte[] q;
                if (variant == 0) q = RandomBlocks(r, type, nb);
                else
                {
                    q = new byte[codec.RowBytes(n)];
                    GgmlNative.FromFloatRef(type, Make(r, variant == 1 ? Dist.Normal : (Dist)r.Next(All.Length), n), q, n);
                }
                var expected = new float[n];
                if (ggmlHasToFloat) GgmlNative.ToFloat(type, q, expected, n);
                else Q8_1FirstPrinciples(q, expected);
                var fast = new float[n];
                var reference = new float[n];
                codec.Dequantize(q, fast);
                codec.DequantizeReference(q, reference);
                int a = FirstDiff(reference, expected), b = FirstDiff(fast, expected);
                Assert.True(a < 0, $"seed {seed} type {type} n={n} variant {variant}: reference differs at {a}: {(a >= 0 ? reference[a] : 0):R} vs {(a >= 0 ? expected[a] : 0):R}");
                Assert.True(b < 0, $"seed {seed} type {type} n={n} variant {variant}: vectorized differs at {b}: {(b >= 0 ? fast[b] : 0):R} vs {(b >= 0 ? expected[b] : 0):R}");
            }
        }
    }

    /// <summary>Q8_1 value = q * d: the int8 times the fp16 scale, one correctly rounded fp32 product (exact in double first).</summary>
    private static void Q8_1FirstPrinciples(byte[] q, float[] y)
    {
        for (int b = 0; b < y.Length / 32; b++)
        {
            double d = (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(q, b * 36));
            for (int j = 0; j < 32; j++) y[b * 32 + j] = (float)((sbyte)q[b * 36 + 4 + j] * d);
        }
    }

    /// <summary>
    /// Quantize-then-dequantize error per element, bound derived from each format's rule. With d the fp32 scale
    /// the quantizer divides by, d16 the stored fp16 scale, m16 the stored fp16 minimum, c the code, |c| &lt;= C:
    /// <list type="bullet">
    /// <item>Q8_0, Q8_1: d = amax/127, c = round(x/d): |x - c*d16| &lt;= d/2 + 127*|d16 - d|.</item>
    /// <item>Q4_0 (Q5_0): d = max/-8 (-16), c = trunc(x/d + 8.5) - 8 clamped to 7 (15): rounding error d/2, plus
    /// the clamp excess (x/d - 7.5)*|d| for elements of the opposite sign to max near amax, plus 8 (16) * |d16 - d|.</item>
    /// <item>Q4_1 (Q5_1): d = (max-min)/15 (31), c = trunc((x-min)/d + 0.5): |err| &lt;= d/2 + 15 (31)*|d16 - d| + |m16 - min|.</item>
    /// </list>
    /// plus 1e-5 * the block's largest magnitude for fp32 rounding in x*id and in c*d16 (+ m16).
    /// </summary>
    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(6)] [InlineData(7)] [InlineData(8)] [InlineData(9)]
    public void Roundtrip_error_is_within_the_format_bound(int type)
    {
        int seed = NewSeed();
        var r = new Random(seed);
        IRowCodec codec = Codec(type);
        int blockBytes = GgmlTypeInfo.TypeSize((GgmlType)type);
        foreach (Dist dist in Regular)
        {
            foreach (int nb in new[] { 1, 5, 33, 128 })
            {
                int n = nb * 32;
                float[] x = Make(r, dist, n);
                var q = new byte[codec.RowBytes(n)];
                var y = new float[n];
                codec.Quantize(x, q);
                codec.Dequantize(q, y);
                for (int b = 0; b < nb; b++)
                {
                    ReadOnlySpan<float> xb = x.AsSpan(b * 32, 32);
                    double d16 = (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(q, b * blockBytes));
                    double amax = 0, max = 0, mn = double.MaxValue, mx = double.MinValue;
                    foreach (float v in xb)
                    {
                        if (Math.Abs(v) > amax) { amax = Math.Abs(v); max = v; }
                        mn = Math.Min(mn, v); mx = Math.Max(mx, v);
                    }
                    double slop = 1e-5 * Math.Max(amax, 1e-30);
                    for (int j = 0; j < 32; j++)
                    {
                        double v = xb[j], err = Math.Abs(v - y[b * 32 + j]), bound;
                        switch (type)
                        {
                            case 2:
                            case 6:
                                {
                                    double half = type == 2 ? 8 : 16;
                                    double d = max / -half;
                                    double t = d != 0 ? v / d : 0;
                                    bound = Math.Abs(d) * (0.5 + Math.Max(0, t - (half - 0.5))) + half * Math.Abs(d16 - d) + slop;
                                    break;
                                }
                            case 3:
                            case 7:
                                {
                                    double levels = type == 3 ? 15 : 31;
                                    double d = (mx - mn) / levels;
                                    double m16 = (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(q, b * blockBytes + 2));
                                    bound = d / 2 + levels * Math.Abs(d16 - d) + Math.Abs(m16 - mn) + slop;
                                    break;
                                }
                            default:
                                {
                                    double d = amax / 127;
                                    bound = d / 2 + 127 * Math.Abs(d16 - d) + slop;
                                    break;
                                }
                        }
                        Assert.True(err <= bound, $"seed {seed} type {type} {dist} n={n} block {b} elem {j}: x={v:R} y={y[b * 32 + j]:R} err={err:R} > bound {bound:R}");
                    }
                }
            }
        }
    }
}
