using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Formats.Float;

/// <summary>
/// IEEE 754 binary16 (F16, ggml type 1) conversions.
/// <list type="bullet">
/// <item>F32 -> F16 rounds to nearest, ties to even; overflow (|x| &gt;= 65520) gives +-inf; subnormals are kept;
/// every NaN becomes the quiet NaN 0x7E00 with the input's sign (exactly what ggml_fp32_to_fp16 returns).</item>
/// <item>F16 -> F32 is exact; a NaN keeps sign and payload and gets the quiet bit set.</item>
/// </list>
/// Row functions (<see cref="ToSingleRow"/>, <see cref="FromSingleRow"/>) are vectorized, allocation-free and
/// bit-identical to the scalar reference functions beside them.
/// </summary>
public static class F16Conversion
{
    /// <summary>Kernel name recorded in <see cref="KernelPaths"/> by <see cref="ToSingleRow"/>.</summary>
    public const string ToSingleName = "f16->f32";

    /// <summary>Kernel name recorded in <see cref="KernelPaths"/> by <see cref="FromSingleRow"/>.</summary>
    public const string FromSingleName = "f32->f16";

    /// <summary>Scalar reference: F32 to F16 bits, round to nearest even (see type remarks for specials).</summary>
    public static ushort FromSingle(float value)
    {
        uint w = BitConverter.SingleToUInt32Bits(value);
        uint sign = (w >> 16) & 0x8000u;
        uint a = w & 0x7FFFFFFFu;
        if (a > 0x7F800000u) return (ushort)(sign | 0x7E00u);
        uint code = MiniFloat.RoundMagnitude(a, 10, 15);
        if (code >= 0x7C00u) code = 0x7C00u;         // rounds past 65504 (or is inf): infinity
        return (ushort)(sign | code);
    }

    /// <summary>Scalar reference: F16 bits to F32 (exact).</summary>
    public static float ToSingle(ushort h)
    {
        uint sign = (uint)(h & 0x8000) << 16;
        uint exp = (uint)(h >> 10) & 0x1Fu;
        uint mant = h & 0x3FFu;
        if (exp == 0x1F)
            return BitConverter.UInt32BitsToSingle(sign | 0x7F800000u | (mant << 13) | (mant != 0 ? 0x00400000u : 0u));
        float magnitude = exp == 0
            ? mant * (1f / 16777216f)                                          // subnormal: mant * 2^-24
            : BitConverter.UInt32BitsToSingle(((exp + 112u) << 23) | (mant << 13)); // rebias 15 -> 127
        return sign != 0 ? -magnitude : magnitude;
    }

    /// <summary>Scalar reference row conversion. <paramref name="dst"/>[i] = ToSingle(<paramref name="src"/>[i]).</summary>
    public static void ToSingleRowReference(ReadOnlySpan<ushort> src, Span<float> dst) =>
        HalfWidthRows.ToSingleReference<Format>(src, dst);

    /// <summary>Scalar reference row conversion. <paramref name="dst"/>[i] = FromSingle(<paramref name="src"/>[i]).</summary>
    public static void FromSingleRowReference(ReadOnlySpan<float> src, Span<ushort> dst) =>
        HalfWidthRows.FromSingleReference<Format>(src, dst);

    /// <summary>Vectorized F16 -> F32 over <paramref name="src"/>.Length elements; bit-identical to the reference.</summary>
    public static void ToSingleRow(ReadOnlySpan<ushort> src, Span<float> dst) => HalfWidthRows.ToSingle<Format>(src, dst);

    /// <summary>
    /// <see cref="ToSingleRow"/> without checks or path recording, for hot inner loops (attention over F16 KV rows):
    /// <paramref name="dst"/>[0..n) = ToSingle(<paramref name="src"/>[0..n)). Each narrower vector width takes the
    /// elements the wider one left, then a scalar tail.
    /// </summary>
    internal static void ToSingleRowUnchecked(ref ushort src, ref float dst, int n) =>
        HalfWidthRows.ToSingleUnchecked<Format>(ref src, ref dst, n);

    /// <summary>Vectorized F32 -> F16 over <paramref name="src"/>.Length elements; bit-identical to the reference.</summary>
    public static void FromSingleRow(ReadOnlySpan<float> src, Span<ushort> dst) => HalfWidthRows.FromSingle<Format>(src, dst);

