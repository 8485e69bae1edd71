using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>
/// A K-quant weight super-block (256 elements) as <see cref="KQuantGemm"/> reads it: 4 chunks of 64 unsigned quants
/// (chunk k pairs with activation codes 64k..64k+63), 16-bit sub-block scales spread over a chunk's pair sums, and the
/// float steps that turn a super-block's exact integer sum into the output, exactly as the format's Dot does them.
/// Implemented by empty structs so the JIT specializes the tiles per format.
/// </summary>
internal unsafe interface IKQuantWeight
{
    /// <summary>Bytes per super-block.</summary>
    static abstract int Bytes { get; }

    /// <summary>Per-super-block data the other members need (scales, mins), read once per row and block.</summary>
    static abstract Vector128<byte> Meta(byte* block);

    /// <summary>The block's sub-block scales as int16 lanes (<see cref="ChunkScales"/> permutes them).</summary>
    static abstract Vector512<short> Scales(Vector128<byte> meta);

    /// <summary>The block's sub-block scales as 16 int16 lanes (Q4_K: 8 scales, then zeros) for the 256-bit tiles.</summary>
    static abstract Vector256<short> Scales256(Vector128<byte> meta);

    /// <summary>Chunk <paramref name="k"/>'s 64 unsigned quants.</summary>
    static abstract Vector512<byte> Chunk(byte* block, int k);

    /// <summary>Chunk <paramref name="k"/>'s scale for each of its 32 int16 pair sums.</summary>
    static abstract Vector512<short> ChunkScales(Vector512<short> scales, int k);

    /// <summary>Half <paramref name="half"/> (32 quants, activation codes 64k + 32·half ..) of chunk <paramref name="k"/> (256-bit tiles).</summary>
    static abstract Vector256<byte> Chunk256(byte* block, int k, int half);

    /// <summary>The scale of each of the 16 int16 pair sums of <see cref="Chunk256"/>'s half, from the block's
    /// scales stored as int16 at <paramref name="sc"/> (<see cref="Scales"/>'s low lanes).</summary>
    static abstract Vector256<short> HalfScales256(short* sc, int k, int half);

    /// <summary>acc after this block: the format Dot's float steps, given Σ over chunks of scale · (quant · code) pair sums.</summary>
    static abstract float Finish(float acc, byte* block, Vector128<byte> meta, BlockQ8_K* act, int scaledSum);
}

