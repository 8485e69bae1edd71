using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Gguf;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>
/// The 256-bit (AVX2 + FMA) part of <see cref="Q8Gemm"/>, the same arithmetic as every other path. The 16 accumulator
/// lanes of a group are held as two <see cref="Vector256{T}"/> halves: lanes 0..7 (blocks 0..7 of the group, in the order
/// <see cref="Q8Gemm.LaneOf"/> puts them) and lanes 8..15 (blocks 8..15); the final reduction adds the halves
/// (h_k = acc_k + acc_{8+k}), then the 128-bit halves of that (q_k = h_k + h_{k+4}), then (q_0 + q_2) + (q_1 + q_3).
/// <para>From 11 (Q4_0) or 9 (Q8_0) tokens (<see cref="Tile256{TW}"/>): each weight row is transposed once per call like
/// the panel's transposed codes (<see cref="Decode256{TW}"/>), then tiles of up to 4 rows x 3 (Q8_0: 2) tokens do per
/// 32-byte chunk one integer multiply-add per row and token, and per half group of 8 blocks one fma per row and token.</para>
/// <para>One token (<see cref="Gemv256{TW}"/>): each row is read once, in place. Q4_0 takes two blocks per vector (the
/// activation codes regrouped once per call to match), so a half group is 4 pair products and a 2-level add tree in
/// 16 bits that leaves the 8 block sums in lane order; Q8_0 takes one block per vector and a 3-level tree in 32 bits.
/// Fewer tokens than the tiles take (<see cref="GemvTokens256{TW}"/>) share each row's loads and scales among up to 4
/// tokens, each token doing the one-token arithmetic.</para>
/// </summary>
internal static unsafe partial class Q8Gemm
{
    // ------------------------------------------------------------------ 256-bit panel transposition (Pack)

    /// <summary>The panel's transposed codes (<see cref="TransOffset"/>; the layout the 512-bit <c>Transpose</c> writes)
    /// from the codes in block order at <paramref name="src"/>, with AVX2 only.</summary>
    internal static void Transpose256<TW>(byte* src, byte* dst) where TW : struct, IGemmWeight
    {
        for (int h = 0; h < 2; h++)
        {
            byte* s = src + 256 * h;
            // slot p of the transpose = block BlockOf(p) of the half: lanes come out in accumulator order
            Transpose8x8(Vector256.Load((int*)s), Vector256.Load((int*)(s + 64)), Vector256.Load((int*)(s + 128)), Vector256.Load((int*)(s + 192)),
                Vector256.Load((int*)(s + 32)), Vector256.Load((int*)(s + 96)), Vector256.Load((int*)(s + 160)), Vector256.Load((int*)(s + 224)),
                out var t0, out var t1, out var t2, out var t3, out var t4, out var t5, out var t6, out var t7);
            byte* d = dst + 32 * h;
            StoreChunk256<TW>(d, 0, t0); StoreChunk256<TW>(d, 1, t1); StoreChunk256<TW>(d, 2, t2); StoreChunk256<TW>(d, 3, t3);
            StoreChunk256<TW>(d, 4, t4); StoreChunk256<TW>(d, 5, t5); StoreChunk256<TW>(d, 6, t6); StoreChunk256<TW>(d, 7, t7);
        }
    }

