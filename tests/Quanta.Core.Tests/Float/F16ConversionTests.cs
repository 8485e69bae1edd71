using Quanta.Core.Formats.Float;

namespace Quanta.Core.Tests.Float;

public class F16ConversionTests
{
    private const int F16 = 1;

    /// <summary>A value exactly halfway between adjacent F16 values (a tie), or one F32 ulp beside it.</summary>
    private static float Tie(Random r)
    {
        ushort h = (ushort)r.Next(0, 0x7C00);           // finite, non-negative; h + 1 may be inf (tie 65520)
        double mid = ((double)HalfValue(h) + HalfValue((ushort)(h + 1))) / 2;
        float f = (float)mid;                            // exact: 12 significant bits
        int k = r.Next(3);
        if (k == 1) f = MathF.BitIncrement(f); else if (k == 2) f = MathF.BitDecrement(f);
        return r.Next(2) == 0 ? f : -f;
    }

    /// <summary>First-principles F16 value (inf for 0x7C00).</summary>
    private static double HalfValue(ushort h)
    {
        int e = (h >> 10) & 31, m = h & 1023;
        double v = e == 31 ? double.PositiveInfinity : e == 0 ? Math.ScaleB(m, -24) : Math.ScaleB(1024 + m, e - 25);
        return (h & 0x8000) != 0 ? -v : v;
    }

    /// <summary>The format as <see cref="HalfFormatTests"/> checks it.</summary>
    internal static readonly HalfFormat Format = new(
        "f16", F16, F16Codec.Instance, F16Codec.QuantizeFast, F16Conversion.FromSingle, F16Conversion.ToSingle,
        F16Conversion.FromSingleRowReference, F16Conversion.FromSingleRow,
        F16Conversion.ToSingleRowReference, F16Conversion.ToSingleRow,
        F16Conversion.ToSingleName, F16Conversion.FromSingleName, Tie);

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
}
