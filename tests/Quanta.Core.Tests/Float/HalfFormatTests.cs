using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.Tests.Support;

namespace Quanta.Core.Tests.Float;

/// <summary>A row conversion under test: <paramref name="dst"/>[i] = f(<paramref name="src"/>[i]).</summary>
internal delegate void RowConversion<TIn, TOut>(ReadOnlySpan<TIn> src, Span<TOut> dst);

/// <summary>A quantizer to bytes under test (e.g. a codec's static QuantizeFast).</summary>
internal delegate void RowQuantizer(ReadOnlySpan<float> src, Span<byte> dst);

/// <summary>
/// One 16-bit float format (F16, BF16) as the shared checks in <see cref="HalfFormatTests"/> see it: the code under
/// test, its ggml type id (the oracle) and a generator of one F32 input at or beside one of the format's rounding ties.
/// </summary>
internal sealed record HalfFormat(
    string Label,
    int GgmlType,
    IRowCodec Codec,
    RowQuantizer QuantizeFast,
    Func<float, ushort> FromSingle,
    Func<ushort, float> ToSingle,
    RowConversion<float, ushort> FromSingleRowReference,
    RowConversion<float, ushort> FromSingleRow,
    RowConversion<ushort, float> ToSingleRowReference,
    RowConversion<ushort, float> ToSingleRow,
    string ToSingleName,
    string FromSingleName,
    Func<Random, float> Tie);

/// <summary>
/// Checks every 16-bit float format must pass, against ggml (through LLamaSharp) or the scalar references, run for each
/// format in <see cref="Formats"/> (the format-specific cases are in F16ConversionTests and BF16ConversionTests).
/// </summary>
public class HalfFormatTests
{
    /// <summary>Theory data: the format labels.</summary>
    public static TheoryData<string> Formats => ["f16", "bf16"];

    private static HalfFormat Get(string label) => label switch
    {
        "f16" => F16ConversionTests.Format,
        "bf16" => BF16ConversionTests.Format,
        _ => throw new ArgumentOutOfRangeException(nameof(label), label, "unknown format"),
    };

    // the format, and a generator with a fresh seed (reported in assertion messages)
    private static (HalfFormat Format, int Seed, Random Random) Start(string label)
    {
        int seed = FloatTestUtil.NewSeed();
        return (Get(label), seed, new Random(seed));
    }

    /// <summary>Every F32 bit pattern class (random mix, ties, specials) encodes exactly as ggml's from_float_ref.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void Scalar_encode_matches_ggml_reference_bit_for_bit(string format)
    {
        var (f, seed, r) = Start(format);
        var x = FloatTestUtil.MixedFloats(r, 20000).Concat(FloatTestUtil.Generate(r, 20000, f.Tie)).Concat(FloatTestUtil.SpecialBits.Select(BitConverter.UInt32BitsToSingle)).ToArray();
        var oracle = new byte[x.Length * 2];
        GgmlNative.FromFloatRef(f.GgmlType, x, oracle, x.Length);
        var o = MemoryMarshal.Cast<byte, ushort>(oracle);
        for (int i = 0; i < x.Length; i++)
        {
            ushort ours = f.FromSingle(x[i]);
            Assert.True(o[i] == ours,
                $"{f.Label} seed {seed}: x bits 0x{BitConverter.SingleToUInt32Bits(x[i]):X8}: ggml 0x{o[i]:X4}, ours 0x{ours:X4}");
        }
    }

    /// <summary>All 65536 codes decode exactly as ggml's to_float through the scalar reference.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void Scalar_decode_of_all_65536_codes_matches_ggml_bit_for_bit(string format) => AllCodesDecodeLikeGgml(Get(format), vectorized: false);

    /// <summary>All 65536 codes decode exactly as ggml's to_float through the vectorized codec.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    [Trait("Category", "Kernels")]
    public void Vectorized_decode_of_all_codes_matches_ggml(string format) => AllCodesDecodeLikeGgml(Get(format), vectorized: true);

