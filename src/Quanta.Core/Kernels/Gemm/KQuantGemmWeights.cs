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

    /// <summary>The block's scale d as fp32 (the value the Dot multiplies by).</summary>
    static abstract float D(byte* block);

    /// <summary>The block's min scale dmin as fp32 (Q4_K; 0 for formats without one).</summary>
    static abstract float DMin(byte* block);

    /// <summary>The 64 bytes <see cref="Finish16Unpacked"/> reads from an unpacked row per block (Q4_K: the mins as
    /// int16 in each 128-bit quarter; Q6_K: the 16 scales as int16 in both 256-bit halves).</summary>
    static abstract Vector512<short> Correction(Vector128<byte> meta);

    /// <summary><see cref="Finish16"/> on unpacked rows, the same float operations per lane, so the same bits:
    /// c0..c3 = each row's <see cref="Correction"/>, d / dmin = lane r·4 + t holds row r's <see cref="D"/> / <see cref="DMin"/>.</summary>
    static abstract Vector512<float> Finish16Unpacked(Vector512<float> acc, Vector512<int> scaledSums, Vector512<short> c0, Vector512<short> c1,
        Vector512<short> c2, Vector512<short> c3, Vector512<float> d, Vector512<float> dmin, BlockQ8_K* y0, BlockQ8_K* y1, BlockQ8_K* y2, BlockQ8_K* y3);

    /// <summary><see cref="Finish"/> for one row x 16 tokens at once, lane t = token t: the row's block x with its meta,
    /// token t's activation block at (byte*)y0 + t·actStride, ad = the tokens' activation scales; the same float
    /// operations per lane, so the same bits.</summary>
    static abstract Vector512<float> FinishRow16(Vector512<float> acc, Vector512<int> scaledSums, byte* x, Vector128<byte> meta,
        BlockQ8_K* y0, int actStride, Vector512<float> ad);

    /// <summary><see cref="Finish"/> for a 4 rows x 4 tokens tile at once, lane r·4 + t: rows' blocks x0..x3 with
    /// their metas, tokens' activation blocks y0..y3; the same float operations per lane, so the same bits.</summary>
    static abstract Vector512<float> Finish16(Vector512<float> acc, Vector512<int> scaledSums, byte* x0, byte* x1, byte* x2, byte* x3,
        Vector128<byte> m0, Vector128<byte> m1, Vector128<byte> m2, Vector128<byte> m3, BlockQ8_K* y0, BlockQ8_K* y1, BlockQ8_K* y2, BlockQ8_K* y3);
}

/// <summary>Lane helpers shared by the formats' <see cref="IKQuantWeight.Finish16"/>.</summary>
internal static unsafe class KQuantLanes
{
    /// <summary>Lane r·4 + t = row r's value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> PerRow(float a, float b, float c, float d) =>
        Vector512.Create(Vector256.Create(Vector128.Create(a), Vector128.Create(b)), Vector256.Create(Vector128.Create(c), Vector128.Create(d)));

