using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Gguf;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Decoding of one legacy GGUF weight block (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) into the 32 small integers
/// that multiply the block scale, shared by the dot kernels and the vectorized dequantizers.
/// Implementations are empty structs so that generic code over them is specialized by the JIT (no calls).
/// Symmetric formats (<see cref="HasMin"/> false) yield signed codes (q - 8, q - 16, q) and value = code * d;
/// offset formats yield unsigned codes q in [0, 31] and value = q * d + m.
/// </summary>
internal unsafe interface ILegacyWeightBlock
{
    /// <summary>Bytes per 32-element block.</summary>
    static abstract int Bytes { get; }

    /// <summary>True for Q4_1/Q5_1 (value = q*d + m, paired with Q8_1 activations).</summary>
    static abstract bool HasMin { get; }

    /// <summary>Block scale d as fp32.</summary>
    static abstract float Scale(byte* block);

    /// <summary>Block offset m as fp32 (0 for symmetric formats).</summary>
    static abstract float Min(byte* block);

    /// <summary>Codes of elements 0..15 (<paramref name="lo"/>) and 16..31 (<paramref name="hi"/>).</summary>
    static abstract void Codes128(byte* block, out Vector128<sbyte> lo, out Vector128<sbyte> hi);

    /// <summary>Codes of elements 0..31 in element order, built in registers (AVX2 only: callers check Avx2.IsSupported).</summary>
    static abstract Vector256<sbyte> Codes256(byte* block);

    /// <summary>Value subtracted from the unsigned codes of <see cref="Quad512"/> to give the codes above
    /// (8 for Q4_0, 16 for Q5_0, 0 otherwise); the dot kernels remove it once per block through the activation's code sum.</summary>
    static abstract int CodeOffset { get; }

    /// <summary>True for the 8-bit formats (Q8_0, Q8_1): signed codes, no <see cref="Quad512"/> (their wide dot keeps the sign trick).</summary>
    static abstract bool SignedQuad { get; }

    /// <summary>
    /// Unsigned codes (code + <see cref="CodeOffset"/>, 0..31) of the 4 consecutive blocks at <paramref name="block"/>, built in
    /// registers in nibble order (see <see cref="LegacyBits.NibbleQuad512"/>), AVX-512 BW only. The 8-bit formats return zeros.
    /// </summary>
    static abstract void Quad512(byte* block, out Vector512<byte> lo, out Vector512<byte> hi);

    /// <summary>Scalar decode of element <paramref name="j"/> (0..31): the code as defined above.</summary>
    static abstract int Code(byte* block, int j);

    /// <summary>
    /// One block's contribution folded into a running sum, in the exact operation order (including the
    /// fused multiply-adds) of ggml's compiled scalar vec_dot (ggml_vec_dot_*_generic) on x86-64 AVX2/AVX-512.
    /// </summary>
    static abstract float Accumulate(float sum, int sumi, float dx, float dy, float mx, float sy);
}

/// <summary>Bit helpers for the 5-bit formats.</summary>
internal static unsafe class LegacyBits
{
    private static readonly ulong[] s_spread = BuildSpread();

    private static ulong[] BuildSpread()
    {
        var t = new ulong[256];
        for (int b = 0; b < 256; b++)
        {
            ulong v = 0;
            for (int i = 0; i < 8; i++)
                if (((b >> i) & 1) != 0) v |= 0x10UL << (8 * i);
            t[b] = v;
        }
        return t;
    }

    /// <summary>Bits 0..7 of <paramref name="bits"/> to 8 bytes, byte i = 0x10 when bit i is set, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Spread8(uint bits) =>
        Bmi2.X64.IsSupported ? Bmi2.X64.ParallelBitDeposit(bits, 0x1010_1010_1010_1010UL) : s_spread[bits & 0xFF];

    /// <summary>16 bytes, byte i = 0x10 when bit i of the low 16 bits of <paramref name="bits"/> is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Spread16(uint bits) =>
        Vector128.Create(Spread8(bits), Spread8(bits >> 8)).AsByte();

    /// <summary>Low nibbles and high nibbles of 16 packed bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Nibbles(byte* qs, out Vector128<byte> lo, out Vector128<byte> hi)
    {
        Vector128<byte> v = Vector128.Load(qs);
        Vector128<byte> mask = Vector128.Create((byte)0x0F);
        lo = v & mask;
        hi = Vector128.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask;
    }

    /// <summary>32 nibbles of 16 packed bytes in element order: low nibbles (elements 0..15) then high nibbles (16..31).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Nibbles256(byte* qs)
    {
        Vector128<byte> v = Vector128.Load(qs);
        Vector256<byte> both = Vector256.Create(v, Vector128.ShiftRightLogical(v.AsUInt16(), 4).AsByte());
        return both & Vector256.Create((byte)0x0F);
    }

