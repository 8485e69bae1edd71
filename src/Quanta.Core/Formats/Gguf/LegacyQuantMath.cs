using System.Runtime.CompilerServices;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// Scalar arithmetic the legacy GGUF block formats (Q4_0 .. Q8_1) need to reproduce ggml bit for bit:
/// fp16 conversions (round-to-nearest-even, as ggml's software converter and F16C both do) and the
/// float-to-integer conversions of x86 (the instructions ggml's compiled C code runs on this machine).
/// </summary>
internal static class LegacyQuantMath
{
    // exact powers of two (float bits 0x77800000, 0x08800000, 0x07800000); the decimals round to them exactly
    private const float Two112 = 5.1922968585348276E+33f;
    private const float TwoM110 = 7.7037197775489434E-34f;
    private const float TwoM112 = 1.9259299443872359E-34f;

    /// <summary>
    /// fp16 bits to fp32, exact for every input (normal, subnormal, zero, infinity, NaN).
    /// Normal and infinite/NaN halves: move the exponent/mantissa field into float position and
    /// rescale by 2^-112 (which also maps the fp16 exponent 31 to float's 255 via the 0xE0 offset).
    /// Subnormal halves: place the 10-bit mantissa under a float exponent of 2^-1 and subtract 0.5.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Fp16ToFp32(ushort h)
    {
        uint w = (uint)h << 16;
        uint sign = w & 0x8000_0000u;
        uint twoW = w + w;
        float normalized = BitConverter.UInt32BitsToSingle((twoW >> 4) + (0xE0u << 23)) * TwoM112;
        float denormalized = BitConverter.UInt32BitsToSingle((twoW >> 17) | (126u << 23)) - 0.5f;
        uint bits = twoW < (1u << 27) ? BitConverter.SingleToUInt32Bits(denormalized) : BitConverter.SingleToUInt32Bits(normalized);
        return BitConverter.UInt32BitsToSingle(sign | bits);
    }

    /// <summary>
    /// fp32 to fp16 bits with round-to-nearest-even; overflow gives infinity, any NaN gives the quiet
    /// NaN 0x7E00 with the input's sign (ggml's converter does the same).
    /// Method: scale |f| by 2^112 then 2^-110 (saturating to infinity for |f| &gt;= 65520, both scalings
    /// exact otherwise), then add a power of two chosen from f's exponent so that the float adder's own
    /// round-to-nearest-even drops exactly the mantissa bits fp16 cannot hold; the fp16 fields are then read
    /// out of the sum's bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fp32ToFp16(float f)
    {
        float b = MathF.Abs(f) * Two112 * TwoM110;
        uint w = BitConverter.SingleToUInt32Bits(f);
        uint shl1W = w + w;
        uint sign = w & 0x8000_0000u;
        uint bias = shl1W & 0xFF00_0000u;
        if (bias < 0x7100_0000u) bias = 0x7100_0000u;
        b = BitConverter.UInt32BitsToSingle((bias >> 1) + 0x0780_0000u) + b;
        uint bits = BitConverter.SingleToUInt32Bits(b);
        uint expBits = (bits >> 13) & 0x7C00u;
        uint mantBits = bits & 0x0FFFu;
        uint nonSign = expBits + mantBits;
        return (ushort)((sign >> 16) | (shl1W > 0xFF00_0000u ? 0x7E00u : nonSign));
    }

    /// <summary>
    /// x86 cvttss2si / cvttps2dq: truncation toward zero; NaN and values outside int32 give int.MinValue
    /// (the "integer indefinite" value). This is what a C cast float -> int8_t/uint8_t compiles to on x86
    /// (32-bit conversion, then the low byte is kept).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TruncToInt32X86(float v) =>
        v >= -2147483648f && v < 2147483648f ? (int)v : int.MinValue;

    /// <summary>
    /// x86 cvtps2dq under the default rounding mode: round half to even; NaN and values outside int32
    /// give int.MinValue.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RoundEvenToInt32X86(float v)
    {
        float r = MathF.Round(v, MidpointRounding.ToEven);
        return r >= -2147483648f && r < 2147483648f ? (int)r : int.MinValue;
    }

    /// <summary>C roundf: round half away from zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float RoundAway(float v) => MathF.Round(v, MidpointRounding.AwayFromZero);
}