    private static void AllCodesDecodeLikeGgml(HalfFormat f, bool vectorized)
    {
        var codes = new ushort[65536];
        for (int i = 0; i < codes.Length; i++) codes[i] = (ushort)i;
        var oracle = new float[codes.Length];
        GgmlNative.ToFloat(f.GgmlType, MemoryMarshal.AsBytes(codes.AsSpan()), oracle, codes.Length);
        var ours = new float[codes.Length];
        if (vectorized) f.Codec.Dequantize(MemoryMarshal.AsBytes(codes.AsSpan()), ours);
        else for (int i = 0; i < codes.Length; i++) ours[i] = f.ToSingle(codes[i]);
        AssertSameBits(oracle, ours, $"{f.Label} {(vectorized ? "vector" : "scalar")} decode vs ggml");
    }

    /// <summary>Vectorized rows equal the scalar references at every length 0..300 and two model widths (all tails),
    /// and record the expected SIMD path.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    [Trait("Category", "Kernels")]
    public void Vectorized_rows_match_reference_at_all_lengths(string format)
    {
        var (f, seed, r) = Start(format);
        foreach (int n in Enumerable.Range(0, 301).Concat([4096, 11008]))
        {
            var x = FloatTestUtil.MixedFloats(r, n);
            var h1 = new ushort[n]; var h2 = new ushort[n];
            f.FromSingleRowReference(x, h1);
            f.FromSingleRow(x, h2);
            Assert.True(h1.AsSpan().SequenceEqual(h2), $"{f.Label} seed {seed} n {n}: {f.FromSingleName} row differs");
            for (int i = 0; i < n; i++) h1[i] = (ushort)r.Next(65536);
            var f1 = new float[n]; var f2 = new float[n];
            f.ToSingleRowReference(h1, f1);
            f.ToSingleRow(h1, f2);
            AssertSameBits(f1, f2, $"{f.Label} seed {seed} n {n}: {f.ToSingleName} row");
        }
        FloatTestUtil.AssertPath(f.ToSingleName, () => f.ToSingleRow(new ushort[64], new float[64]));
        FloatTestUtil.AssertPath(f.FromSingleName, () => f.FromSingleRow(new float[64], new ushort[64]));
    }

    /// <summary>The codec's Quantize and QuantizeFast give ggml's bytes; both decodes give ggml's floats.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    [Trait("Category", "Kernels")]
    public void Codec_matches_ggml_both_ways(string format)
    {
        var (f, seed, r) = Start(format);
        foreach (int n in new[] { 1, 7, 32, 33, 255, 1000 })
        {
            var x = FloatTestUtil.MixedFloats(r, n).Concat(FloatTestUtil.Generate(r, n, f.Tie)).ToArray();
            var oracle = new byte[2 * x.Length];
            GgmlNative.FromFloatRef(f.GgmlType, x, oracle, x.Length);
            var q = new byte[f.Codec.RowBytes(x.Length)];
            f.Codec.Quantize(x, q);
            Assert.True(oracle.AsSpan().SequenceEqual(q), $"{f.Label} seed {seed} n {n}: Quantize differs from ggml");
            var qf = new byte[q.Length];
            f.QuantizeFast(x, qf);
            Assert.True(oracle.AsSpan().SequenceEqual(qf), $"{f.Label} seed {seed} n {n}: QuantizeFast differs from ggml");
            var d0 = new float[x.Length]; var d1 = new float[x.Length]; var d2 = new float[x.Length];
            GgmlNative.ToFloat(f.GgmlType, q, d0, x.Length);
            f.Codec.DequantizeReference(q, d1);
            f.Codec.Dequantize(q, d2);
            AssertSameBits(d0, d1, $"{f.Label} seed {seed} n {n}: reference decode");
            AssertSameBits(d0, d2, $"{f.Label} seed {seed} n {n}: vector decode");
        }
    }

    /// <summary>Asserts bit equality, naming the first differing element.</summary>
    private static void AssertSameBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: lengths {expected.Length} vs {actual.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            uint e = BitConverter.SingleToUInt32Bits(expected[i]), a = BitConverter.SingleToUInt32Bits(actual[i]);
            if (e != a) Assert.Fail($"{what}: element {i}: expected 0x{e:X8}, got 0x{a:X8}");
        }
    }
}
