using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Formats.Float;

/// <summary>
/// bfloat16 (BF16, ggml type 30): the upper 16 bits of an F32.
/// <list type="bullet">
/// <item>F32 -> BF16 rounds to nearest, ties to even, by adding 0x7FFF plus the lowest kept bit and truncating
/// (overflow carries into +-inf; subnormals are rounded, not flushed); a NaN keeps its sign and upper payload
/// bits and gets bit 6 (the BF16 quiet bit) forced on. This is exactly ggml_fp32_to_bf16.</item>
/// <item>BF16 -> F32 is exact: the bits shifted left by 16.</item>
/// </list>
/// Row functions are vectorized, allocation-free and bit-identical to the scalar references.
/// </summary>
public static class BF16Conversion
{
    /// <summary>Kernel name recorded in <see cref="KernelPaths"/> by <see cref="ToSingleRow"/>.</summary>
    public const string ToSingleName = "bf16->f32";

    /// <summary>Kernel name recorded in <see cref="KernelPaths"/> by <see cref="FromSingleRow"/>.</summary>
    public const string FromSingleName = "f32->bf16";

    /// <summary>Scalar reference: F32 to BF16 bits (round to nearest even, NaN made quiet).</summary>
    public static ushort FromSingle(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (ushort)((u >> 16) | 64u);
        return (ushort)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
    }

    /// <summary>Scalar reference: BF16 bits to F32 (exact).</summary>
    public static float ToSingle(ushort h) => BitConverter.UInt32BitsToSingle((uint)h << 16);

    /// <summary>Scalar reference row conversion. <paramref name="dst"/>[i] = ToSingle(<paramref name="src"/>[i]).</summary>
    public static void ToSingleRowReference(ReadOnlySpan<ushort> src, Span<float> dst) =>
        HalfWidthRows.ToSingleReference<Format>(src, dst);

    /// <summary>Scalar reference row conversion. <paramref name="dst"/>[i] = FromSingle(<paramref name="src"/>[i]).</summary>
    public static void FromSingleRowReference(ReadOnlySpan<float> src, Span<ushort> dst) =>
        HalfWidthRows.FromSingleReference<Format>(src, dst);

    /// <summary>Vectorized BF16 -> F32 over <paramref name="src"/>.Length elements; bit-identical to the reference.</summary>
    public static void ToSingleRow(ReadOnlySpan<ushort> src, Span<float> dst) => HalfWidthRows.ToSingle<Format>(src, dst);

    /// <summary>Vectorized F32 -> BF16 over <paramref name="src"/>.Length elements; bit-identical to the reference.</summary>
    public static void FromSingleRow(ReadOnlySpan<float> src, Span<ushort> dst) => HalfWidthRows.FromSingle<Format>(src, dst);

    /// <summary>BF16 for the shared row loops in <see cref="HalfWidthRows"/>: decode is a widen and a 16-bit shift.</summary>
    internal readonly struct Format : IHalfWidthFormat
    {
        public static string ToSingleName => BF16Conversion.ToSingleName;
        public static string FromSingleName => BF16Conversion.FromSingleName;
        public static float ToSingle(ushort h) => BF16Conversion.ToSingle(h);
        public static ushort FromSingle(float value) => BF16Conversion.FromSingle(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Decode512(Vector512<ushort> h, bool upper) =>
            ((upper ? Vector512.WidenUpper(h) : Vector512.WidenLower(h)) << 16).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Decode256(Vector256<ushort> h, bool upper) =>
            ((upper ? Vector256.WidenUpper(h) : Vector256.WidenLower(h)) << 16).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Decode128(Vector128<ushort> h, bool upper) =>
            ((upper ? Vector128.WidenUpper(h) : Vector128.WidenLower(h)) << 16).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<uint> Encode512(Vector512<float> f) => BF16Conversion.Encode512(f);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<uint> Encode256(Vector256<float> f) => BF16Conversion.Encode256(f);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<uint> Encode128(Vector128<float> f) => BF16Conversion.Encode128(f);
    }

    /// <summary>F32 -> BF16 bits in the low 16 bits of each lane, bit-identical to <see cref="FromSingle"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<uint> Encode512(Vector512<float> f)
    {
        var u = f.AsUInt32();
        var isNaN = Vector512.GreaterThan(u & Vector512.Create(0x7FFFFFFFu), Vector512.Create(0x7F800000u));
        var rounded = (u + Vector512.Create(0x7FFFu) + ((u >> 16) & Vector512<uint>.One)) >> 16;
        var quietNaN = (u >> 16) | Vector512.Create(64u);
        return Vector512.ConditionalSelect(isNaN, quietNaN, rounded);
    }

    /// <summary>F32 -> BF16 bits in the low 16 bits of each lane, bit-identical to <see cref="FromSingle"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<uint> Encode256(Vector256<float> f)
    {
        var u = f.AsUInt32();
        var isNaN = Vector256.GreaterThan(u & Vector256.Create(0x7FFFFFFFu), Vector256.Create(0x7F800000u));
        var rounded = (u + Vector256.Create(0x7FFFu) + ((u >> 16) & Vector256<uint>.One)) >> 16;
        var quietNaN = (u >> 16) | Vector256.Create(64u);
        return Vector256.ConditionalSelect(isNaN, quietNaN, rounded);
    }

    /// <summary>F32 -> BF16 bits in the low 16 bits of each lane, bit-identical to <see cref="FromSingle"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<uint> Encode128(Vector128<float> f)
    {
        var u = f.AsUInt32();
        var isNaN = Vector128.GreaterThan(u & Vector128.Create(0x7FFFFFFFu), Vector128.Create(0x7F800000u));
        var rounded = (u + Vector128.Create(0x7FFFu) + ((u >> 16) & Vector128<uint>.One)) >> 16;
        var quietNaN = (u >> 16) | Vector128.Create(64u);
        return Vector128.ConditionalSelect(isNaN, quietNaN, rounded);
    }
}
