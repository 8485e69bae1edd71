using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>The batched (m ≥ 2) 512-bit part of <see cref="Q8Gemm"/>: weight rows transposed once per call, then register
/// tiles of up to 4 rows x 4 tokens whose inner loop is one integer multiply-add per chunk, row and token.</summary>
internal static unsafe partial class Q8Gemm
{
    /// <summary>Bytes of one transposed weight group: the chunks (Q4_0 8 x 64 bytes of unsigned nibbles, Q8_0 16 x 64
    /// bytes of int16 pieces, laid out as the panel's transposed codes), then d_w of the 16 blocks in lane order.</summary>
    private static int DecodedGroupBytes<TW>() where TW : struct, IGemmWeight => TW.Nibble ? 576 : 1088;

    private static int DecodedScaleOffset<TW>() where TW : struct, IGemmWeight => TW.Nibble ? 512 : 1024;

    /// <summary>One weight row of <paramref name="nb"/> blocks into its groups of <see cref="DecodedGroupBytes{TW}"/> at
    /// <paramref name="dst"/> (blocks past the row's end are zeros).</summary>
    private static void Decode512<TW>(byte* w, int nb, byte* dst) where TW : struct, IGemmWeight
    {
        Vector512<ushort> shifts = Shifts512();
        Vector512<int> order = LaneOrder();
        float* table = stackalloc float[16];
        int wideLoads = WideLoads<TW>(nb), dgb = DecodedGroupBytes<TW>();
        for (int g = 0; g < nb; g += Group, dst += dgb)
        {
            int left = nb - g, wide = wideLoads - (g >> 1);
            byte* wg = w + (long)g * TW.Bytes;
            Transpose8(Codes<TW>(wg, 0, left, wide, shifts), Codes<TW>(wg, 1, left, wide, shifts), Codes<TW>(wg, 2, left, wide, shifts),
                Codes<TW>(wg, 3, left, wide, shifts), Codes<TW>(wg, 4, left, wide, shifts), Codes<TW>(wg, 5, left, wide, shifts),
                Codes<TW>(wg, 6, left, wide, shifts), Codes<TW>(wg, 7, left, wide, shifts),
                out var t0, out var t1, out var t2, out var t3, out var t4, out var t5, out var t6, out var t7);
            StoreChunk<TW>(dst, 0, t0); StoreChunk<TW>(dst, 1, t1); StoreChunk<TW>(dst, 2, t2); StoreChunk<TW>(dst, 3, t3);
            StoreChunk<TW>(dst, 4, t4); StoreChunk<TW>(dst, 5, t5); StoreChunk<TW>(dst, 6, t6); StoreChunk<TW>(dst, 7, t7);
            Avx512F.PermuteVar16x32(GroupScales<TW>(wg, left, table), order).Store((float*)(dst + DecodedScaleOffset<TW>()));
        }
    }

    /// <summary>Pair <paramref name="j"/> of a group as unsigned nibbles (Q4_0) or signed codes (Q8_0), elements in order,
    /// zeros past <paramref name="left"/> blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Codes<TW>(byte* wg, int j, int left, int wide, Vector512<ushort> shifts) where TW : struct, IGemmWeight
    {
        if (2 * j >= left) return default;
        byte* b = wg + 2L * j * TW.Bytes;
        bool full = 2 * j + 1 < left;
        if (TW.Nibble)
        {
            Codes512<TW>(b, full, j < wide, shifts, out Vector512<byte> c, out _);
            return c.AsInt32();
        }
        Vector256<sbyte> v0 = Vector256.Load((sbyte*)(b + 2)), v1 = full ? Vector256.Load((sbyte*)(b + TW.Bytes + 2)) : default;
        return Vector512.Create(v0, v1).AsInt32();
    }

