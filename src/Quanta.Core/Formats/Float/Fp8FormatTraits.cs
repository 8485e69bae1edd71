using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Quanta.Core.Formats.Float;

/// <summary><see cref="IFp8Format"/> for <see cref="Fp8E4M3"/>: NaN is S.1111.111 (no infinities).</summary>
internal readonly struct E4M3Traits : IFp8Format
{
    public static byte SpecialMask => 0x7F;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Decode(byte bits) => Fp8E4M3.Decode(bits);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static byte Encode(float value, bool saturate) => Fp8E4M3.Encode(value, saturate);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Finite(Vector512<int> codes) => Fp8Simd.E4M3Finite512(codes);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Exact(Vector512<int> codes) => Fp8Simd.E4M3Exact512(codes);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Finite(Vector256<int> codes) => Fp8Simd.E4M3Finite256(codes);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Exact(Vector256<int> codes) => Fp8Simd.E4M3Exact256(codes);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Finite(Vector128<int> codes) => Fp8Simd.E4M3Finite128(codes);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Exact(Vector128<int> codes) => Fp8Simd.E4M3Exact128(codes);
}

/// <summary><see cref="IFp8Format"/> for <see cref="Fp8E5M2"/>: exponent 31 (S.11111.xx) is inf/NaN.</summary>
internal readonly struct E5M2Traits : IFp8Format
{
    public static byte SpecialMask => 0x7C;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Decode(byte bits) => Fp8E5M2.Decode(bits);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static byte Encode(float value, bool saturate) => Fp8E5M2.Encode(value, saturate);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Finite(Vector512<int> codes) => Fp8Simd.E5M2Finite512(codes);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Exact(Vector512<int> codes) => Fp8Simd.E5M2Exact512(codes);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Finite(Vector256<int> codes) => Fp8Simd.E5M2Finite256(codes);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Exact(Vector256<int> codes) => Fp8Simd.E5M2Exact256(codes);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Finite(Vector128<int> codes) => Fp8Simd.E5M2Finite128(codes);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Exact(Vector128<int> codes) => Fp8Simd.E5M2Exact128(codes);
}
