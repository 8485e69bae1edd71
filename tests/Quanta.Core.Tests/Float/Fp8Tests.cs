using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Float;

namespace Quanta.Core.Tests.Float;

/// <summary>
/// OCP OFP8 v1.0 E4M3 / E5M2: every expectation is computed here from the bit fields or from the spec's rules,
/// never from the code under test.
/// </summary>
public class Fp8Tests
{
    public static TheoryData<Fp8Format> Formats => new() { Fp8Format.E4M3, Fp8Format.E5M2 };

    private static int ManBits(Fp8Format f) => f == Fp8Format.E4M3 ? 3 : 2;
    private static int Bias(Fp8Format f) => f == Fp8Format.E4M3 ? 7 : 15;

    /// <summary>First-principles value of a code: (-1)^s * 2^(1-bias) * m/2^M for exponent 0, (-1)^s * 2^(e-bias) * (1 + m/2^M)
    /// otherwise; E4M3 S.1111.111 is NaN (no infinities); E5M2 exponent 31 is inf (m = 0) or NaN.</summary>
    private static double Expected(byte b, Fp8Format f)
    {
        int mb = ManBits(f), eb = 7 - mb, bias = Bias(f);
        int s = b >> 7, e = (b >> mb) & ((1 << eb) - 1), m = b & ((1 << mb) - 1);
        double v;
        if (f == Fp8Format.E4M3 && e == 15 && m == 7) return double.NaN;
        if (f == Fp8Format.E5M2 && e == 31) { if (m != 0) return double.NaN; v = double.PositiveInfinity; }
        else if (e == 0) v = Math.ScaleB((double)m / (1 << mb), 1 - bias);
        else v = Math.ScaleB(1 + (double)m / (1 << mb), e - bias);
        return s == 1 ? -v : v;
    }

    private static bool IsNaNCode(byte b, Fp8Format f) => double.IsNaN(Expected(b, f));

    [Fact]
    public void Structs_are_one_byte()
    {
        Assert.Equal(1, Unsafe.SizeOf<Fp8E4M3>());
        Assert.Equal(1, Unsafe.SizeOf<Fp8E5M2>());
        Assert.Equal(1, Marshal.SizeOf<Fp8E4M3>());
        Assert.Equal(1, Marshal.SizeOf<Fp8E5M2>());
    }