    private static void Tile512<TW>(int nr, int nt, byte* w, long rowBytes, byte* p, int ps, int ng, float* y, int ys)
        where TW : struct, IGemmWeight
    {
        switch (nr)
        {
            case 4: Tile512R<TW, Tile4>(nt, w, rowBytes, p, ps, ng, y, ys); break;
            case 3: Tile512R<TW, Tile3>(nt, w, rowBytes, p, ps, ng, y, ys); break;
            case 2: Tile512R<TW, Tile2>(nt, w, rowBytes, p, ps, ng, y, ys); break;
            default: Tile512R<TW, Tile1>(nt, w, rowBytes, p, ps, ng, y, ys); break;
        }
    }

    private static void Tile512R<TW, TR>(int nt, byte* w, long rowBytes, byte* p, int ps, int ng, float* y, int ys)
        where TW : struct, IGemmWeight where TR : struct, ITileCount
    {
        switch (nt)
        {
            case 4: Tile512<TW, TR, Tile4>(w, rowBytes, p, ps, ng, y, ys); break;
            case 3: Tile512<TW, TR, Tile3>(w, rowBytes, p, ps, ng, y, ys); break;
            case 2: Tile512<TW, TR, Tile2>(w, rowBytes, p, ps, ng, y, ys); break;
            default: Tile512<TW, TR, Tile1>(w, rowBytes, p, ps, ng, y, ys); break;
        }
    }

    /// <summary>Multiply-add of one chunk: Q4_0 16-bit pair sums of nibble x code added in 16 bits (8 chunks of at most
    /// 2·15·127 each stay below 2^15), Q8_0 int16 x int16 pairs added in 32 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Mac<TW>(Vector512<int> s, Vector512<byte> wv, byte* a) where TW : struct, IGemmWeight =>
        TW.Nibble
            ? (s.AsInt16() + Avx512BW.MultiplyAddAdjacent(wv, Vector512.Load((sbyte*)a))).AsInt32()
            : s + Avx512BW.MultiplyAddAdjacent(wv.AsInt16(), Vector512.Load((short*)a));