/// <summary>Q4_K (ggml_vec_dot_q4_K_q8_K): 6-bit scales and mins, acc += d·isum; acc −= dmin·summ.</summary>
internal readonly unsafe struct KGemmQ4_K : IKQuantWeight
{
    public static int Bytes => BlockQ4_K.Size;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Meta(byte* block) => KQuantSimd.ScaleMinK4(((BlockQ4_K*)block)->Scales);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<short> Scales(Vector128<byte> meta) => Vector128.WidenLower(meta).AsInt16().ToVector256Unsafe().ToVector512Unsafe();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> Scales256(Vector128<byte> meta) => Vector256.Create(Vector128.WidenLower(meta).AsInt16(), Vector128<short>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Chunk(byte* block, int k)
    {
        Vector256<byte> v = Vector256.Load(((BlockQ4_K*)block)->Qs + 32 * k);
        return KQuantSimd.Join(KQuantSimd.Lo(v), KQuantSimd.Hi(v));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Chunk256(byte* block, int k, int half)
    {
        Vector256<byte> v = Vector256.Load(((BlockQ4_K*)block)->Qs + 32 * k);
        return half == 0 ? KQuantSimd.Lo(v) : KQuantSimd.Hi(v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> HalfScales256(short* sc, int k, int half) => Vector256.Create(sc[2 * k + half]);

    // chunk k covers sub-blocks 2k (pair sums 0..15) and 2k+1 (16..31)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<short> ChunkScales(Vector512<short> scales, int k) => Avx512BW.PermuteVar32x16(scales, Vector512.Create(
        (short)0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1) + Vector512.Create((short)(2 * k)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Finish(float acc, byte* block, Vector128<byte> meta, BlockQ8_K* act, int scaledSum)
    {
        var x = (BlockQ4_K*)block;
        int summ = KQuantSimd.MinSum(meta, act->BSums);
        float d = act->D * KQuantMath.Fp16ToFp32(x->D);
        float dmin = act->D * KQuantMath.Fp16ToFp32(x->DMin);
        acc += d * scaledSum;
        acc -= dmin * summ;
        return acc;
    }
}

/// <summary>Q6_K (ggml_vec_dot_q6_K_q8_K): signed 8-bit scales per 16 quants, quants offset by 32 (removed with the
/// bsums), acc += d·isum.</summary>
internal readonly unsafe struct KGemmQ6_K : IKQuantWeight
{
    public static int Bytes => BlockQ6_K.Size;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Meta(byte* block) => Vector128.Load((byte*)((BlockQ6_K*)block)->Scales);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<short> Scales(Vector128<byte> meta) => Avx2.ConvertToVector256Int16(meta.AsSByte()).ToVector512Unsafe();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> Scales256(Vector128<byte> meta) => Avx2.ConvertToVector256Int16(meta.AsSByte());

    // chunk 2h: quants 128h + 0..63 (q1, q2 of half h), chunk 2h + 1: 128h + 64..127 (q3, q4)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Chunk(byte* block, int k)
    {
        var x = (BlockQ6_K*)block;
        int h = k >> 1;
        Vector256<byte> m4 = Vector256.Create((byte)0x0F), m3 = Vector256.Create((byte)3);
        Vector256<byte> a = Vector256.Load(x->Ql + 64 * h), b = Vector256.Load(x->Ql + 64 * h + 32), hb = Vector256.Load(x->Qh + 32 * h);
        if ((k & 1) == 0)
            return KQuantSimd.Join((a & m4) | Vector256.ShiftLeft(hb & m3, 4),
                                   (b & m4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 2) & m3, 4));
        return KQuantSimd.Join(Vector256.ShiftRightLogical(a, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 4) & m3, 4),
                               Vector256.ShiftRightLogical(b, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 6), 4));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Chunk256(byte* block, int k, int half)
    {
        var x = (BlockQ6_K*)block;
        int h = k >> 1;
        Vector256<byte> m4 = Vector256.Create((byte)0x0F), m3 = Vector256.Create((byte)3);
        Vector256<byte> hb = Vector256.Load(x->Qh + 32 * h);
        if ((k & 1) == 0)
            return half == 0
                ? (Vector256.Load(x->Ql + 64 * h) & m4) | Vector256.ShiftLeft(hb & m3, 4)
                : (Vector256.Load(x->Ql + 64 * h + 32) & m4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 2) & m3, 4);
        return half == 0
            ? Vector256.ShiftRightLogical(Vector256.Load(x->Ql + 64 * h), 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 4) & m3, 4)
            : Vector256.ShiftRightLogical(Vector256.Load(x->Ql + 64 * h + 32), 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 6), 4);
    }

    // half h of chunk k covers 16-groups 4k + 2h and 4k + 2h + 1, 8 pair sums each
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> HalfScales256(short* sc, int k, int half) =>
        Vector256.Create(Vector128.Create(sc[4 * k + 2 * half]), Vector128.Create(sc[4 * k + 2 * half + 1]));

    // chunk k covers 16-groups 4k..4k+3, 8 pair sums each
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<short> ChunkScales(Vector512<short> scales, int k) => Avx512BW.PermuteVar32x16(scales, Vector512.Create(
        (short)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3) + Vector512.Create((short)(4 * k)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Finish(float acc, byte* block, Vector128<byte> meta, BlockQ8_K* act, int scaledSum)
    {
        var x = (BlockQ6_K*)block;
        int isum = scaledSum - 32 * KQuantSimd.GroupSum(Avx2.ConvertToVector256Int16(meta.AsSByte()), act->BSums);
        float d = KQuantMath.Fp16ToFp32(x->D) * act->D;
        acc += d * isum;
        return acc;
    }
}