    [Fact]
    public void Spec_constants()
    {
        Assert.Equal(448.0, Expected(0x7E, Fp8Format.E4M3));
        Assert.Equal(Fp8E4M3.MaxValue, Fp8E4M3.Decode(Fp8E4M3.MaxFiniteBits));
        Assert.Equal(57344.0, Expected(0x7B, Fp8Format.E5M2));
        Assert.Equal(Fp8E5M2.MaxValue, Fp8E5M2.Decode(Fp8E5M2.MaxFiniteBits));
        Assert.Equal(Math.ScaleB(1, -9), Fp8E4M3.Decode(0x01));
        Assert.Equal(Math.ScaleB(1, -16), Fp8E5M2.Decode(0x01));
        Assert.True(new Fp8E4M3(0x7F).IsNaN && new Fp8E4M3(0xFF).IsNaN && !new Fp8E4M3(0x7E).IsNaN);
        Assert.True(new Fp8E5M2(0x7C).IsInfinity && new Fp8E5M2(0x7D).IsNaN && !new Fp8E5M2(0x7B).IsNaN);
        Assert.Equal(1, Enumerable.Range(0, 128).Count(b => IsNaNCode((byte)b, Fp8Format.E4M3)));   // one NaN per sign
        Assert.Equal(3, Enumerable.Range(0, 128).Count(b => IsNaNCode((byte)b, Fp8Format.E5M2)));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Exhaustive_decode_matches_bit_fields(Fp8Format f)
    {
        for (int b = 0; b < 256; b++)
        {
            double want = Expected((byte)b, f);
            float got = Fp8Quantization.Decode((byte)b, f);
            if (double.IsNaN(want))
            {
                Assert.True(float.IsNaN(got), $"{f} code 0x{b:X2}: expected NaN, got {got}");
                Assert.True(float.IsNegative(got) == (b >= 0x80), $"{f} code 0x{b:X2}: NaN sign");
            }
            else
            {
                Assert.True(want == got, $"{f} code 0x{b:X2}: expected {want}, got {got}");
                Assert.True(float.IsNegative(got) == (b >= 0x80), $"{f} code 0x{b:X2}: sign (incl. -0)");
            }
        }
        Assert.Equal(Fp8E4M3.Decode(0x38), new Fp8E4M3(0x38).ToSingle());
    }

    [Theory]
    [MemberData(nameof(Formats))]
    [Trait("Category", "Kernels")]
    public void Vectorized_row_decode_matches_reference(Fp8Format f)
    {
        int seed = FloatTestUtil.NewSeed();
        var r = new Random(seed);
        foreach (int n in Enumerable.Range(0, 301).Concat([256, 4096, 11008]))
        {
            var codes = new byte[n];
            if (n == 256) for (int i = 0; i < n; i++) codes[i] = (byte)i; else r.NextBytes(codes);
            float scale = (float)Math.ScaleB(1 + r.NextDouble(), r.Next(-20, 20));
            var a = new float[n]; var b = new float[n];
            if (f == Fp8Format.E4M3) { Fp8E4M3.DecodeRowReference(codes, scale, a); Fp8E4M3.DecodeRow(codes, scale, b); }
            else { Fp8E5M2.DecodeRowReference(codes, scale, a); Fp8E5M2.DecodeRow(codes, scale, b); }
            for (int i = 0; i < n; i++)
                Assert.True(BitConverter.SingleToUInt32Bits(a[i]) == BitConverter.SingleToUInt32Bits(b[i]),
                    $"seed {seed} {f} n {n} i {i} code 0x{codes[i]:X2}: {a[i]} vs {b[i]}");
        }
        string name = f == Fp8Format.E4M3 ? Fp8E4M3.DecodeRowName : Fp8E5M2.DecodeRowName;
        FloatTestUtil.AssertPath(name, () =>
        {
            if (f == Fp8Format.E4M3) Fp8E4M3.DecodeRow(new byte[64], 1f, new float[64]);
            else Fp8E5M2.DecodeRow(new byte[64], 1f, new float[64]);
        });
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Encoding_every_decoded_value_round_trips(Fp8Format f)
    {
        for (int b = 0; b < 256; b++)
        {
            float v = Fp8Quantization.Decode((byte)b, f);
            byte e = Fp8Quantization.Encode(v, f, saturate: true);
            byte e2 = Fp8Quantization.Encode(v, f, saturate: false);
            if (IsNaNCode((byte)b, f))
            {
                Assert.True(IsNaNCode(e, f) && (e & 0x80) == (b & 0x80), $"{f} NaN code 0x{b:X2} -> 0x{e:X2}");
                Assert.True(IsNaNCode(e2, f) && (e2 & 0x80) == (b & 0x80), $"{f} NaN code 0x{b:X2} -> 0x{e2:X2}");
            }
            else if (double.IsInfinity(Expected((byte)b, f)))
            {
                Assert.Equal((byte)(b & 0x80 | 0x7B), e);     // saturating: inf -> max
                Assert.Equal((byte)b, e2);                    // non-saturating keeps inf
            }
            else
            {
                Assert.True(e == b, $"{f} code 0x{b:X2} -> value {v} -> 0x{e:X2}");
                Assert.True(e2 == b, $"{f} code 0x{b:X2} (non-saturating) -> 0x{e2:X2}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Midpoints_round_to_even_and_neighbours_to_nearest(Fp8Format f)
    {
        int checkedTies = 0;
        for (int b = 0; b < 0x7F; b++)
        {
            byte lo = (byte)b, hi = (byte)(b + 1);
            double vlo = Expected(lo, f), vhi = Expected(hi, f);
            if (!double.IsFinite(vlo) || !double.IsFinite(vhi)) continue;
            float mid = (float)((vlo + vhi) / 2);             // exact in F32
            Assert.Equal((vlo + vhi) / 2, mid);
            byte even = (lo & 1) == 0 ? lo : hi;             // even mantissa = even code
            Assert.True(Fp8Quantization.Encode(mid, f) == even, $"{f} tie {mid} between 0x{lo:X2} and 0x{hi:X2}");
            Assert.True(Fp8Quantization.Encode(-mid, f) == (byte)(even | 0x80), $"{f} tie -{mid}");
            Assert.Equal(hi, Fp8Quantization.Encode(MathF.BitIncrement(mid), f));
            Assert.Equal(lo, Fp8Quantization.Encode(MathF.BitDecrement(mid), f));
            checkedTies++;
        }
        Assert.Equal(f == Fp8Format.E4M3 ? 126 : 123, checkedTies);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Random_values_encode_to_the_nearest_code_ties_to_even(Fp8Format f)
    {
        int seed = FloatTestUtil.NewSeed();
        var r = new Random(seed);
        var finite = Enumerable.Range(0, 128).Where(b => double.IsFinite(Expected((byte)b, f))).Select(b => (Code: (byte)b, Value: Expected((byte)b, f))).ToArray();
        double max = finite.Max(c => c.Value);
        int minExp = 1 - Bias(f) - ManBits(f) - 3;
        for (int k = 0; k < 20000; k++)
        {
            float x = FloatTestUtil.WideValue(r, minExp, (int)Math.Log2(max) + 2);
            double a = Math.Abs(x);
            byte want;
            if (a >= max) want = finite.First(c => c.Value == max).Code;   // saturation
            else
            {
                var best = finite.OrderBy(c => Math.Abs(c.Value - a)).ThenBy(c => c.Code & 1).First();
                want = best.Code;
            }
            if (x < 0) want |= 0x80;
            Assert.True(Fp8Quantization.Encode(x, f) == want, $"seed {seed} {f} x {x}: want 0x{want:X2} got 0x{Fp8Quantization.Encode(x, f):X2}");
        }
    }

    [Fact]
    public void Saturation_and_overflow()
    {
        // E4M3: 464 is the tie between 448 (even mantissa 110) and the would-be 480: rounds to 448 in both modes.
        Assert.Equal(0x7E, Fp8E4M3.Encode(464f));
        Assert.Equal(0x7E, Fp8E4M3.Encode(464f, saturate: false));
        Assert.Equal(0x7E, Fp8E4M3.Encode(MathF.BitIncrement(464f)));
        Assert.Equal(0x7F, Fp8E4M3.Encode(MathF.BitIncrement(464f), saturate: false));
        Assert.Equal(0x7E, Fp8E4M3.Encode(1e30f));
        Assert.Equal(0xFE, Fp8E4M3.Encode(-1e30f));
        Assert.Equal(0x7E, Fp8E4M3.Encode(float.PositiveInfinity));
        Assert.Equal(0xFE, Fp8E4M3.Encode(float.NegativeInfinity));
        Assert.Equal(0x7F, Fp8E4M3.Encode(float.PositiveInfinity, saturate: false));
        Assert.Equal(0xFF, Fp8E4M3.Encode(float.NegativeInfinity, saturate: false));
        Assert.Equal(0xFF, Fp8E4M3.Encode(-1e30f, saturate: false));
        // E5M2: 61440 is the tie between 57344 (odd mantissa 11) and 65536 (even): overflows.
        Assert.Equal(0x7B, Fp8E5M2.Encode(61440f));
        Assert.Equal(0x7C, Fp8E5M2.Encode(61440f, saturate: false));
        Assert.Equal(0x7B, Fp8E5M2.Encode(MathF.BitDecrement(61440f), saturate: false));
        Assert.Equal(0x7B, Fp8E5M2.Encode(float.PositiveInfinity));
        Assert.Equal(0xFB, Fp8E5M2.Encode(float.NegativeInfinity));
        Assert.Equal(0x7C, Fp8E5M2.Encode(float.PositiveInfinity, saturate: false));
        Assert.Equal(0xFC, Fp8E5M2.Encode(-1e30f, saturate: false));
        Assert.Equal(0xFB, Fp8E5M2.Encode(-1e30f));
        // underflow: half the smallest subnormal is a tie with 0 (even); just above goes to the subnormal
        Assert.Equal(0x00, Fp8E4M3.Encode((float)Math.ScaleB(1, -10)));
        Assert.Equal(0x01, Fp8E4M3.Encode(MathF.BitIncrement((float)Math.ScaleB(1, -10))));
        Assert.Equal(0x80, Fp8E4M3.Encode(-1e-30f));
        Assert.Equal(0x00, Fp8E5M2.Encode((float)Math.ScaleB(1, -17)));
        Assert.Equal(0x81, Fp8E5M2.Encode(-MathF.BitIncrement((float)Math.ScaleB(1, -17))));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void NaN_stays_NaN_with_its_sign(Fp8Format f)
    {
        foreach (uint bits in new uint[] { 0x7FC00000, 0x7F800001, 0x7FFFFFFF, 0xFFC00000, 0xFF800001 })
            foreach (bool sat in new[] { true, false })
            {
                byte e = Fp8Quantization.Encode(BitConverter.UInt32BitsToSingle(bits), f, sat);
                Assert.True(IsNaNCode(e, f), $"{f} NaN 0x{bits:X8} -> 0x{e:X2}");
                Assert.Equal(bits >= 0x80000000, e >= 0x80);
            }
        Assert.True(float.IsNaN(Fp8E4M3.FromSingle(float.NaN).ToSingle()));
        Assert.True(float.IsNaN(Fp8E5M2.FromSingle(float.NaN).ToSingle()));
    }

    /// <summary>Relative bound for values in the normal range: half an ulp, 2^-(M+1); plus slack for the two F32 roundings
    /// (x / scale and code * scale).</summary>
    private static double RelBound(Fp8Format f) => Math.ScaleB(1, -(ManBits(f) + 1)) + Math.ScaleB(1, -20);

    [Theory]
    [MemberData(nameof(Formats))]
    public void Quantize_dequantize_error_bounds_per_tensor_and_per_channel(Fp8Format f)
    {
        // E4M3: relative error <= 2^-4 for normal-range values; E5M2: <= 2^-3.
        Assert.Equal(f == Fp8Format.E4M3 ? 1.0 / 16 : 1.0 / 8, RelBound(f), 1e-5);
        int seed = FloatTestUtil.NewSeed();
        var r = new Random(seed);
        const int rows = 13, cols = 301;
        var m = new float[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            // row exponents at most 8 binades apart: with 12-binade rows, at least half of even the lowest row stays
            // in E4M3's normal range under the per-tensor scale (a wider spread made "too few normals" fail by chance)
            int e = r.Next(-1, 2) * 4;
            for (int j = 0; j < cols; j++) m[i * cols + j] = FloatTestUtil.WideValue(r, e - 11, e);
        }
        double minNormal = Math.ScaleB(1, 1 - Bias(f));
        double halfSub = Math.ScaleB(1, 1 - Bias(f) - ManBits(f) - 1);

        var codes = new byte[m.Length];
        var back = new float[m.Length];
        float tensorScale = Fp8Quantization.QuantizePerTensor(m, f, codes);
        Assert.Equal(m.Max(v => Math.Abs(v)) / Fp8Quantization.MaxValue(f), tensorScale);
        Fp8Quantization.Dequantize(codes, rows, cols, f, [tensorScale], back);
        Check(Enumerable.Repeat(tensorScale, rows).ToArray(), "per-tensor");

        var scales = new float[rows];
        Fp8Quantization.QuantizePerChannel(m, rows, cols, f, codes, scales);
        for (int i = 0; i < rows; i++)
            Assert.Equal(m.AsSpan(i * cols, cols).ToArray().Max(v => Math.Abs(v)) / Fp8Quantization.MaxValue(f), scales[i]);
        Fp8Quantization.Dequantize(codes, rows, cols, f, scales, back);
        Check(scales, "per-channel");

        void Check(float[] s, string what)
        {
            int normals = 0;
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                {
                    double x = m[i * cols + j], y = back[i * cols + j], scale = s[i];
                    double err = Math.Abs(y - x);
                    if (Math.Abs(x) / scale >= minNormal)
                    {
                        normals++;
                        Assert.True(err <= RelBound(f) * Math.Abs(x), $"seed {seed} {f} {what} ({i},{j}): x {x} y {y} rel {err / Math.Abs(x)}");
                    }
                    else
                        Assert.True(err <= halfSub * scale * (1 + 1e-6) + Math.ScaleB(Math.Abs(x), -22), $"seed {seed} {f} {what} ({i},{j}) subnormal range: x {x} y {y}");
                }
            Assert.True(normals > rows * cols / 4, $"seed {seed}: too few normal-range values to be a test ({normals})");
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    [Trait("Category", "Kernels")]
    public void Codec_row_layout_and_bit_identical_decode(Fp8Format f)
    {
        IRowCodec codec = f == Fp8Format.E4M3 ? Fp8E4M3Codec.Instance : Fp8E5M2Codec.Instance;
        Assert.Equal(f == Fp8Format.E4M3 ? "FP8_E4M3" : "FP8_E5M2", codec.Name);
        int seed = FloatTestUtil.NewSeed();
        var r = new Random(seed);
        foreach (int n in new[] { 1, 2, 15, 16, 17, 64, 300, 4096 })
        {
            var x = Enumerable.Range(0, n).Select(_ => FloatTestUtil.Gaussian(r) * 3).ToArray();
            var row = new byte[codec.RowBytes(n)];
            Assert.Equal(4 + n, row.Length);
            codec.Quantize(x, row);
            float amax = x.Max(v => Math.Abs(v));
            float scale = BitConverter.ToSingle(row, 0);
            Assert.Equal(amax / Fp8Quantization.MaxValue(f), scale);
            for (int i = 0; i < n; i++) Assert.Equal(Fp8Quantization.Encode(x[i] / scale, f), row[4 + i]);
            var a = new float[n]; var b = new float[n];
            codec.DequantizeReference(row, a);
            codec.Dequantize(row, b);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(BitConverter.SingleToUInt32Bits(a[i]), BitConverter.SingleToUInt32Bits(b[i]));
                Assert.Equal(Expected(row[4 + i], f) * scale, a[i], Math.Abs(a[i]) * 1e-7);
            }
        }
        // per-tensor packing writes the same scale on every row
        var packed = new byte[3 * (4 + 5)];
        Fp8Quantization.PackRows(new byte[15], 3, 5, [2.5f], packed);
        Assert.Equal(2.5f, BitConverter.ToSingle(packed, 9));
        Assert.Equal(2.5f, BitConverter.ToSingle(packed, 18));
    }
}
