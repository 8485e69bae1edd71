using System.Runtime.InteropServices;
using Quanta.Core.Formats.Float;

namespace Quanta.Core.Tests.Float;

public class BF16ConversionTests
{
    private const int BF16 = 30;

    /// <summary>An F32 value exactly halfway between adjacent BF16 values (low half 0x8000), or one ulp beside it.</summary>
    private static float Tie(Random r)
    {
        uint h = (uint)r.Next(0, 0x7F80) | (r.Next(2) == 0 ? 0u : 0x8000u);
        uint bits = (h << 16) | 0x8000u;
        return BitConverter.UInt32BitsToSingle((uint)(bits + r.Next(-1, 2)));
    }

    /// <summary>The format as <see cref="HalfFormatTests"/> checks it.</summary>
    internal static readonly HalfFormat Format = new(
        "bf16", BF16, BF16Codec.Instance, BF16Codec.QuantizeFast, BF16Conversion.FromSingle, BF16Conversion.ToSingle,
        BF16Conversion.FromSingleRowReference, BF16Conversion.FromSingleRow,
        BF16Conversion.ToSingleRowReference, BF16Conversion.ToSingleRow,
        BF16Conversion.ToSingleName, BF16Conversion.FromSingleName, Tie);

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