    /// <summary>F16 for the shared row loops in <see cref="HalfWidthRows"/>: codes are sign-extended to int32 lanes
    /// (the input the DecodeExact helpers expect).</summary>
    internal readonly struct Format : IHalfWidthFormat
    {
        public static string ToSingleName => F16Conversion.ToSingleName;
        public static string FromSingleName => F16Conversion.FromSingleName;
        public static float ToSingle(ushort h) => F16Conversion.ToSingle(h);
        public static ushort FromSingle(float value) => F16Conversion.FromSingle(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Decode512(Vector512<ushort> h, bool upper) =>
            DecodeExact512(upper ? Vector512.WidenUpper(h.AsInt16()) : Vector512.WidenLower(h.AsInt16()));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Decode256(Vector256<ushort> h, bool upper) =>
            DecodeExact256(upper ? Vector256.WidenUpper(h.AsInt16()) : Vector256.WidenLower(h.AsInt16()));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Decode128(Vector128<ushort> h, bool upper) =>
            DecodeExact128(upper ? Vector128.WidenUpper(h.AsInt16()) : Vector128.WidenLower(h.AsInt16()));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<uint> Encode512(Vector512<float> f) => F16Conversion.Encode512(f);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<uint> Encode256(Vector256<float> f) => F16Conversion.Encode256(f);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<uint> Encode128(Vector128<float> f) => F16Conversion.Encode128(f);
    }

    // ---- Vector 512 helpers. Input: F16 bits sign-extended to int32 lanes. ----

    /// <summary>
    /// F16 -> F32 for finite inputs (zero, subnormal, normal): move sign and exponent/mantissa into F32 position
    /// and multiply by 2^112, which rebiases normals and normalizes subnormals exactly. Inf/NaN come out wrong
    /// (as finite values); callers check for exponent 31 first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> DecodeFinite512(Vector512<int> h) => UnscaledFinite512(h) * Vector512.Create(Two112);

    /// <summary>2^112: F16 bits moved into F32 position (<see cref="UnscaledFinite512"/>) read as F32 are the value · 2^-112.</summary>
    internal const float Two112 = 5.192296858534828E+33f;

    /// <summary>
    /// <see cref="DecodeFinite512"/> without its final multiply: each finite F16 value · 2^-112, exactly (sign, exponent
    /// and mantissa moved into F32 position). For kernels that fold the 2^112 into the other factor of a product.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> UnscaledFinite512(Vector512<int> h) => ((h << 13) & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle();

    /// <summary>F16 -> F32 for every input, bit-identical to <see cref="ToSingle"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> DecodeExact512(Vector512<int> h)
    {
        var t = h << 13;                              // sign copies in bits 28..31, exponent 23..27, mantissa 13..22
        var finite = ((t & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector512.Create(0x77800000u).AsSingle()).AsInt32();
        var expMask = Vector512.Create(0x0F800000);
        var special = Vector512.Equals(t & expMask, expMask);
        var mant = t & Vector512.Create(0x007FE000);
        var quiet = ~Vector512.Equals(mant, Vector512<int>.Zero) & Vector512.Create(0x00400000);
        var specialBits = (t & Vector512.Create(unchecked((int)0x807FE000))) | Vector512.Create(0x7F800000) | quiet;
        return Vector512.ConditionalSelect(special, specialBits, finite).AsSingle();
    }

    /// <summary>F32 -> F16 bits in the low 16 bits of each lane, bit-identical to <see cref="FromSingle"/>
    /// (the float-arithmetic rounding trick of the FP16 library that ggml uses).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<uint> Encode512(Vector512<float> f)
    {
        var w = f.AsUInt32();
        var magnitude = (Vector512.Abs(f) * Vector512.Create(0x77800000u).AsSingle()) * Vector512.Create(0x08800000u).AsSingle();
        var shl1 = w + w;
        var sign = w & Vector512.Create(0x80000000u);
        var bias = Vector512.Max(shl1 & Vector512.Create(0xFF000000u), Vector512.Create(0x71000000u));
        var rounded = ((bias >> 1) + Vector512.Create(0x07800000u)).AsSingle() + magnitude;
        var bits = rounded.AsUInt32();
        var nonSign = ((bits >> 13) & Vector512.Create(0x7C00u)) + (bits & Vector512.Create(0x0FFFu));
        var isNaN = Vector512.GreaterThan(shl1, Vector512.Create(0xFF000000u));
        return (sign >> 16) | Vector512.ConditionalSelect(isNaN, Vector512.Create(0x7E00u), nonSign);
    }

    // ---- Vector 256 helpers. Input: F16 bits sign-extended to int32 lanes. ----

    /// <summary>
    /// F16 -> F32 for finite inputs (zero, subnormal, normal): move sign and exponent/mantissa into F32 position
    /// and multiply by 2^112, which rebiases normals and normalizes subnormals exactly. Inf/NaN come out wrong
    /// (as finite values); callers check for exponent 31 first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> DecodeFinite256(Vector256<int> h) =>
        ((h << 13) & Vector256.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector256.Create(0x77800000u).AsSingle();

    /// <summary>F16 -> F32 for every input, bit-identical to <see cref="ToSingle"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> DecodeExact256(Vector256<int> h)
    {
        var t = h << 13;                              // sign copies in bits 28..31, exponent 23..27, mantissa 13..22
        var finite = ((t & Vector256.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector256.Create(0x77800000u).AsSingle()).AsInt32();
        var expMask = Vector256.Create(0x0F800000);
        var special = Vector256.Equals(t & expMask, expMask);
        var mant = t & Vector256.Create(0x007FE000);
        var quiet = ~Vector256.Equals(mant, Vector256<int>.Zero) & Vector256.Create(0x00400000);
        var specialBits = (t & Vector256.Create(unchecked((int)0x807FE000))) | Vector256.Create(0x7F800000) | quiet;
        return Vector256.ConditionalSelect(special, specialBits, finite).AsSingle();
    }

    /// <summary>F32 -> F16 bits in the low 16 bits of each lane, bit-identical to <see cref="FromSingle"/>
    /// (the float-arithmetic rounding trick of the FP16 library that ggml uses).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<uint> Encode256(Vector256<float> f)
    {
        var w = f.AsUInt32();
        var magnitude = (Vector256.Abs(f) * Vector256.Create(0x77800000u).AsSingle()) * Vector256.Create(0x08800000u).AsSingle();
        var shl1 = w + w;
        var sign = w & Vector256.Create(0x80000000u);
        var bias = Vector256.Max(shl1 & Vector256.Create(0xFF000000u), Vector256.Create(0x71000000u));
        var rounded = ((bias >> 1) + Vector256.Create(0x07800000u)).AsSingle() + magnitude;
        var bits = rounded.AsUInt32();
        var nonSign = ((bits >> 13) & Vector256.Create(0x7C00u)) + (bits & Vector256.Create(0x0FFFu));
        var isNaN = Vector256.GreaterThan(shl1, Vector256.Create(0xFF000000u));
        return (sign >> 16) | Vector256.ConditionalSelect(isNaN, Vector256.Create(0x7E00u), nonSign);
    }

    // ---- Vector 128 helpers. Input: F16 bits sign-extended to int32 lanes. ----

    /// <summary>
    /// F16 -> F32 for finite inputs (zero, subnormal, normal): move sign and exponent/mantissa into F32 position
    /// and multiply by 2^112, which rebiases normals and normalizes subnormals exactly. Inf/NaN come out wrong
    /// (as finite values); callers check for exponent 31 first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> DecodeFinite128(Vector128<int> h) =>
        ((h << 13) & Vector128.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector128.Create(0x77800000u).AsSingle();

    /// <summary>F16 -> F32 for every input, bit-identical to <see cref="ToSingle"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> DecodeExact128(Vector128<int> h)
    {
        var t = h << 13;                              // sign copies in bits 28..31, exponent 23..27, mantissa 13..22
        var finite = ((t & Vector128.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector128.Create(0x77800000u).AsSingle()).AsInt32();
        var expMask = Vector128.Create(0x0F800000);
        var special = Vector128.Equals(t & expMask, expMask);
        var mant = t & Vector128.Create(0x007FE000);
        var quiet = ~Vector128.Equals(mant, Vector128<int>.Zero) & Vector128.Create(0x00400000);
        var specialBits = (t & Vector128.Create(unchecked((int)0x807FE000))) | Vector128.Create(0x7F800000) | quiet;
        return Vector128.ConditionalSelect(special, specialBits, finite).AsSingle();
    }

    /// <summary>F32 -> F16 bits in the low 16 bits of each lane, bit-identical to <see cref="FromSingle"/>
    /// (the float-arithmetic rounding trick of the FP16 library that ggml uses).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<uint> Encode128(Vector128<float> f)
    {
        var w = f.AsUInt32();
        var magnitude = (Vector128.Abs(f) * Vector128.Create(0x77800000u).AsSingle()) * Vector128.Create(0x08800000u).AsSingle();
        var shl1 = w + w;
        var sign = w & Vector128.Create(0x80000000u);
        var bias = Vector128.Max(shl1 & Vector128.Create(0xFF000000u), Vector128.Create(0x71000000u));
        var rounded = ((bias >> 1) + Vector128.Create(0x07800000u)).AsSingle() + magnitude;
        var bits = rounded.AsUInt32();
        var nonSign = ((bits >> 13) & Vector128.Create(0x7C00u)) + (bits & Vector128.Create(0x0FFFu));
        var isNaN = Vector128.GreaterThan(shl1, Vector128.Create(0xFF000000u));
        return (sign >> 16) | Vector128.ConditionalSelect(isNaN, Vector128.Create(0x7E00u), nonSign);
    }
}
