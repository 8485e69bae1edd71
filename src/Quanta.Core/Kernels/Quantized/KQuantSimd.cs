using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Register-only helpers of the AVX2 / AVX-512 K-quant dot paths: the 6-bit scale/min unpacking of Q4_K/Q5_K done
/// on 32-bit words (no per-sub-block branches or stack buffers), the min correction from the activation's bsums,
/// nibble splitting and the exact int32 horizontal sums. Callers check Avx2 (and Avx512BW for the 512-bit ones).
/// </summary>
internal static unsafe class KQuantSimd
{
    /// <summary>
    /// The eight 6-bit scales (bytes 0..7) and eight 6-bit mins (bytes 8..15) of a Q4_K/Q5_K super-block from its
    /// 12 packed bytes: the same values as <see cref="Formats.Gguf.KQuantMath.GetScaleMinK4"/> for j = 0..7.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> ScaleMinK4(byte* s)
    {
        uint u0 = Unsafe.ReadUnaligned<uint>(s), u1 = Unsafe.ReadUnaligned<uint>(s + 4), u2 = Unsafe.ReadUnaligned<uint>(s + 8);
        // j < 4: scale = q[j] & 63, min = q[j+4] & 63
        // j >= 4: scale = (q[j+4] & 15) | (q[j-4] >> 6) << 4, min = (q[j+4] >> 4) | (q[j] >> 6) << 4
        uint sc0 = u0 & 0x3F3F3F3Fu;
        uint sc1 = (u2 & 0x0F0F0F0Fu) | (((u0 >> 6) & 0x03030303u) << 4);
        uint m0 = u1 & 0x3F3F3F3Fu;
        uint m1 = ((u2 >> 4) & 0x0F0F0F0Fu) | (((u1 >> 6) & 0x03030303u) << 4);
        return Vector128.Create(sc0, sc1, m0, m1).AsByte();
    }

    /// <summary>Σ_j m[j] · (bsums[2j] + bsums[2j+1]) for j = 0..7, exact. mins: bytes 8..15 of
    /// <see cref="ScaleMinK4"/>; bsums: [16] of one Q8_K block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MinSum(Vector128<byte> scaleMin, short* bsums)
    {
        Vector128<short> mins = Vector128.WidenUpper(scaleMin).AsInt16();
        // pair sums of bsums stay within int16 (|bsum| <= 16 * 128)
        Vector128<short> pairs = Ssse3.HorizontalAdd(Vector128.Load(bsums), Vector128.Load(bsums + 8));
        return Vector128.Sum(Sse2.MultiplyAddAdjacent(mins, pairs));
    }

    /// <summary>Σ_g sc[g] · bsums[g] for g = 0..15, exact. sc: 16 int16 scales; bsums: [16].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int GroupSum(Vector256<short> sc, short* bsums) =>
        Sum(Avx2.MultiplyAddAdjacent(sc, Vector256.Load(bsums)));

    /// <summary>Low nibbles of 32 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Lo(Vector256<byte> v) => v & Vector256.Create((byte)0x0F);

    /// <summary>High nibbles of 32 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Hi(Vector256<byte> v) => Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & Vector256.Create((byte)0x0F);

    /// <summary>Two 256-bit halves into one 512-bit vector on a fresh register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Join(Vector256<byte> lo, Vector256<byte> hi) => Avx512F.InsertVector256(lo.ToVector512Unsafe(), hi, 1);

    /// <summary>Exact sum of 8 int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Vector256<int> v)
    {
        Vector128<int> s = v.GetLower() + v.GetUpper();
        s += Sse2.Shuffle(s, 0b01_00_11_10);
        s += Sse2.Shuffle(s, 0b10_11_00_01);
        return s.ToScalar();
    }

    /// <summary>Exact sum of 16 int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Vector512<int> v) => Sum(v.GetLower() + v.GetUpper());
}
