using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Quanta.Core.Formats.Float;

/// <summary>
/// In-register FP8 -> F32 decoding shared by the FP8 row decoders and vec-dot kernels. Codes are loaded as
/// sign-extended int32 lanes; the 7 exponent/mantissa bits are shifted into F32 position and the result is
/// multiplied by 2^(127 - bias), which rebiases normals and normalizes subnormals exactly (zero stays zero),
/// so no table and no per-element branch is needed. The "Finite" variants are wrong for NaN (E4M3 S.1111.111)
/// and for E5M2 exponent 31 (inf/NaN); callers check a chunk for those codes first and use the "Exact"
/// variants (one compare and select more) or the scalar table when any is present.
/// </summary>
internal static class Fp8Simd
{
    private const int E4M3Mask = unchecked((int)0x87F00000);   // sign + 4 exponent + 3 mantissa bits after << 20
    private const int E5M2Mask = unchecked((int)0x8FE00000);   // sign + 5 exponent + 2 mantissa bits after << 21
    private const uint TwoPow120 = 0x7B800000u;                // 2^(127-7)
    private const uint TwoPow112 = 0x77800000u;                // 2^(127-15)

    /// <summary>16 codes at <paramref name="p"/> sign-extended to int32 (reads exactly 16 bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<int> Load512(ref byte p)
    {
        var b = Vector128.LoadUnsafe(ref p).AsSByte();
        if (Avx512F.IsSupported) return Avx512F.ConvertToVector512Int32(b);
        return Vector512.WidenLower(Vector256.WidenLower(b.ToVector256Unsafe()).ToVector512Unsafe());
    }