    /// <summary>Lane r·4 + t = token t's activation scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> PerToken(BlockQ8_K* y0, BlockQ8_K* y1, BlockQ8_K* y2, BlockQ8_K* y3) =>
        Vector512.Create(Vector256.Create(Vector128.Create(y0->D, y1->D, y2->D, y3->D)));
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Finish16(Vector512<float> acc, Vector512<int> scaledSums, byte* x0, byte* x1, byte* x2, byte* x3,
        Vector128<byte> m0, Vector128<byte> m1, Vector128<byte> m2, Vector128<byte> m3, BlockQ8_K* y0, BlockQ8_K* y1, BlockQ8_K* y2, BlockQ8_K* y3)
    {
        // summ (r, t) = Σ_j mins_r[j]·(bsums_t[2j] + bsums_t[2j+1]), exact: pair sums of the 4 tokens side by side
        Vector512<short> pairs = Vector512.Create(
            Vector256.Create(Ssse3.HorizontalAdd(Vector128.Load(y0->BSums), Vector128.Load(y0->BSums + 8)),
                             Ssse3.HorizontalAdd(Vector128.Load(y1->BSums), Vector128.Load(y1->BSums + 8))),
            Vector256.Create(Ssse3.HorizontalAdd(Vector128.Load(y2->BSums), Vector128.Load(y2->BSums + 8)),
                             Ssse3.HorizontalAdd(Vector128.Load(y3->BSums), Vector128.Load(y3->BSums + 8))));
        Vector512<int> p0 = Avx512BW.MultiplyAddAdjacent(Mins(m0), pairs), p1 = Avx512BW.MultiplyAddAdjacent(Mins(m1), pairs);
        Vector512<int> p2 = Avx512BW.MultiplyAddAdjacent(Mins(m2), pairs), p3 = Avx512BW.MultiplyAddAdjacent(Mins(m3), pairs);
        // p_r: token t's 4 partial sums in lanes 4t..4t+3 -> lane r·4 + t
        Vector512<int> summ = KQuantGemm.Pair(KQuantGemm.Pair(p0, p1), KQuantGemm.Pair(p2, p3));
        Vector512<float> ad = KQuantLanes.PerToken(y0, y1, y2, y3);
        Vector512<float> d = ad * KQuantLanes.PerRow(KQuantMath.Fp16ToFp32(((BlockQ4_K*)x0)->D), KQuantMath.Fp16ToFp32(((BlockQ4_K*)x1)->D),
            KQuantMath.Fp16ToFp32(((BlockQ4_K*)x2)->D), KQuantMath.Fp16ToFp32(((BlockQ4_K*)x3)->D));
        Vector512<float> dmin = ad * KQuantLanes.PerRow(KQuantMath.Fp16ToFp32(((BlockQ4_K*)x0)->DMin), KQuantMath.Fp16ToFp32(((BlockQ4_K*)x1)->DMin),
            KQuantMath.Fp16ToFp32(((BlockQ4_K*)x2)->DMin), KQuantMath.Fp16ToFp32(((BlockQ4_K*)x3)->DMin));
        acc += d * Vector512.ConvertToSingle(scaledSums);
        acc -= dmin * Vector512.ConvertToSingle(summ);
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FinishRow16(Vector512<float> acc, Vector512<int> scaledSums, byte* x, Vector128<byte> meta,
        BlockQ8_K* y0, int actStride, Vector512<float> ad)
    {
        // summ t = Σ_j mins[j]·(bsums_t[2j] + bsums_t[2j+1]), exact: tokens 4g..4g+3 side by side, lane t after the pairs
        Vector512<short> mins = Mins(meta);
        Vector512<int> p0 = Avx512BW.MultiplyAddAdjacent(mins, PairSums4(y0, actStride, 0)), p1 = Avx512BW.MultiplyAddAdjacent(mins, PairSums4(y0, actStride, 4));
        Vector512<int> p2 = Avx512BW.MultiplyAddAdjacent(mins, PairSums4(y0, actStride, 8)), p3 = Avx512BW.MultiplyAddAdjacent(mins, PairSums4(y0, actStride, 12));
        Vector512<int> summ = KQuantGemm.Pair(KQuantGemm.Pair(p0, p1), KQuantGemm.Pair(p2, p3));
        Vector512<float> d = ad * Vector512.Create(KQuantMath.Fp16ToFp32(((BlockQ4_K*)x)->D));
        Vector512<float> dmin = ad * Vector512.Create(KQuantMath.Fp16ToFp32(((BlockQ4_K*)x)->DMin));
        acc += d * Vector512.ConvertToSingle(scaledSums);
        acc -= dmin * Vector512.ConvertToSingle(summ);
        return acc;
    }

    /// <summary>Tokens t0..t0+3's 8 bsum pair sums, one token per 128-bit quarter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> PairSums4(BlockQ8_K* y0, int actStride, int t0)
    {
        short* b = ((BlockQ8_K*)((byte*)y0 + (long)t0 * actStride))->BSums;
        long s = actStride / sizeof(short);
        return Vector512.Create(
            Vector256.Create(Ssse3.HorizontalAdd(Vector128.Load(b), Vector128.Load(b + 8)), Ssse3.HorizontalAdd(Vector128.Load(b + s), Vector128.Load(b + s + 8))),
            Vector256.Create(Ssse3.HorizontalAdd(Vector128.Load(b + 2 * s), Vector128.Load(b + 2 * s + 8)), Ssse3.HorizontalAdd(Vector128.Load(b + 3 * s), Vector128.Load(b + 3 * s + 8))));
    }

    public static float D(byte* block) => KQuantMath.Fp16ToFp32(((BlockQ4_K*)block)->D);

    public static float DMin(byte* block) => KQuantMath.Fp16ToFp32(((BlockQ4_K*)block)->DMin);

    public static Vector512<short> Correction(Vector128<byte> meta) => Mins(meta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Finish16Unpacked(Vector512<float> acc, Vector512<int> scaledSums, Vector512<short> c0, Vector512<short> c1,
        Vector512<short> c2, Vector512<short> c3, Vector512<float> d, Vector512<float> dmin, BlockQ8_K* y0, BlockQ8_K* y1, BlockQ8_K* y2, BlockQ8_K* y3)
    {
        Vector512<short> pairs = Vector512.Create(
            Vector256.Create(Ssse3.HorizontalAdd(Vector128.Load(y0->BSums), Vector128.Load(y0->BSums + 8)),
                             Ssse3.HorizontalAdd(Vector128.Load(y1->BSums), Vector128.Load(y1->BSums + 8))),
            Vector256.Create(Ssse3.HorizontalAdd(Vector128.Load(y2->BSums), Vector128.Load(y2->BSums + 8)),
                             Ssse3.HorizontalAdd(Vector128.Load(y3->BSums), Vector128.Load(y3->BSums + 8))));
        Vector512<int> p0 = Avx512BW.MultiplyAddAdjacent(c0, pairs), p1 = Avx512BW.MultiplyAddAdjacent(c1, pairs);
        Vector512<int> p2 = Avx512BW.MultiplyAddAdjacent(c2, pairs), p3 = Avx512BW.MultiplyAddAdjacent(c3, pairs);
        Vector512<int> summ = KQuantGemm.Pair(KQuantGemm.Pair(p0, p1), KQuantGemm.Pair(p2, p3));
        Vector512<float> ad = KQuantLanes.PerToken(y0, y1, y2, y3);
        acc += (ad * d) * Vector512.ConvertToSingle(scaledSums);
        acc -= (ad * dmin) * Vector512.ConvertToSingle(summ);
        return acc;
    }

    /// <summary>The 8 mins (bytes 8..15 of the meta) as int16, repeated in each 128-bit quarter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Mins(Vector128<byte> meta)
    {
        Vector128<short> m = Vector128.WidenUpper(meta).AsInt16();
        return Vector512.Create(Vector256.Create(m, m), Vector256.Create(m, m));
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Finish16(Vector512<float> acc, Vector512<int> scaledSums, byte* x0, byte* x1, byte* x2, byte* x3,
        Vector128<byte> m0, Vector128<byte> m1, Vector128<byte> m2, Vector128<byte> m3, BlockQ8_K* y0, BlockQ8_K* y1, BlockQ8_K* y2, BlockQ8_K* y3)
    {
        // group (r, t) = Σ_g sc_r[g]·bsums_t[g], exact: tokens 0,1 and 2,3 side by side
        Vector512<short> b01 = Vector512.Create(Vector256.Load(y0->BSums), Vector256.Load(y1->BSums));
        Vector512<short> b23 = Vector512.Create(Vector256.Load(y2->BSums), Vector256.Load(y3->BSums));
        Vector512<short> s0 = Wide(m0), s1 = Wide(m1), s2 = Wide(m2), s3 = Wide(m3);
        // per row: lanes 8t'..8t'+7 hold token t' (of the pair) partials; Pair(q01, q23) -> token t's 4 partials at 4t
        Vector512<int> r0 = KQuantGemm.Pair(Avx512BW.MultiplyAddAdjacent(s0, b01), Avx512BW.MultiplyAddAdjacent(s0, b23));
        Vector512<int> r1 = KQuantGemm.Pair(Avx512BW.MultiplyAddAdjacent(s1, b01), Avx512BW.MultiplyAddAdjacent(s1, b23));
        Vector512<int> r2 = KQuantGemm.Pair(Avx512BW.MultiplyAddAdjacent(s2, b01), Avx512BW.MultiplyAddAdjacent(s2, b23));
        Vector512<int> r3 = KQuantGemm.Pair(Avx512BW.MultiplyAddAdjacent(s3, b01), Avx512BW.MultiplyAddAdjacent(s3, b23));
        Vector512<int> group = KQuantGemm.Pair(KQuantGemm.Pair(r0, r1), KQuantGemm.Pair(r2, r3));
        Vector512<int> isum = scaledSums - Vector512.Create(32) * group;
        Vector512<float> d = KQuantLanes.PerRow(KQuantMath.Fp16ToFp32(((BlockQ6_K*)x0)->D), KQuantMath.Fp16ToFp32(((BlockQ6_K*)x1)->D),
            KQuantMath.Fp16ToFp32(((BlockQ6_K*)x2)->D), KQuantMath.Fp16ToFp32(((BlockQ6_K*)x3)->D)) * KQuantLanes.PerToken(y0, y1, y2, y3);
        acc += d * Vector512.ConvertToSingle(isum);
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FinishRow16(Vector512<float> acc, Vector512<int> scaledSums, byte* x, Vector128<byte> meta,
        BlockQ8_K* y0, int actStride, Vector512<float> ad)
    {
        // group t = Σ_g sc[g]·bsums_t[g], exact: tokens 2j, 2j+1 side by side, lane t after three pair levels
        Vector512<short> s = Wide(meta);
        short* b = y0->BSums;
        long st = actStride / sizeof(short);
        Vector512<int> v0 = Avx512BW.MultiplyAddAdjacent(s, Vector512.Create(Vector256.Load(b), Vector256.Load(b + st)));
        Vector512<int> v1 = Avx512BW.MultiplyAddAdjacent(s, Vector512.Create(Vector256.Load(b + 2 * st), Vector256.Load(b + 3 * st)));
        Vector512<int> v2 = Avx512BW.MultiplyAddAdjacent(s, Vector512.Create(Vector256.Load(b + 4 * st), Vector256.Load(b + 5 * st)));
        Vector512<int> v3 = Avx512BW.MultiplyAddAdjacent(s, Vector512.Create(Vector256.Load(b + 6 * st), Vector256.Load(b + 7 * st)));
        Vector512<int> v4 = Avx512BW.MultiplyAddAdjacent(s, Vector512.Create(Vector256.Load(b + 8 * st), Vector256.Load(b + 9 * st)));
        Vector512<int> v5 = Avx512BW.MultiplyAddAdjacent(s, Vector512.Create(Vector256.Load(b + 10 * st), Vector256.Load(b + 11 * st)));
        Vector512<int> v6 = Avx512BW.MultiplyAddAdjacent(s, Vector512.Create(Vector256.Load(b + 12 * st), Vector256.Load(b + 13 * st)));
        Vector512<int> v7 = Avx512BW.MultiplyAddAdjacent(s, Vector512.Create(Vector256.Load(b + 14 * st), Vector256.Load(b + 15 * st)));
        Vector512<int> group = KQuantGemm.Pair(KQuantGemm.Pair(KQuantGemm.Pair(v0, v1), KQuantGemm.Pair(v2, v3)),
            KQuantGemm.Pair(KQuantGemm.Pair(v4, v5), KQuantGemm.Pair(v6, v7)));
        Vector512<int> isum = scaledSums - Vector512.Create(32) * group;
        Vector512<float> d = Vector512.Create(KQuantMath.Fp16ToFp32(((BlockQ6_K*)x)->D)) * ad;
        acc += d * Vector512.ConvertToSingle(isum);
        return acc;
    }

    public static float D(byte* block) => KQuantMath.Fp16ToFp32(((BlockQ6_K*)block)->D);

    public static float DMin(byte* block) => 0f;

    public static Vector512<short> Correction(Vector128<byte> meta) => Wide(meta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Finish16Unpacked(Vector512<float> acc, Vector512<int> scaledSums, Vector512<short> c0, Vector512<short> c1,
        Vector512<short> c2, Vector512<short> c3, Vector512<float> d, Vector512<float> dmin, BlockQ8_K* y0, BlockQ8_K* y1, BlockQ8_K* y2, BlockQ8_K* y3)
    {
        Vector512<short> b01 = Vector512.Create(Vector256.Load(y0->BSums), Vector256.Load(y1->BSums));
        Vector512<short> b23 = Vector512.Create(Vector256.Load(y2->BSums), Vector256.Load(y3->BSums));
        Vector512<int> r0 = KQuantGemm.Pair(Avx512BW.MultiplyAddAdjacent(c0, b01), Avx512BW.MultiplyAddAdjacent(c0, b23));
        Vector512<int> r1 = KQuantGemm.Pair(Avx512BW.MultiplyAddAdjacent(c1, b01), Avx512BW.MultiplyAddAdjacent(c1, b23));
        Vector512<int> r2 = KQuantGemm.Pair(Avx512BW.MultiplyAddAdjacent(c2, b01), Avx512BW.MultiplyAddAdjacent(c2, b23));
        Vector512<int> r3 = KQuantGemm.Pair(Avx512BW.MultiplyAddAdjacent(c3, b01), Avx512BW.MultiplyAddAdjacent(c3, b23));
        Vector512<int> group = KQuantGemm.Pair(KQuantGemm.Pair(r0, r1), KQuantGemm.Pair(r2, r3));
        Vector512<int> isum = scaledSums - Vector512.Create(32) * group;
        acc += (d * KQuantLanes.PerToken(y0, y1, y2, y3)) * Vector512.ConvertToSingle(isum);
        return acc;
    }

    /// <summary>The 16 scales as int16, repeated in both 256-bit halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Wide(Vector128<byte> meta)
    {
        Vector256<short> s = Avx2.ConvertToVector256Int16(meta.AsSByte());
        return Vector512.Create(s, s);
    }
}