    /// <summary>32 bytes, byte i = 0x10 when bit i of <paramref name="bits"/> is set, else 0 (AVX2 byte shuffle, no table).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Spread32(uint bits)
    {
        // byte i takes source byte i / 8 of the broadcast word (vpshufb stays inside each 128-bit lane, and every
        // lane holds the whole word), then tests its bit i % 8
        Vector256<byte> bc = Vector256.Create(bits).AsByte();
        Vector256<byte> idx = Vector256.Create(
            (byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        Vector256<byte> bit = Vector256.Create(0x8040201008040201UL).AsByte();
        Vector256<byte> set = Vector256.Equals(Avx2.Shuffle(bc, idx) & bit, bit);
        return set & Vector256.Create((byte)0x10);
    }

    /// <summary>
    /// Nibbles of 4 blocks whose 16 packed bytes sit at <paramref name="qs"/> + k * <paramref name="stride"/>, k = 0..3,
    /// in nibble order: 128-bit lane k of <paramref name="lo"/> = elements 0..15 of block k (low nibbles), of
    /// <paramref name="hi"/> = elements 16..31 (high nibbles). AVX-512 F/BW.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void NibbleQuad512(byte* qs, int stride, out Vector512<byte> lo, out Vector512<byte> hi)
    {
        Vector256<byte> v01 = Vector256.Create(Vector128.Load(qs), Vector128.Load(qs + stride));
        Vector256<byte> v23 = Vector256.Create(Vector128.Load(qs + 2 * stride), Vector128.Load(qs + 3 * stride));
        Vector512<byte> v = Avx512F.InsertVector256(v01.ToVector512Unsafe(), v23, 1);
        Vector512<byte> m = Vector512.Create((byte)0x0F);
        lo = v & m;
        hi = Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & m;
    }

    /// <summary>
    /// High bits of 4 blocks (32-bit words at <paramref name="qh"/> + k * <paramref name="stride"/>) as 0x10 bytes in nibble
    /// order: byte 16k + i of <paramref name="lo"/> = 0x10 when bit i of block k's word is set, of <paramref name="hi"/> when
    /// bit 16 + i is. The 4 words are broadcast to every 128-bit lane, so one vpshufb per output picks the byte holding
    /// each bit (AVX-512 BW).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void HighBitsQuad512(byte* qh, int stride, out Vector512<byte> lo, out Vector512<byte> hi)
    {
        ulong p01 = ReadU32(qh) | ((ulong)ReadU32(qh + stride) << 32);
        ulong p23 = ReadU32(qh + 2 * stride) | ((ulong)ReadU32(qh + 3 * stride) << 32);
        Vector512<ulong> w4 = Vector128.Create(p01, p23).ToVector256Unsafe().ToVector512Unsafe();
        Vector512<byte> words = Avx512F.Shuffle4x128(w4, w4, 0).AsByte();   // lane 0 to all four lanes
        // lane k, byte i: source byte 4k + i / 8 (low half) or 4k + 2 + i / 8 (high half)
        Vector512<byte> idxLo = Vector512.Create(
            (byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
            4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5,
            8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9,
            12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13);
        Vector512<byte> bit = Vector512.Create(0x8040201008040201UL).AsByte();
        Vector512<byte> ten = Vector512.Create((byte)0x10);
        lo = Vector512.Equals(Avx512BW.Shuffle(words, idxLo) & bit, bit) & ten;
        hi = Vector512.Equals(Avx512BW.Shuffle(words, idxLo + Vector512.Create((byte)2)) & bit, bit) & ten;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint ReadU32(byte* p) => Unsafe.ReadUnaligned<uint>(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Half(byte* p) => Fp16Table.Load(p);
}

/// <summary>Q4_0: d(fp16) qs[16]; code = nibble - 8.</summary>
internal readonly unsafe struct Q4_0Block : ILegacyWeightBlock
{
    public static int Bytes => BlockQ4_0.Bytes;
    public static bool HasMin => false;
    public static float Scale(byte* b) => LegacyBits.Half(b);
    public static float Min(byte* b) => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Codes128(byte* b, out Vector128<sbyte> lo, out Vector128<sbyte> hi)
    {
        LegacyBits.Nibbles(b + 2, out Vector128<byte> l, out Vector128<byte> h);
        Vector128<sbyte> off = Vector128.Create((sbyte)8);
        lo = l.AsSByte() - off;
        hi = h.AsSByte() - off;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Codes256(byte* b) => LegacyBits.Nibbles256(b + 2).AsSByte() - Vector256.Create((sbyte)8);

    public static int CodeOffset => 8;
    public static bool SignedQuad => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Quad512(byte* b, out Vector512<byte> lo, out Vector512<byte> hi) =>
        LegacyBits.NibbleQuad512(b + 2, Bytes, out lo, out hi);

    public static int Code(byte* b, int j) => (j < 16 ? b[2 + j] & 0x0F : b[2 + j - 16] >> 4) - 8;

    // ggml: sumf += sumi*d_x*d_y  ->  fma(sumi*d_x, d_y, sumf)
    public static float Accumulate(float sum, int sumi, float dx, float dy, float mx, float sy) =>
        MathF.FusedMultiplyAdd(sumi * dx, dy, sum);
}

/// <summary>Q4_1: d(fp16) m(fp16) qs[16]; code = nibble.</summary>
internal readonly unsafe struct Q4_1Block : ILegacyWeightBlock
{
    public static int Bytes => BlockQ4_1.Bytes;
    public static bool HasMin => true;
    public static float Scale(byte* b) => LegacyBits.Half(b);
    public static float Min(byte* b) => LegacyBits.Half(b + 2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Codes128(byte* b, out Vector128<sbyte> lo, out Vector128<sbyte> hi)
    {
        LegacyBits.Nibbles(b + 4, out Vector128<byte> l, out Vector128<byte> h);
        lo = l.AsSByte();
        hi = h.AsSByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Codes256(byte* b) => LegacyBits.Nibbles256(b + 4).AsSByte();

    public static int CodeOffset => 0;
    public static bool SignedQuad => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Quad512(byte* b, out Vector512<byte> lo, out Vector512<byte> hi) =>
        LegacyBits.NibbleQuad512(b + 4, Bytes, out lo, out hi);

    public static int Code(byte* b, int j) => j < 16 ? b[4 + j] & 0x0F : b[4 + j - 16] >> 4;

    // ggml: sumf += (d_x*d_y)*sumi + m_x*s_y  ->  sumf + fma(d_x*d_y, sumi, m_x*s_y)
    public static float Accumulate(float sum, int sumi, float dx, float dy, float mx, float sy) =>
        sum + MathF.FusedMultiplyAdd(dx * dy, sumi, mx * sy);
}

/// <summary>Q5_0: d(fp16) qh(u32) qs[16]; code = (nibble | bit4) - 16.</summary>
internal readonly unsafe struct Q5_0Block : ILegacyWeightBlock
{
    public static int Bytes => BlockQ5_0.Bytes;
    public static bool HasMin => false;
    public static float Scale(byte* b) => LegacyBits.Half(b);
    public static float Min(byte* b) => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Codes128(byte* b, out Vector128<sbyte> lo, out Vector128<sbyte> hi)
    {
        uint qh = LegacyBits.ReadU32(b + 2);
        LegacyBits.Nibbles(b + 6, out Vector128<byte> l, out Vector128<byte> h);
        Vector128<sbyte> off = Vector128.Create((sbyte)16);
        lo = (l | LegacyBits.Spread16(qh)).AsSByte() - off;
        hi = (h | LegacyBits.Spread16(qh >> 16)).AsSByte() - off;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Codes256(byte* b) =>
        (LegacyBits.Nibbles256(b + 6) | LegacyBits.Spread32(LegacyBits.ReadU32(b + 2))).AsSByte() - Vector256.Create((sbyte)16);

    public static int CodeOffset => 16;
    public static bool SignedQuad => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Quad512(byte* b, out Vector512<byte> lo, out Vector512<byte> hi)
    {
        LegacyBits.NibbleQuad512(b + 6, Bytes, out Vector512<byte> nl, out Vector512<byte> nh);
        LegacyBits.HighBitsQuad512(b + 2, Bytes, out Vector512<byte> ml, out Vector512<byte> mh);
        lo = nl | ml;
        hi = nh | mh;
    }

    public static int Code(byte* b, int j)
    {
        uint qh = LegacyBits.ReadU32(b + 2);
        int nib = j < 16 ? b[6 + j] & 0x0F : b[6 + j - 16] >> 4;
        return (nib | (int)(((qh >> j) & 1) << 4)) - 16;
    }

    // ggml: sumf += (d_x*d_y)*sumi  ->  fma(d_x*d_y, sumi, sumf)
    public static float Accumulate(float sum, int sumi, float dx, float dy, float mx, float sy) =>
        MathF.FusedMultiplyAdd(dx * dy, sumi, sum);
}

/// <summary>Q5_1: d(fp16) m(fp16) qh(u32) qs[16]; code = nibble | bit4.</summary>
internal readonly unsafe struct Q5_1Block : ILegacyWeightBlock
{
    public static int Bytes => BlockQ5_1.Bytes;
    public static bool HasMin => true;
    public static float Scale(byte* b) => LegacyBits.Half(b);
    public static float Min(byte* b) => LegacyBits.Half(b + 2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Codes128(byte* b, out Vector128<sbyte> lo, out Vector128<sbyte> hi)
    {
        uint qh = LegacyBits.ReadU32(b + 4);
        LegacyBits.Nibbles(b + 8, out Vector128<byte> l, out Vector128<byte> h);
        lo = (l | LegacyBits.Spread16(qh)).AsSByte();
        hi = (h | LegacyBits.Spread16(qh >> 16)).AsSByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Codes256(byte* b) =>
        (LegacyBits.Nibbles256(b + 8) | LegacyBits.Spread32(LegacyBits.ReadU32(b + 4))).AsSByte();

    public static int CodeOffset => 0;
    public static bool SignedQuad => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Quad512(byte* b, out Vector512<byte> lo, out Vector512<byte> hi)
    {
        LegacyBits.NibbleQuad512(b + 8, Bytes, out Vector512<byte> nl, out Vector512<byte> nh);
        LegacyBits.HighBitsQuad512(b + 4, Bytes, out Vector512<byte> ml, out Vector512<byte> mh);
        lo = nl | ml;
        hi = nh | mh;
    }

    public static int Code(byte* b, int j)
    {
        uint qh = LegacyBits.ReadU32(b + 4);
        int nib = j < 16 ? b[8 + j] & 0x0F : b[8 + j - 16] >> 4;
        return nib | (int)(((qh >> j) & 1) << 4);
    }

    // ggml: sumf += (d_x*d_y)*sumi + m_x*s_y  ->  sumf + fma(d_x*d_y, sumi, m_x*s_y)
    public static float Accumulate(float sum, int sumi, float dx, float dy, float mx, float sy) =>
        sum + MathF.FusedMultiplyAdd(dx * dy, sumi, mx * sy);
}

/// <summary>Q8_0: d(fp16) qs[32] (int8); code = qs[j].</summary>
internal readonly unsafe struct Q8_0Block : ILegacyWeightBlock
{
    public static int Bytes => BlockQ8_0.Bytes;
    public static bool HasMin => false;
    public static float Scale(byte* b) => LegacyBits.Half(b);
    public static float Min(byte* b) => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Codes128(byte* b, out Vector128<sbyte> lo, out Vector128<sbyte> hi)
    {
        lo = Vector128.Load((sbyte*)(b + 2));
        hi = Vector128.Load((sbyte*)(b + 18));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Codes256(byte* b) => Vector256.Load((sbyte*)(b + 2));

    public static int CodeOffset => 0;
    public static bool SignedQuad => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Quad512(byte* b, out Vector512<byte> lo, out Vector512<byte> hi)
    {
        lo = Vector512<byte>.Zero;
        hi = Vector512<byte>.Zero;
    }

    public static int Code(byte* b, int j) => ((sbyte*)(b + 2))[j];

    // ggml: sumf += sumi*(d_x*d_y)  ->  fma(sumi, d_x*d_y, sumf)
    public static float Accumulate(float sum, int sumi, float dx, float dy, float mx, float sy) =>
        MathF.FusedMultiplyAdd(sumi, dx * dy, sum);
}

/// <summary>
/// Q8_1 read as a weight-like block for dequantization only: d(fp16) s(fp16) qs[32]; code = qs[j], value = code * d
/// (s is not needed to reconstruct values). Never used as a dot-product weight.
/// </summary>
internal readonly unsafe struct Q8_1Block : ILegacyWeightBlock
{
    public static int Bytes => BlockQ8_1.Bytes;
    public static bool HasMin => false;
    public static float Scale(byte* b) => LegacyBits.Half(b);
    public static float Min(byte* b) => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Codes128(byte* b, out Vector128<sbyte> lo, out Vector128<sbyte> hi)
    {
        lo = Vector128.Load((sbyte*)(b + 4));
        hi = Vector128.Load((sbyte*)(b + 20));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Codes256(byte* b) => Vector256.Load((sbyte*)(b + 4));

    public static int CodeOffset => 0;
    public static bool SignedQuad => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Quad512(byte* b, out Vector512<byte> lo, out Vector512<byte> hi)
    {
        lo = Vector512<byte>.Zero;
        hi = Vector512<byte>.Zero;
    }

    public static int Code(byte* b, int j) => ((sbyte*)(b + 4))[j];

    public static float Accumulate(float sum, int sumi, float dx, float dy, float mx, float sy) =>
        MathF.FusedMultiplyAdd(sumi, dx * dy, sum);
}