    /// <summary>Takes a group's integer block sums into the fp32 accumulator: acc = fma(p, d_w·d_a, acc).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TW>(Vector512<int> s, Vector512<float> dw, byte* pg, Vector512<short> ones, Vector512<float>* acc)
        where TW : struct, IGemmWeight
    {
        Vector512<int> p = TW.Nibble ? Avx512BW.MultiplyAddAdjacent(s.AsInt16(), ones) + Vector512.Load((int*)(pg + CorrOffset)) : s;
        *acc = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(p), dw * Vector512.Load((float*)(pg + ScaleOffset)), *acc);
    }

    /// <summary>TR.N transposed rows (stride <paramref name="rowBytes"/>) x TT.N panels (stride <paramref name="ps"/>) of
    /// <paramref name="ng"/> groups: y[t·ys + r].</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tile512<TW, TR, TT>(byte* w, long rowBytes, byte* p, int ps, int ng, float* y, int ys)
        where TW : struct, IGemmWeight where TR : struct, ITileCount where TT : struct, ITileCount
    {
        Vector512<float>* acc = stackalloc Vector512<float>[16];   // [row * 4 + token]
        for (int i = 0; i < 16; i++) acc[i] = default;
        Vector512<short> ones = Vector512.Create((short)1);
        int dgb = DecodedGroupBytes<TW>(), chunks = TW.Nibble ? 8 : 16;
        byte* w0 = w, w1 = TR.N > 1 ? w + rowBytes : w, w2 = TR.N > 2 ? w + 2 * rowBytes : w, w3 = TR.N > 3 ? w + 3 * rowBytes : w;
        byte* p0 = p + TransOffset, p1 = TT.N > 1 ? p0 + ps : p0, p2 = TT.N > 2 ? p0 + 2 * ps : p0, p3 = TT.N > 3 ? p0 + 3 * ps : p0;
        for (int g = 0; g < ng; g++)
        {
            Vector512<int> s00 = default, s01 = default, s02 = default, s03 = default;
            Vector512<int> s10 = default, s11 = default, s12 = default, s13 = default;
            Vector512<int> s20 = default, s21 = default, s22 = default, s23 = default;
            Vector512<int> s30 = default, s31 = default, s32 = default, s33 = default;
            long wo = (long)g * dgb, po = (long)g * GroupBytes;
            for (int k = 0; k < chunks; k++)
            {
                long wk = wo + 64 * k, pk = po + 64 * k;
                Vector512<byte> v = Vector512.Load(w0 + wk);
                s00 = Mac<TW>(s00, v, p0 + pk);
                if (TT.N > 1) s01 = Mac<TW>(s01, v, p1 + pk);
                if (TT.N > 2) s02 = Mac<TW>(s02, v, p2 + pk);
                if (TT.N > 3) s03 = Mac<TW>(s03, v, p3 + pk);
                if (TR.N > 1)
                {
                    v = Vector512.Load(w1 + wk);
                    s10 = Mac<TW>(s10, v, p0 + pk);
                    if (TT.N > 1) s11 = Mac<TW>(s11, v, p1 + pk);
                    if (TT.N > 2) s12 = Mac<TW>(s12, v, p2 + pk);
                    if (TT.N > 3) s13 = Mac<TW>(s13, v, p3 + pk);
                }
                if (TR.N > 2)
                {
                    v = Vector512.Load(w2 + wk);
                    s20 = Mac<TW>(s20, v, p0 + pk);
                    if (TT.N > 1) s21 = Mac<TW>(s21, v, p1 + pk);
                    if (TT.N > 2) s22 = Mac<TW>(s22, v, p2 + pk);
                    if (TT.N > 3) s23 = Mac<TW>(s23, v, p3 + pk);
                }
                if (TR.N > 3)
                {
                    v = Vector512.Load(w3 + wk);
                    s30 = Mac<TW>(s30, v, p0 + pk);
                    if (TT.N > 1) s31 = Mac<TW>(s31, v, p1 + pk);
                    if (TT.N > 2) s32 = Mac<TW>(s32, v, p2 + pk);
                    if (TT.N > 3) s33 = Mac<TW>(s33, v, p3 + pk);
                }
            }
            int so = DecodedScaleOffset<TW>();
            byte* g0 = p0 - TransOffset + po, g1 = p1 - TransOffset + po, g2 = p2 - TransOffset + po, g3 = p3 - TransOffset + po;
            Vector512<float> d = Vector512.Load((float*)(w0 + wo + so));
            Finish<TW>(s00, d, g0, ones, acc + 0);
            if (TT.N > 1) Finish<TW>(s01, d, g1, ones, acc + 1);
            if (TT.N > 2) Finish<TW>(s02, d, g2, ones, acc + 2);
            if (TT.N > 3) Finish<TW>(s03, d, g3, ones, acc + 3);
            if (TR.N > 1)
            {
                d = Vector512.Load((float*)(w1 + wo + so));
                Finish<TW>(s10, d, g0, ones, acc + 4);
                if (TT.N > 1) Finish<TW>(s11, d, g1, ones, acc + 5);
                if (TT.N > 2) Finish<TW>(s12, d, g2, ones, acc + 6);
                if (TT.N > 3) Finish<TW>(s13, d, g3, ones, acc + 7);
            }
            if (TR.N > 2)
            {
                d = Vector512.Load((float*)(w2 + wo + so));
                Finish<TW>(s20, d, g0, ones, acc + 8);
                if (TT.N > 1) Finish<TW>(s21, d, g1, ones, acc + 9);
                if (TT.N > 2) Finish<TW>(s22, d, g2, ones, acc + 10);
                if (TT.N > 3) Finish<TW>(s23, d, g3, ones, acc + 11);
            }
            if (TR.N > 3)
            {
                d = Vector512.Load((float*)(w3 + wo + so));
                Finish<TW>(s30, d, g0, ones, acc + 12);
                if (TT.N > 1) Finish<TW>(s31, d, g1, ones, acc + 13);
                if (TT.N > 2) Finish<TW>(s32, d, g2, ones, acc + 14);
                if (TT.N > 3) Finish<TW>(s33, d, g3, ones, acc + 15);
            }
        }
        for (int r = 0; r < TR.N; r++)
            for (int t = 0; t < TT.N; t++)
                y[(long)t * ys + r] = Reduce512(acc[r * 4 + t]);
    }
}