    /// <summary>8 codes at <paramref name="p"/> sign-extended to int32 (reads exactly 8 bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> Load256(ref byte p)
    {
        var b = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref p)).AsSByte();
        if (Avx2.IsSupported) return Avx2.ConvertToVector256Int32(b);
        return Vector256.WidenLower(Vector128.WidenLower(b).ToVector256Unsafe());
    }

    /// <summary>4 codes at <paramref name="p"/> sign-extended to int32 (reads exactly 4 bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> Load128(ref byte p)
    {
        var b = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<int>(ref p)).AsSByte();
        if (Sse41.IsSupported) return Sse41.ConvertToVector128Int32(b);
        return Vector128.WidenLower(Vector128.WidenLower(b));
    }

    /// <summary>E4M3 codes (sign-extended int32 lanes) to F32; NaN codes come out as 480 (check first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> E4M3Finite512(Vector512<int> v) =>
        ((v << 20) & Vector512.Create(E4M3Mask)).AsSingle() * Vector512.Create(TwoPow120).AsSingle();

    /// <summary>E4M3 codes to F32 for every code; NaN gives sign | 0x7FC00000 as <see cref="Fp8E4M3.Decode"/> does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> E4M3Exact512(Vector512<int> v)
    {
        var t = v << 20;
        var finite = (t & Vector512.Create(E4M3Mask)).AsSingle() * Vector512.Create(TwoPow120).AsSingle();
        var em = Vector512.Create(0x07F00000);
        var isNaN = Vector512.Equals(t & em, em);
        var nan = ((t & Vector512.Create(int.MinValue)) | Vector512.Create(0x7FC00000)).AsSingle();
        return Vector512.ConditionalSelect(isNaN.AsSingle(), nan, finite);
    }

    /// <summary>E5M2 codes (sign-extended int32 lanes) to F32; exponent-31 codes come out finite (check first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> E5M2Finite512(Vector512<int> v) =>
        ((v << 21) & Vector512.Create(E5M2Mask)).AsSingle() * Vector512.Create(TwoPow112).AsSingle();

    /// <summary>E5M2 codes to F32 for every code; inf stays inf, NaN keeps sign and payload with the quiet bit set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> E5M2Exact512(Vector512<int> v)
    {
        var t = v << 21;
        var finite = ((t & Vector512.Create(E5M2Mask)).AsSingle() * Vector512.Create(TwoPow112).AsSingle()).AsInt32();
        var expMask = Vector512.Create(0x0F800000);
        var special = Vector512.Equals(t & expMask, expMask);
        var mant = t & Vector512.Create(0x00600000);
        var quiet = ~Vector512.Equals(mant, Vector512<int>.Zero) & Vector512.Create(0x00400000);
        var specialBits = (t & Vector512.Create(unchecked((int)0x80600000))) | Vector512.Create(0x7F800000) | quiet;
        return Vector512.ConditionalSelect(special, specialBits, finite).AsSingle();
    }

    /// <summary>E4M3 codes (sign-extended int32 lanes) to F32; NaN codes come out as 480 (check first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> E4M3Finite256(Vector256<int> v) =>
        ((v << 20) & Vector256.Create(E4M3Mask)).AsSingle() * Vector256.Create(TwoPow120).AsSingle();

    /// <summary>E4M3 codes to F32 for every code; NaN gives sign | 0x7FC00000 as <see cref="Fp8E4M3.Decode"/> does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> E4M3Exact256(Vector256<int> v)
    {
        var t = v << 20;
        var finite = (t & Vector256.Create(E4M3Mask)).AsSingle() * Vector256.Create(TwoPow120).AsSingle();
        var em = Vector256.Create(0x07F00000);
        var isNaN = Vector256.Equals(t & em, em);
        var nan = ((t & Vector256.Create(int.MinValue)) | Vector256.Create(0x7FC00000)).AsSingle();
        return Vector256.ConditionalSelect(isNaN.AsSingle(), nan, finite);
    }

    /// <summary>E5M2 codes (sign-extended int32 lanes) to F32; exponent-31 codes come out finite (check first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> E5M2Finite256(Vector256<int> v) =>
        ((v << 21) & Vector256.Create(E5M2Mask)).AsSingle() * Vector256.Create(TwoPow112).AsSingle();

    /// <summary>E5M2 codes to F32 for every code; inf stays inf, NaN keeps sign and payload with the quiet bit set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> E5M2Exact256(Vector256<int> v)
    {
        var t = v << 21;
        var finite = ((t & Vector256.Create(E5M2Mask)).AsSingle() * Vector256.Create(TwoPow112).AsSingle()).AsInt32();
        var expMask = Vector256.Create(0x0F800000);
        var special = Vector256.Equals(t & expMask, expMask);
        var mant = t & Vector256.Create(0x00600000);
        var quiet = ~Vector256.Equals(mant, Vector256<int>.Zero) & Vector256.Create(0x00400000);
        var specialBits = (t & Vector256.Create(unchecked((int)0x80600000))) | Vector256.Create(0x7F800000) | quiet;
        return Vector256.ConditionalSelect(special, specialBits, finite).AsSingle();
    }

    /// <summary>E4M3 codes (sign-extended int32 lanes) to F32; NaN codes come out as 480 (check first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> E4M3Finite128(Vector128<int> v) =>
        ((v << 20) & Vector128.Create(E4M3Mask)).AsSingle() * Vector128.Create(TwoPow120).AsSingle();

    /// <summary>E4M3 codes to F32 for every code; NaN gives sign | 0x7FC00000 as <see cref="Fp8E4M3.Decode"/> does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> E4M3Exact128(Vector128<int> v)
    {
        var t = v << 20;
        var finite = (t & Vector128.Create(E4M3Mask)).AsSingle() * Vector128.Create(TwoPow120).AsSingle();
        var em = Vector128.Create(0x07F00000);
        var isNaN = Vector128.Equals(t & em, em);
        var nan = ((t & Vector128.Create(int.MinValue)) | Vector128.Create(0x7FC00000)).AsSingle();
        return Vector128.ConditionalSelect(isNaN.AsSingle(), nan, finite);
    }

    /// <summary>E5M2 codes (sign-extended int32 lanes) to F32; exponent-31 codes come out finite (check first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> E5M2Finite128(Vector128<int> v) =>
        ((v << 21) & Vector128.Create(E5M2Mask)).AsSingle() * Vector128.Create(TwoPow112).AsSingle();

    /// <summary>E5M2 codes to F32 for every code; inf stays inf, NaN keeps sign and payload with the quiet bit set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> E5M2Exact128(Vector128<int> v)
    {
        var t = v << 21;
        var finite = ((t & Vector128.Create(E5M2Mask)).AsSingle() * Vector128.Create(TwoPow112).AsSingle()).AsInt32();
        var expMask = Vector128.Create(0x0F800000);
        var special = Vector128.Equals(t & expMask, expMask);
        var mant = t & Vector128.Create(0x00600000);
        var quiet = ~Vector128.Equals(mant, Vector128<int>.Zero) & Vector128.Create(0x00400000);
        var specialBits = (t & Vector128.Create(unchecked((int)0x80600000))) | Vector128.Create(0x7F800000) | quiet;
        return Vector128.ConditionalSelect(special, specialBits, finite).AsSingle();
    }
}