    /// <summary>Transposes the 8 x 8 dwords n_s into t_k: dword s of t_k = dword k of n_s (24 shuffles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(Vector256<int> n0, Vector256<int> n1, Vector256<int> n2, Vector256<int> n3,
        Vector256<int> n4, Vector256<int> n5, Vector256<int> n6, Vector256<int> n7,
        out Vector256<int> t0, out Vector256<int> t1, out Vector256<int> t2, out Vector256<int> t3,
        out Vector256<int> t4, out Vector256<int> t5, out Vector256<int> t6, out Vector256<int> t7)
    {
        // u: 128-bit lane L holds dwords (2e, 2e + 1) of n_s, n_{s+1} for e = 0, 1 of that lane's four
        Vector256<long> u0 = Avx2.UnpackLow(n0, n1).AsInt64(), u1 = Avx2.UnpackHigh(n0, n1).AsInt64();
        Vector256<long> u2 = Avx2.UnpackLow(n2, n3).AsInt64(), u3 = Avx2.UnpackHigh(n2, n3).AsInt64();
        Vector256<long> u4 = Avx2.UnpackLow(n4, n5).AsInt64(), u5 = Avx2.UnpackHigh(n4, n5).AsInt64();
        Vector256<long> u6 = Avx2.UnpackLow(n6, n7).AsInt64(), u7 = Avx2.UnpackHigh(n6, n7).AsInt64();
        // v_c (c = 0..3): dword c of n_0..n_3 (lane 0) and dword c + 4 (lane 1); w_c the same of n_4..n_7
        Vector256<int> v0 = Avx2.UnpackLow(u0, u2).AsInt32(), v1 = Avx2.UnpackHigh(u0, u2).AsInt32();
        Vector256<int> v2 = Avx2.UnpackLow(u1, u3).AsInt32(), v3 = Avx2.UnpackHigh(u1, u3).AsInt32();
        Vector256<int> w0 = Avx2.UnpackLow(u4, u6).AsInt32(), w1 = Avx2.UnpackHigh(u4, u6).AsInt32();
        Vector256<int> w2 = Avx2.UnpackLow(u5, u7).AsInt32(), w3 = Avx2.UnpackHigh(u5, u7).AsInt32();
        t0 = Avx2.Permute2x128(v0, w0, 0x20); t4 = Avx2.Permute2x128(v0, w0, 0x31);
        t1 = Avx2.Permute2x128(v1, w1, 0x20); t5 = Avx2.Permute2x128(v1, w1, 0x31);
        t2 = Avx2.Permute2x128(v2, w2, 0x20); t6 = Avx2.Permute2x128(v2, w2, 0x31);
        t3 = Avx2.Permute2x128(v3, w3, 0x20); t7 = Avx2.Permute2x128(v3, w3, 0x31);
    }

    /// <summary>Chunk <paramref name="k"/> of a half group (8 dword lanes) at its place in a transposed group whose half
    /// starts at <paramref name="dst"/>: Q4_0 as is (64-byte chunk stride), Q8_0 widened to the two int16 pieces (bytes 0
    /// and 2 of each lane, then bytes 1 and 3; 128-byte chunk stride).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreChunk256<TW>(byte* dst, int k, Vector256<int> t) where TW : struct, IGemmWeight
    {
        if (TW.Nibble) { t.Store((int*)(dst + 64 * k)); return; }
        Vector256<short> s = t.AsInt16();
        ((s << 8) >> 8).Store((short*)(dst + 128 * k));
        (s >> 8).Store((short*)(dst + 128 * k + 64));
    }

    // ------------------------------------------------------------------ 256-bit rows x tokens

    /// <summary>Tokens whose panels a row tile sweeps before the next (a multiple of the tiles' 3 or 2 tokens).</summary>
    private const int TokenBlock256 = 30;

    /// <summary>Tokens per tile: Q4_0 3, Q8_0 2 (same-run gemmrate 3072 x 768: Q8_0 4 x 2 tiles 1.07-1.15x the 4 x 3
    /// ones, Q4_0 within noise of each other).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TileTokens256<TW>() where TW : struct, IGemmWeight => TW.Nibble ? 3 : 2;

    /// <summary>Chunks of 64 bytes per transposed group: Q4_0 8 (4 nibbles x 16 blocks), Q8_0 16 (2 int16 x 16 blocks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Chunks256<TW>() where TW : struct, IGemmWeight => TW.Nibble ? 8 : 16;

    /// <summary>Bytes of one transposed weight group of the 256-bit path: the chunks, then d_w of the 16 blocks in lane order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Decoded256GroupBytes<TW>() where TW : struct, IGemmWeight => 64 * Chunks256<TW>() + 64;

    /// <summary>Most tokens that take <see cref="GemvTokens256{TW}"/> rather than the tiles, whose weight transposition
    /// costs about as much as 2 tokens of the one-token path (same-run gemmrate 3072 x 768 against the tiles: Q4_0 m = 2
    /// 1.2x, 4 1.6x, 8 1.15x, even at 12; Q8_0 m = 2 1.06x, 3 1.2x, 4 1.27x, even at 8, 0.93x at 12).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int FewTokens256<TW>() where TW : struct, IGemmWeight => TW.Nibble ? 10 : 8;

    [ThreadStatic] private static byte[]? t_decode256;
    [ThreadStatic] private static byte[]? t_pairs256;

    /// <summary>
    /// <see cref="Q8Gemm.Rows"/> on the 256-bit path: rows [r0, r1) x tokens [0, m), panels at <paramref name="panels"/>
    /// (their transposed codes filled, see <see cref="Transpose256{TW}"/>). One token runs <see cref="Gemv256{TW}"/>;
    /// up to <see cref="FewTokens256{TW}"/> tokens skip the tiles' weight transposition (<see cref="GemvTokens256{TW}"/>).
    /// </summary>
    internal static void Rows256<TW>(byte* w, long rowBytes, int r0, int r1, byte* panels, int panelStride, int m, int nb,
        float* y, int yStride) where TW : struct, IGemmWeight
    {
        if (m == 1)
        {
            Gemv256<TW>(w, rowBytes, r0, r1, panels, nb, y);
            return;
        }
        if (m <= FewTokens256<TW>())
        {
            GemvTokens256<TW>(w, rowBytes, r0, r1, panels, panelStride, m, nb, y, yStride);
            return;
        }
        int ng = (nb + Group - 1) / Group, tt = TileTokens256<TW>();
        long drb = (long)ng * Decoded256GroupBytes<TW>();
        Vector256<float>* acc = stackalloc Vector256<float>[24];   // [(row * 3 + token) * 2 + half]
        const int Rows16 = 16;
        for (int rs = r0; rs < r1; rs += Rows16)
        {
            int re = Math.Min(r1, rs + Rows16);
            byte* dec = ThreadBuffer.Aligned64(ref t_decode256, (re - rs) * drb);
            for (int r = rs; r < re; r++) Decode256<TW>(w + r * rowBytes, nb, dec + (r - rs) * drb);
            for (int tb = 0; tb < m; tb += TokenBlock256)
            {
                int te = Math.Min(m, tb + TokenBlock256);
                for (int r = rs; r < re; r += 4)
                {
                    int nr = Math.Min(4, re - r);
                    for (int t = tb; t < te; t += tt)
                        Tile256<TW>(nr, Math.Min(tt, te - t), dec + (r - rs) * drb, drb,
                            panels + (long)t * panelStride, panelStride, nb, y + (long)t * yStride + r, yStride, acc);
                }
            }
        }
    }

    /// <summary>One weight row of <paramref name="nb"/> blocks transposed into groups of <see cref="Decoded256GroupBytes{TW}"/>
    /// at <paramref name="dst"/>, the chunks laid out as the panel's transposed codes (Q4_0 unsigned nibbles); blocks past
    /// the row's end are zeros, and a last group's half with no block is not written (the tiles never read it).</summary>
    private static void Decode256<TW>(byte* w, int nb, byte* dst) where TW : struct, IGemmWeight
    {
        int scaleAt = 64 * Chunks256<TW>();
        for (int b0 = 0; b0 < nb; b0 += Group / 2)
        {
            int n = Math.Min(Group / 2, nb - b0), h = b0 & 8;
            byte* wb = w + (long)b0 * TW.Bytes, d = dst + (long)(b0 >> 4) * Decoded256GroupBytes<TW>() + 4 * h;
            Transpose8x8(BlockCodes256<TW>(wb, 0, n), BlockCodes256<TW>(wb, 2, n), BlockCodes256<TW>(wb, 4, n), BlockCodes256<TW>(wb, 6, n),
                BlockCodes256<TW>(wb, 1, n), BlockCodes256<TW>(wb, 3, n), BlockCodes256<TW>(wb, 5, n), BlockCodes256<TW>(wb, 7, n),
                out var t0, out var t1, out var t2, out var t3, out var t4, out var t5, out var t6, out var t7);
            StoreChunk256<TW>(d, 0, t0); StoreChunk256<TW>(d, 1, t1); StoreChunk256<TW>(d, 2, t2); StoreChunk256<TW>(d, 3, t3);
            StoreChunk256<TW>(d, 4, t4); StoreChunk256<TW>(d, 5, t5); StoreChunk256<TW>(d, 6, t6); StoreChunk256<TW>(d, 7, t7);
            float* sd = (float*)(d + scaleAt);
            for (int p = 0; p < 8; p++)
            {
                int b = BlockOf(p);
                sd[p] = b < n ? Fp16Table.Load(wb + (nint)b * TW.Bytes) : 0f;
            }
        }
    }

    /// <summary>The 32 codes of block <paramref name="b"/> at <paramref name="wb"/> in element order (Q4_0 unsigned
    /// nibbles, Q8_0 signed codes), zeros when b ≥ <paramref name="n"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockCodes256<TW>(byte* wb, int b, int n) where TW : struct, IGemmWeight
    {
        if (b >= n) return default;
        byte* p = wb + (nint)b * TW.Bytes + 2;
        if (!TW.Nibble) return Vector256.Load((int*)p);
        Vector128<byte> q = Vector128.Load(p);
        return (Vector256.Create(q, (q.AsUInt16() >> 4).AsByte()) & Vector256.Create((byte)0x0F)).AsInt32();
    }

    private static void Tile256<TW>(int nr, int nt, byte* w, long rowBytes, byte* p, int ps, int nb, float* y, int ys, Vector256<float>* acc)
        where TW : struct, IGemmWeight
    {
        switch (nr)
        {
            case 4: Tile256R<TW, Tile4>(nt, w, rowBytes, p, ps, nb, y, ys, acc); break;
            case 3: Tile256R<TW, Tile3>(nt, w, rowBytes, p, ps, nb, y, ys, acc); break;
            case 2: Tile256R<TW, Tile2>(nt, w, rowBytes, p, ps, nb, y, ys, acc); break;
            default: Tile256R<TW, Tile1>(nt, w, rowBytes, p, ps, nb, y, ys, acc); break;
        }
    }

    private static void Tile256R<TW, TR>(int nt, byte* w, long rowBytes, byte* p, int ps, int nb, float* y, int ys, Vector256<float>* acc)
        where TW : struct, IGemmWeight where TR : struct, ITileCount
    {
        switch (nt)
        {
            case 3: Tile256T<TW, TR, Tile3>(w, rowBytes, p, ps, nb, y, ys, acc); break;
            case 2: Tile256T<TW, TR, Tile2>(w, rowBytes, p, ps, nb, y, ys, acc); break;
            default: Tile256T<TW, TR, Tile1>(w, rowBytes, p, ps, nb, y, ys, acc); break;
        }
    }

    /// <summary>TR.N transposed rows (stride <paramref name="rowBytes"/>) x TT.N panels (stride <paramref name="ps"/>):
    /// per half group of 8 blocks, the chunks' multiply-adds into one integer vector per row and token (Q4_0 16-bit pair
    /// sums of nibble x code, at most 8 chunks of 2 products per 16-bit lane: |sum| ≤ 16·15·127 &lt; 2^15; Q8_0 int16
    /// pieces multiplied and added in 32 bits), then the block sums (plus the Q4_0 correction) into the half's
    /// accumulator with one fma by d_w·d_a; last, each output's 16 lanes reduced by the defining tree.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tile256T<TW, TR, TT>(byte* w, long rowBytes, byte* p, int ps, int nb, float* y, int ys, Vector256<float>* acc)
        where TW : struct, IGemmWeight where TR : struct, ITileCount where TT : struct, ITileCount
    {
        int nr = TR.N, nt = TT.N, chunks = Chunks256<TW>(), scaleAt = 64 * chunks, dgb = Decoded256GroupBytes<TW>();
        for (int i = 0; i < 24; i++) acc[i] = default;
        byte* w0 = w, w1 = nr > 1 ? w + rowBytes : w, w2 = nr > 2 ? w + 2 * rowBytes : w, w3 = nr > 3 ? w + 3 * rowBytes : w;
        byte* p0 = p, p1 = nt > 1 ? p + ps : p, p2 = nt > 2 ? p + 2 * ps : p;
        Vector256<short> ones = Vector256.Create((short)1);
        for (int b0 = 0; b0 < nb; b0 += Group / 2)
        {
            int h = b0 & 8;
            long wo = (long)(b0 >> 4) * dgb + 4 * h, po = (long)(b0 >> 4) * GroupBytes + 4 * h;
            byte* x0 = w0 + wo, x1 = w1 + wo, x2 = w2 + wo, x3 = w3 + wo;
            byte* q0 = p0 + po + TransOffset, q1 = p1 + po + TransOffset, q2 = p2 + po + TransOffset;
            Vector256<int> s00 = default, s01 = default, s02 = default, s10 = default, s11 = default, s12 = default;
            Vector256<int> s20 = default, s21 = default, s22 = default, s30 = default, s31 = default, s32 = default;
            for (int o = 0; o < 64 * chunks; o += 64)
            {
                Vector256<int> v = *(Vector256<int>*)(x0 + o);
                s00 = Step256<TW>(s00, v, q0 + o);
                if (nt > 1) s01 = Step256<TW>(s01, v, q1 + o);
                if (nt > 2) s02 = Step256<TW>(s02, v, q2 + o);
                if (nr > 1)
                {
                    v = *(Vector256<int>*)(x1 + o);
                    s10 = Step256<TW>(s10, v, q0 + o);
                    if (nt > 1) s11 = Step256<TW>(s11, v, q1 + o);
                    if (nt > 2) s12 = Step256<TW>(s12, v, q2 + o);
                }
                if (nr > 2)
                {
                    v = *(Vector256<int>*)(x2 + o);
                    s20 = Step256<TW>(s20, v, q0 + o);
                    if (nt > 1) s21 = Step256<TW>(s21, v, q1 + o);
                    if (nt > 2) s22 = Step256<TW>(s22, v, q2 + o);
                }
                if (nr > 3)
                {
                    v = *(Vector256<int>*)(x3 + o);
                    s30 = Step256<TW>(s30, v, q0 + o);
                    if (nt > 1) s31 = Step256<TW>(s31, v, q1 + o);
                    if (nt > 2) s32 = Step256<TW>(s32, v, q2 + o);
                }
            }
            // acc index (row * 3 + token) * 2 + half; the panel's scales and corrections of this half sit 4h bytes in
            Vector256<float>* a = acc + (h >> 3);
            byte* g0 = q0 - TransOffset, g1 = q1 - TransOffset, g2 = q2 - TransOffset;
            Vector256<float> d = *(Vector256<float>*)(x0 + scaleAt);
            a[0] = Fma256<TW>(s00, g0, d, a[0], ones);
            if (nt > 1) a[2] = Fma256<TW>(s01, g1, d, a[2], ones);
            if (nt > 2) a[4] = Fma256<TW>(s02, g2, d, a[4], ones);
            if (nr > 1)
            {
                d = *(Vector256<float>*)(x1 + scaleAt);
                a[6] = Fma256<TW>(s10, g0, d, a[6], ones);
                if (nt > 1) a[8] = Fma256<TW>(s11, g1, d, a[8], ones);
                if (nt > 2) a[10] = Fma256<TW>(s12, g2, d, a[10], ones);
            }
            if (nr > 2)
            {
                d = *(Vector256<float>*)(x2 + scaleAt);
                a[12] = Fma256<TW>(s20, g0, d, a[12], ones);
                if (nt > 1) a[14] = Fma256<TW>(s21, g1, d, a[14], ones);
                if (nt > 2) a[16] = Fma256<TW>(s22, g2, d, a[16], ones);
            }
            if (nr > 3)
            {
                d = *(Vector256<float>*)(x3 + scaleAt);
                a[18] = Fma256<TW>(s30, g0, d, a[18], ones);
                if (nt > 1) a[20] = Fma256<TW>(s31, g1, d, a[20], ones);
                if (nt > 2) a[22] = Fma256<TW>(s32, g2, d, a[22], ones);
            }
        }
        for (int t = 0; t < nt; t++)
            for (int r = 0; r < nr; r++)
                y[(long)t * ys + r] = Reduce256(acc[(r * 3 + t) * 2], acc[(r * 3 + t) * 2 + 1]);
    }

    /// <summary>One chunk's multiply-add of weight vector <paramref name="v"/> and the panel's transposed codes at
    /// <paramref name="q"/> into the integer sums <paramref name="s"/> (Q4_0 16-bit lanes, Q8_0 32-bit lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Step256<TW>(Vector256<int> s, Vector256<int> v, byte* q) where TW : struct, IGemmWeight =>
        TW.Nibble
            ? (s.AsInt16() + Avx2.MultiplyAddAdjacent(v.AsByte(), *(Vector256<sbyte>*)q)).AsInt32()
            : s + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)q);

    /// <summary>acc + (block sums [+ correction]) · (d_w · d_a) for one half group; <paramref name="g"/> is the panel group
    /// advanced to the half (its scales and corrections at <see cref="ScaleOffset"/>, <see cref="CorrOffset"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma256<TW>(Vector256<int> s, byte* g, Vector256<float> dw, Vector256<float> acc, Vector256<short> ones)
        where TW : struct, IGemmWeight
    {
        Vector256<int> i = TW.Nibble ? Avx2.MultiplyAddAdjacent(s.AsInt16(), ones) + *(Vector256<int>*)(g + CorrOffset) : s;
        return Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i), dw * *(Vector256<float>*)(g + ScaleOffset), acc);
    }

    /// <summary>The defining reduction of the 16 lanes held as <paramref name="lo"/> (lanes 0..7) and <paramref name="hi"/> (8..15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce256(Vector256<float> lo, Vector256<float> hi)
    {
        Vector256<float> h = lo + hi;
        Vector128<float> q = h.GetLower() + h.GetUpper();
        return (q.GetElement(0) + q.GetElement(2)) + (q.GetElement(1) + q.GetElement(3));
    }

    // ------------------------------------------------------------------ 256-bit, one token (decode)

    /// <summary>
    /// y[r] for rows [r0, r1) and one token (panel at <paramref name="panel"/>), each row read once in place. Q4_0: the
    /// panel's codes are first regrouped per block pair (2j, 2j + 1) into [low 16 codes of both | high 16 codes of both],
    /// so one load of the pair's nibble bytes, masked and shifted, meets them directly.
    /// </summary>
    private static void Gemv256<TW>(byte* w, long rowBytes, int r0, int r1, byte* panel, int nb, float* y) where TW : struct, IGemmWeight
    {
        byte* pairs = null;
        if (TW.Nibble)
        {
            pairs = ThreadBuffer.Aligned64(ref t_pairs256, PairBytes(nb));
            RegroupPairs(panel, nb, pairs);
        }
        for (int r = r0; r < r1; r++) y[r] = GemvRow256<TW>(w + r * rowBytes, panel, pairs, nb);
    }

    /// <summary>Bytes of one token's regrouped Q4_0 codes (<see cref="RegroupPairs"/>): 32 per block of the started groups.</summary>
    private static long PairBytes(int nb) => (nb + Group - 1) / Group * Group * 32L;

    /// <summary>A panel's codes regrouped per block pair (2j, 2j + 1): [elements 0..15 of both | elements 16..31 of both].</summary>
    private static void RegroupPairs(byte* panel, int nb, byte* pairs)
    {
        for (int g = 0; g * Group < nb; g++)
        {
            byte* c = panel + (long)g * GroupBytes + CodesOffset, d = pairs + (long)g * Group * 32;
            for (int j = 0; j < Group / 2; j++)
            {
                Vector256<byte> a = Vector256.Load(c + 64 * j), b = Vector256.Load(c + 64 * j + 32);
                Avx2.Permute2x128(a, b, 0x20).Store(d + 64 * j);
                Avx2.Permute2x128(a, b, 0x31).Store(d + 64 * j + 32);
            }
        }
    }

    /// <summary>Rows x a few tokens without the tiles' transposition: each row's half group is loaded (Q4_0 nibbles
    /// unpacked) and its scales widened once for up to 4 tokens, each token then the one-token arithmetic.</summary>
    private static void GemvTokens256<TW>(byte* w, long rowBytes, int r0, int r1, byte* panels, int ps, int m, int nb, float* y, int ys)
        where TW : struct, IGemmWeight
    {
        long pb = 0;
        byte* pairs = null;
        if (TW.Nibble)
        {
            pb = PairBytes(nb);
            pairs = ThreadBuffer.Aligned64(ref t_pairs256, m * pb);
            for (int t = 0; t < m; t++) RegroupPairs(panels + (long)t * ps, nb, pairs + t * pb);
        }
        Vector256<float>* acc = stackalloc Vector256<float>[8];
        float* table = stackalloc float[8];
        for (int t = 0; t < m; t += 4)
        {
            byte* pt = panels + (long)t * ps, at = pairs + t * pb;
            float* yt = y + (long)t * ys;
            for (int r = r0; r < r1; r++)
            {
                byte* wr = w + r * rowBytes;
                switch (Math.Min(4, m - t))
                {
                    case 4: GemvRowTokens256<TW, Tile4>(wr, pt, ps, at, pb, nb, yt + r, ys, acc, table); break;
                    case 3: GemvRowTokens256<TW, Tile3>(wr, pt, ps, at, pb, nb, yt + r, ys, acc, table); break;
                    case 2: GemvRowTokens256<TW, Tile2>(wr, pt, ps, at, pb, nb, yt + r, ys, acc, table); break;
                    default: GemvRowTokens256<TW, Tile1>(wr, pt, ps, at, pb, nb, yt + r, ys, acc, table); break;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GemvRowTokens256<TW, TT>(byte* w, byte* panels, int ps, byte* pairs, long pb, int nb, float* y, int ys,
        Vector256<float>* acc, float* table) where TW : struct, IGemmWeight where TT : struct, ITileCount
    {
        int nt = TT.N;
        for (int i = 0; i < 2 * nt; i++) acc[i] = default;
        Vector256<short> ones = Vector256.Create((short)1);
        for (int b0 = 0; b0 < nb; b0 += Group / 2)
        {
            int n = nb - b0;
            if (TW.Nibble)
            {
                if (n >= 8) HalfTokensQ4_0<TT>(w + (long)b0 * TW.Bytes, b0, 8, panels, ps, pairs, pb, acc, table, ones);
                else HalfTokensQ4_0<TT>(w + (long)b0 * TW.Bytes, b0, n, panels, ps, pairs, pb, acc, table, ones);
            }
            else
            {
                if (n >= 8) HalfTokensQ8_0<TT>(w + (long)b0 * TW.Bytes, b0, 8, panels, ps, acc, table, ones);
                else HalfTokensQ8_0<TT>(w + (long)b0 * TW.Bytes, b0, n, panels, ps, acc, table, ones);
            }
        }
        for (int t = 0; t < nt; t++) y[(long)t * ys] = Reduce256(acc[2 * t], acc[2 * t + 1]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void HalfTokensQ4_0<TT>(byte* wb, int b0, int n, byte* panels, int ps, byte* pairs, long pb,
        Vector256<float>* acc, float* table, Vector256<short> ones) where TT : struct, ITileCount
    {
        PairCodes(wb, 0, n, out var l0, out var h0); PairCodes(wb, 1, n, out var l1, out var h1);
        PairCodes(wb, 2, n, out var l2, out var h2); PairCodes(wb, 3, n, out var l3, out var h3);
        Vector256<float> dw = Scales256<GemmQ4_0>(wb, n, table);
        int half = (b0 >> 3) & 1;
        long po = (long)(b0 >> 4) * GroupBytes + 32 * half;
        for (int t = 0; t < TT.N; t++)
        {
            byte* a = pairs + t * pb + 32L * b0, sc = panels + (long)t * ps + po;
            Vector256<int> i = PairTree(
                Avx2.MultiplyAddAdjacent(l0, *(Vector256<sbyte>*)a) + Avx2.MultiplyAddAdjacent(h0, *(Vector256<sbyte>*)(a + 32)),
                Avx2.MultiplyAddAdjacent(l1, *(Vector256<sbyte>*)(a + 64)) + Avx2.MultiplyAddAdjacent(h1, *(Vector256<sbyte>*)(a + 96)),
                Avx2.MultiplyAddAdjacent(l2, *(Vector256<sbyte>*)(a + 128)) + Avx2.MultiplyAddAdjacent(h2, *(Vector256<sbyte>*)(a + 160)),
                Avx2.MultiplyAddAdjacent(l3, *(Vector256<sbyte>*)(a + 192)) + Avx2.MultiplyAddAdjacent(h3, *(Vector256<sbyte>*)(a + 224)), ones)
                + *(Vector256<int>*)(sc + CorrOffset);
            acc[2 * t + half] = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i), dw * *(Vector256<float>*)(sc + ScaleOffset), acc[2 * t + half]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void HalfTokensQ8_0<TT>(byte* wb, int b0, int n, byte* panels, int ps,
        Vector256<float>* acc, float* table, Vector256<short> ones) where TT : struct, ITileCount
    {
        Vector256<sbyte> v0 = Codes8(wb, 0, n), v1 = Codes8(wb, 1, n), v2 = Codes8(wb, 2, n), v3 = Codes8(wb, 3, n);
        Vector256<sbyte> v4 = Codes8(wb, 4, n), v5 = Codes8(wb, 5, n), v6 = Codes8(wb, 6, n), v7 = Codes8(wb, 7, n);
        Vector256<float> dw = Scales256<GemmQ8_0>(wb, n, table);
        int half = (b0 >> 3) & 1;
        long po = (long)(b0 >> 4) * GroupBytes;
        for (int t = 0; t < TT.N; t++)
        {
            byte* pg = panels + (long)t * ps + po, a = pg + CodesOffset + 256 * half;
            Vector256<int> xa = Tree32(Dot8(v0, a, ones), Dot8(v2, a + 64, ones)), xc = Tree32(Dot8(v4, a + 128, ones), Dot8(v6, a + 192, ones));
            Vector256<int> xe = Tree32(Dot8(v1, a + 32, ones), Dot8(v3, a + 96, ones)), xg = Tree32(Dot8(v5, a + 160, ones), Dot8(v7, a + 224, ones));
            Vector256<int> i = Tree8(xa, xc, xe, xg);
            acc[2 * t + half] = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i), dw * *(Vector256<float>*)(pg + 32 * half + ScaleOffset), acc[2 * t + half]);
        }
    }

    /// <summary>The codes of Q8_0 block <paramref name="b"/> at <paramref name="wb"/>, zeros at or past <paramref name="n"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Codes8(byte* wb, int b, int n) =>
        b < n ? Vector256.Load((sbyte*)(wb + (nint)b * BlockQ8_0.Bytes + 2)) : default;

    /// <summary>8 int32 sums of 4 products of Q8_0 codes <paramref name="v"/> and activation codes at <paramref name="a"/> (sign trick).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot8(Vector256<sbyte> v, byte* a, Vector256<short> ones) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(v), Avx2.Sign(*(Vector256<sbyte>*)a, v)), ones);

    /// <summary>Last two levels of the Q8_0 tree: from the first level of slots (0, 1), (2, 3), (4, 5), (6, 7) (blocks 0..7
    /// of the half in the order 0, 2, 4, 6, 1, 3, 5, 7) to dword p = block BlockOf(p).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Tree8(Vector256<int> xa, Vector256<int> xc, Vector256<int> xe, Vector256<int> xg)
    {
        Vector256<int> y0 = Avx2.UnpackLow(xa.AsInt64(), xc.AsInt64()).AsInt32() + Avx2.UnpackHigh(xa.AsInt64(), xc.AsInt64()).AsInt32();
        Vector256<int> y1 = Avx2.UnpackLow(xe.AsInt64(), xg.AsInt64()).AsInt32() + Avx2.UnpackHigh(xe.AsInt64(), xg.AsInt64()).AsInt32();
        return Avx2.Permute2x128(y0, y1, 0x20) + Avx2.Permute2x128(y0, y1, 0x31);
    }

    /// <summary>One row times the panel (<paramref name="pairs"/>: the regrouped Q4_0 codes).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float GemvRow256<TW>(byte* w, byte* panel, byte* pairs, int nb) where TW : struct, IGemmWeight
    {
        Vector256<float> lo = default, hi = default;
        Vector256<short> ones = Vector256.Create((short)1);
        float* table = stackalloc float[8];
        for (int b0 = 0; b0 < nb; b0 += Group)
        {
            byte* pg = panel + (long)(b0 >> 4) * GroupBytes;
            byte* a = TW.Nibble ? pairs + 32L * b0 : pg + CodesOffset;   // the half's activation codes
            int left = nb - b0;
            if (left >= Group)
            {
                // whole group: constant block counts, so the inlined halves carry no per-block tests
                lo = HalfFma256<TW>(w + (long)b0 * TW.Bytes, a, pg, 8, lo, ones, table);
                hi = HalfFma256<TW>(w + (long)(b0 + 8) * TW.Bytes, a + 256, pg + 32, 8, hi, ones, table);
                continue;
            }
            lo = HalfFma256<TW>(w + (long)b0 * TW.Bytes, a, pg, Math.Min(8, left), lo, ones, table);
            if (left > 8) hi = HalfFma256<TW>(w + (long)(b0 + 8) * TW.Bytes, a + 256, pg + 32, left - 8, hi, ones, table);
        }
        return Reduce256(lo, hi);
    }

    /// <summary>The n (1..8) blocks at <paramref name="wb"/> into the half's accumulator: <paramref name="a"/> the half's
    /// activation codes (Q4_0 regrouped in pairs), <paramref name="sc"/> the panel group advanced by 32 bytes for the upper
    /// half (so its scales and corrections are the half's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalfFma256<TW>(byte* wb, byte* a, byte* sc, int n, Vector256<float> acc, Vector256<short> ones, float* table)
        where TW : struct, IGemmWeight
    {
        Vector256<int> i;
        if (TW.Nibble)
        {
            // pair j: 128-bit lane 0 block 2j, lane 1 block 2j + 1, as 16-bit pair sums; then 2 levels of interleaved adds
            // (16-bit: each lane ends as 16 products, |sum| <= 16·15·127 < 2^15) leave dword p = block BlockOf(p)
            i = PairTree(PairSum256(wb, a, 0, n), PairSum256(wb, a, 1, n), PairSum256(wb, a, 2, n), PairSum256(wb, a, 3, n), ones)
                + *(Vector256<int>*)(sc + CorrOffset);
        }
        else
        {
            // one block per vector, 8 int32 partial sums each; slots 0..7 = blocks 0, 2, 4, 6, 1, 3, 5, 7, so the 3-level
            // interleaved add tree leaves dword p = block BlockOf(p)
            Vector256<int> xa = Tree32(BlockDot256(wb, a, 0, n, ones), BlockDot256(wb, a, 2, n, ones));
            Vector256<int> xc = Tree32(BlockDot256(wb, a, 4, n, ones), BlockDot256(wb, a, 6, n, ones));
            Vector256<int> xe = Tree32(BlockDot256(wb, a, 1, n, ones), BlockDot256(wb, a, 3, n, ones));
            Vector256<int> xg = Tree32(BlockDot256(wb, a, 5, n, ones), BlockDot256(wb, a, 7, n, ones));
            i = Tree8(xa, xc, xe, xg);
        }
        return Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i), Scales256<TW>(wb, n, table) * *(Vector256<float>*)(sc + ScaleOffset), acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Tree32(Vector256<int> a, Vector256<int> b) => Avx2.UnpackLow(a, b) + Avx2.UnpackHigh(a, b);

    /// <summary>The block sums of a half group from its 4 pair products x_j (lane 0 block 2j, lane 1 block 2j + 1, 16-bit
    /// lanes): 2 levels of interleaved 16-bit adds (each lane ends as 16 products, |sum| &lt;= 16·15·127 &lt; 2^15), then
    /// pairs of 16-bit lanes to int32, leaving dword p = block BlockOf(p).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> PairTree(Vector256<short> x0, Vector256<short> x1, Vector256<short> x2, Vector256<short> x3, Vector256<short> ones)
    {
        Vector256<short> y0 = Avx2.UnpackLow(x0.AsInt32(), x1.AsInt32()).AsInt16() + Avx2.UnpackHigh(x0.AsInt32(), x1.AsInt32()).AsInt16();
        Vector256<short> y1 = Avx2.UnpackLow(x2.AsInt32(), x3.AsInt32()).AsInt16() + Avx2.UnpackHigh(x2.AsInt32(), x3.AsInt32()).AsInt16();
        Vector256<short> z = Avx2.UnpackLow(y0.AsInt64(), y1.AsInt64()).AsInt16() + Avx2.UnpackHigh(y0.AsInt64(), y1.AsInt64()).AsInt16();
        return Avx2.MultiplyAddAdjacent(z, ones);
    }

    /// <summary>Q4_0 blocks 2j (128-bit lane 0) and 2j + 1 (lane 1) times their regrouped codes: 16-bit sums of 4 products
    /// (nibbles 0..15); zeros for blocks at or past <paramref name="n"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> PairSum256(byte* wb, byte* a, int j, int n)
    {
        PairCodes(wb, j, n, out var lo, out var hi);
        return Avx2.MultiplyAddAdjacent(lo, *(Vector256<sbyte>*)(a + 64 * j)) + Avx2.MultiplyAddAdjacent(hi, *(Vector256<sbyte>*)(a + 64 * j + 32));
    }

    /// <summary>The nibbles of Q4_0 blocks 2j and 2j + 1 at <paramref name="wb"/>: <paramref name="lo"/> elements 0..15
    /// of block 2j (128-bit lane 0) and 2j + 1 (lane 1), <paramref name="hi"/> elements 16..31; zeros at or past <paramref name="n"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PairCodes(byte* wb, int j, int n, out Vector256<byte> lo, out Vector256<byte> hi)
    {
        if (2 * j >= n) { lo = default; hi = default; return; }
        byte* b = wb + 2L * j * BlockQ4_0.Bytes + 2;
        Vector128<byte> q0 = Vector128.Load(b);
        Vector256<byte> q = 2 * j + 1 < n ? Vector256.Create(q0, Vector128.Load(b + BlockQ4_0.Bytes)) : q0.ToVector256();
        Vector256<byte> mask = Vector256.Create((byte)0x0F);
        lo = q & mask;
        hi = (q.AsUInt16() >> 4).AsByte() & mask;
    }

    /// <summary>Q8_0 block <paramref name="b"/> times its codes: 8 int32 sums of 4 products (sign trick); zeros at or past <paramref name="n"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockDot256(byte* wb, byte* a, int b, int n, Vector256<short> ones) =>
        b < n ? Dot8(Vector256.Load((sbyte*)(wb + (nint)b * BlockQ8_0.Bytes + 2)), a + 32 * b, ones) : default;

    /// <summary>d_w of the n (1..8) blocks at <paramref name="wb"/> in lane order (lane p = block BlockOf(p)), zeros past n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scales256<TW>(byte* wb, int n, float* table) where TW : struct, IGemmWeight
    {
        int s = TW.Bytes;
        if (n == 8)
            return Vector256.Create(Fp16Table.Load(wb), Fp16Table.Load(wb + 2 * s), Fp16Table.Load(wb + 4 * s), Fp16Table.Load(wb + 6 * s),
                Fp16Table.Load(wb + s), Fp16Table.Load(wb + 3 * s), Fp16Table.Load(wb + 5 * s), Fp16Table.Load(wb + 7 * s));
        for (int p = 0; p < 8; p++)
        {
            int b = BlockOf(p);
            table[p] = b < n ? Fp16Table.Load(wb + (nint)b * s) : 0f;
        }
        return Vector256.Load(table);
    }
}
