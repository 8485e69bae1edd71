namespace Quanta.Core.Formats.Float;

/// <summary>
/// Shared first-principles rounding for narrow binary floating-point formats (F16, FP8): maps the magnitude
/// of a finite F32 to the nearest code of a format with <c>manBits</c> mantissa bits and exponent bias
/// <c>bias</c>, ties to even, subnormals included. The code is returned unclamped (it may exceed the format's
/// largest finite code); callers apply their own overflow, infinity and NaN rules.
/// </summary>
internal static class MiniFloat
{
    /// <summary>
    /// Nearest-even code of the magnitude whose F32 bits (sign cleared, finite, or +inf which yields a huge code)
    /// are <paramref name="absBits"/>. Codes are ordered like the values they stand for, so carries out of the
    /// mantissa move into the exponent field as they should.
    /// </summary>
    internal static uint RoundMagnitude(uint absBits, int manBits, int bias)
    {
        int biasedExp = (int)(absBits >> 23);
        uint mant = absBits & 0x7FFFFFu;
        if (biasedExp == 0) biasedExp = 1;          // F32 subnormal: mant * 2^(1-127-23), no implicit bit
        else mant |= 0x800000u;                      // implicit leading one
        int exp = biasedExp - 127;                   // value = mant * 2^(exp-23)
        int minNormalExp = 1 - bias;
        if (exp >= minNormalExp)
        {
            // mant >> (23-manBits) is (1 << manBits) + fraction, so the exponent field is written one lower.
            uint r = RoundShiftRightEven(mant, 23 - manBits);
            return ((uint)(exp + bias - 1) << manBits) + r;
        }
        // Subnormal in the target: count units of 2^(minNormalExp - manBits).
        return RoundShiftRightEven(mant, 23 - manBits + (minNormalExp - exp));
    }

    /// <summary>v / 2^s rounded to nearest, ties to even; v &lt; 2^24, s &gt;= 1.</summary>
    private static uint RoundShiftRightEven(uint v, int s)
    {
        if (s > 25) return 0;                        // v < 2^24 < half an output unit
        uint q = v >> s;
        uint rem = v & ((1u << s) - 1);
        uint half = 1u << (s - 1);
        if (rem > half || (rem == half && (q & 1) != 0)) q++;
        return q;
    }
}
