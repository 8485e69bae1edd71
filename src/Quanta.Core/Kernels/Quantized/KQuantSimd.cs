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

    /// <summary>
    /// <see cref="ScaleMinK4"/> of four Q4_K/Q5_K super-blocks at once: <paramref name="headers"/> holds each block's first
    /// 16 bytes (d, dmin, the 12 packed scale bytes) in one 128-bit lane; the result holds in the same lane the eight
    /// 6-bit scales (bytes 0..7) and eight mins (bytes 8..15), the same values as <see cref="ScaleMinK4"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> ScaleMinK4x4(Vector512<uint> headers)
    {
        // per lane, dwords [d|dmin, u0, u1, u2]; result dwords: [u0 & 3F, (u2 & 0F) | (u0 >> 2) & 30, u1 & 3F, (u2 >> 4) & 0F | (u1 >> 2) & 30]
        Vector512<uint> x = Avx512F.Shuffle(headers, 0xED);   // [u0, u2, u1, u2]
        Vector512<uint> y = Avx512F.Shuffle(headers, 0xA5);   // [u0, u0, u1, u1]
        Vector512<uint> shift = Vector512.Create(0u, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4);
        Vector512<uint> low = Vector512.Create(0x3F3F3F3Fu, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F,
            0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F);
        Vector512<uint> top = Vector512.Create(0u, 0x30303030, 0, 0x30303030, 0, 0x30303030, 0, 0x30303030,
            0, 0x30303030, 0, 0x30303030, 0, 0x30303030, 0, 0x30303030);
        return ((Avx512F.ShiftRightLogicalVariable(x, shift) & low) | (Avx512F.ShiftRightLogical(y, 2) & top)).AsByte();
    }

    /// <summary>
    /// The F32 values of eight F16 bit patterns (low 16 bits of each lane; the high bits must be zero), exactly as
    /// <see cref="Formats.Gguf.KQuantMath.Fp16ToFp32"/> (the table of <see cref="Half"/> conversions): finite values
    /// (subnormals included) moved into F32 position and scaled by 2^112, infinities kept, NaNs quieted with their payload.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Fp16ToFp32(Vector256<uint> h) => Fp16ToFp32(h.ToVector512Unsafe()).GetLower();   // AVX-512 callers only

    /// <summary><see cref="Fp16ToFp32(Vector256{uint})"/> of sixteen F16 bit patterns (low 16 bits of each lane; the high
    /// bits must be zero): the same values, lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Fp16ToFp32(Vector512<uint> h)
    {
        Vector512<uint> em = h & Vector512.Create(0x7FFFu);
        Vector512<uint> bits = em << 13;
        Vector512<uint> finite = (bits.AsSingle() * Vector512.Create(0x77800000u).AsSingle()).AsUInt32();   // · 2^112
        Vector512<uint> special = bits | Vector512.Create(0x7F800000u)
            | (Vector512.GreaterThan(em, Vector512.Create(0x7C00u)) & Vector512.Create(0x00400000u));
        Vector512<uint> mag = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(em, Vector512.Create(0x7C00u)), special, finite);
        return (mag | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle();
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

    /// <summary>
    /// The 16 signed 6-bit scales of a Q3_K super-block from its 12 packed bytes, sign-extended to int16: the same values
    /// as <see cref="Formats.Gguf.KQuantMath.UnpackQ3Scales"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> ScalesQ3(byte* s)
    {
        uint a0 = Unsafe.ReadUnaligned<uint>(s), a1 = Unsafe.ReadUnaligned<uint>(s + 4), a2 = Unsafe.ReadUnaligned<uint>(s + 8);
        // scale j: low 4 bits from byte j % 8 (low nibble for j < 8, high for j >= 8), high 2 bits from byte 8 + j % 4, bits 2 * (j / 4)
        const uint m4 = 0x0F0F0F0Fu, m2 = 0x03030303u;
        uint w0 = (a0 & m4) | ((a2 & m2) << 4);
        uint w1 = (a1 & m4) | (((a2 >> 2) & m2) << 4);
        uint w2 = ((a0 >> 4) & m4) | (((a2 >> 4) & m2) << 4);
        uint w3 = ((a1 >> 4) & m4) | (((a2 >> 6) & m2) << 4);
        Vector128<sbyte> b = Vector128.Create(w0, w1, w2, w3).AsSByte() - Vector128.Create((sbyte)32);
        return Avx2.ConvertToVector256Int16(b);
    }

    /// <summary>vpermw controls for <see cref="Scaled512"/>: pair-sums 0..7 take scale 0, 8..15 scale 1, ...</summary>
    private static Vector512<short> GroupIndex512
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(
        (short)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
        2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    }

    /// <summary>
    /// One 64-quant chunk (16-element groups <paramref name="firstGroup"/>..+3) of Σ_g sc[g] Σ u·q8: vpmaddubsw of the unsigned
    /// quants <paramref name="u"/> (at most 63, so pairs stay below 2·63·128) with q8 [64], then vpmaddwd with the chunk's
    /// scales spread by vpermw from <paramref name="sc"/> (16 int16 in the low half). 16 exact int32 partial sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Scaled512(Vector512<byte> u, sbyte* q8, Vector512<short> sc, int firstGroup) =>
        Avx512BW.MultiplyAddAdjacent(
            Avx512BW.MultiplyAddAdjacent(u, Vector512.Load(q8)),
            Avx512BW.PermuteVar32x16(sc, GroupIndex512 + Vector512.Create((short)firstGroup)));

    /// <summary>
    /// One 32-quant chunk (groups <paramref name="firstGroup"/> and +1, firstGroup even) of Σ_g sc[g] Σ u·q8 on AVX2: the two
    /// scales are one int32 of <paramref name="sc"/>, broadcast (vpermd) and spread over the lanes (vpshufb). 8 exact int32 partial sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Scaled256(Vector256<byte> u, sbyte* q8, Vector256<short> sc, int firstGroup)
    {
        Vector256<byte> pair = Avx2.PermuteVar8x32(sc.AsInt32(), Vector256.Create(firstGroup >> 1)).AsByte();
        Vector256<byte> spread = Avx2.Shuffle(pair, Vector256.Create(
            (byte)0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
            2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3));
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, Vector256.Load(q8)), spread.AsInt16());
    }

    /// <summary>Low nibbles of 32 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Lo(Vector256<byte> v) => v & Vector256.Create((byte)0x0F);

    /// <summary>High nibbles of 32 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Hi(Vector256<byte> v) => Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & Vector256.Create((byte)0x0F);

    /// <summary>Two 256-bit halves into one 512-bit vector on a fresh register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Join(Vector256<byte> lo, Vector256<byte> hi) => Avx512F.InsertVector256(lo.ToVector512Unsafe(), hi, 1);

    /// <summary>
    /// Lane k = the exact sum of the 16 int32 lanes of h_k (the 4-row decode kernels' per-row integer sums), by one
    /// transpose: per 128-bit lane [r0, r1, r0, r1] and [r2, r3, r2, r3] (unpack epi32), then [r0, r1, r2, r3] (unpack
    /// epi64), then the four 128-bit lanes added; fewer shuffles than per-row 512 to 256 extracts and three vphaddd.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> SumRows4(Vector512<int> h0, Vector512<int> h1, Vector512<int> h2, Vector512<int> h3)
    {
        Vector512<int> r = Transpose4(h0, h1, h2, h3);
        Vector256<int> r2 = r.GetLower() + r.GetUpper();
        return r2.GetLower() + r2.GetUpper();
    }

    /// <summary>
    /// Lane k = the exact sum of the 16 int32 lanes of h_k for 8 vectors (<see cref="SumRows4"/> for 8 rows): the same
    /// transpose for h0..h3 and h4..h7, then their 128-bit lanes added pairwise across the two halves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> SumRows8(Vector512<int> h0, Vector512<int> h1, Vector512<int> h2, Vector512<int> h3,
        Vector512<int> h4, Vector512<int> h5, Vector512<int> h6, Vector512<int> h7)
    {
        Vector512<int> a = Transpose4(h0, h1, h2, h3), b = Transpose4(h4, h5, h6, h7);   // per 128-bit lane [r0, r1, r2, r3]
        Vector512<int> x = Avx512F.Shuffle4x128(a, b, 0x44) + Avx512F.Shuffle4x128(a, b, 0xEE);   // [a0+a2, a1+a3, b0+b2, b1+b3]
        x += Avx512F.Shuffle4x128(x, x, 0xB1);                                                    // [a, a, b, b]
        return Avx512F.Shuffle4x128(x, x, 0x08).GetLower();                                        // [a, b]
    }

    /// <summary>Per 128-bit lane [Σ4 h0, Σ4 h1, Σ4 h2, Σ4 h3]: each vector's four int32 of that lane summed (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Transpose4(Vector512<int> h0, Vector512<int> h1, Vector512<int> h2, Vector512<int> h3)
    {
        Vector512<int> u01 = Avx512F.UnpackLow(h0, h1) + Avx512F.UnpackHigh(h0, h1);
        Vector512<int> u23 = Avx512F.UnpackLow(h2, h3) + Avx512F.UnpackHigh(h2, h3);
        return Avx512F.UnpackLow(u01.AsInt64(), u23.AsInt64()).AsInt32() + Avx512F.UnpackHigh(u01.AsInt64(), u23.AsInt64()).AsInt32();
    }

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
