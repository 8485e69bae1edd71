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
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int DecodedGroupBytes<TW>() where TW : struct, IGemmWeight => TW.Nibble ? 576 : 1088;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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

    /// <summary>Whole groups of a row of <paramref name="nb"/> blocks that run on 512-bit vectors: a last group of at most
    /// 8 blocks runs on 256-bit halves instead.</summary>
    private static int WholeGroups(int nb)
    {
        int ng = (nb + Group - 1) / Group;
        return ng > 0 && nb - Group * (ng - 1) <= Group / 2 ? ng - 1 : ng;
    }

    /// <summary>A tile of <paramref name="nr"/> rows x <paramref name="nt"/> tokens over the whole groups [<paramref name="gs"/>,
    /// <paramref name="ge"/>) of its rows (<paramref name="ge"/> past the last: to the end). The first part
    /// (<paramref name="gs"/> = 0) clears the accumulators at <paramref name="acc"/>, the last one adds the half group,
    /// reduces and stores; a call over a whole row does all of it.</summary>
    private static void Tile512<TW>(int nr, int nt, byte* w, long rowBytes, byte* p, int ps, int nb, float* y, int ys, Vector512<float>* acc,
        int gs = 0, int ge = int.MaxValue)
        where TW : struct, IGemmWeight
    {
        switch (nr)
        {
            case 4: Tile512R<TW, Tile4>(nt, w, rowBytes, p, ps, nb, y, ys, acc, gs, ge); break;
            case 3: Tile512R<TW, Tile3>(nt, w, rowBytes, p, ps, nb, y, ys, acc, gs, ge); break;
            case 2: Tile512R<TW, Tile2>(nt, w, rowBytes, p, ps, nb, y, ys, acc, gs, ge); break;
            default: Tile512R<TW, Tile1>(nt, w, rowBytes, p, ps, nb, y, ys, acc, gs, ge); break;
        }
    }

    private static void Tile512R<TW, TR>(int nt, byte* w, long rowBytes, byte* p, int ps, int nb, float* y, int ys, Vector512<float>* acc,
        int gs, int ge)
        where TW : struct, IGemmWeight where TR : struct, ITileCount
    {
        switch (nt)
        {
            case 4: Tile512T<TW, TR, Tile4>(w, rowBytes, p, ps, nb, y, ys, acc, gs, ge); break;
            case 3: Tile512T<TW, TR, Tile3>(w, rowBytes, p, ps, nb, y, ys, acc, gs, ge); break;
            case 2: Tile512T<TW, TR, Tile2>(w, rowBytes, p, ps, nb, y, ys, acc, gs, ge); break;
            default: Tile512T<TW, TR, Tile1>(w, rowBytes, p, ps, nb, y, ys, acc, gs, ge); break;
        }
    }

    private static void Tile512T<TW, TR, TT>(byte* w, long rowBytes, byte* p, int ps, int nb, float* y, int ys, Vector512<float>* acc,
        int gs, int ge)
        where TW : struct, IGemmWeight where TR : struct, ITileCount where TT : struct, ITileCount
    {
        int ng = WholeGroups(nb);
        bool half = ng < (nb + Group - 1) / Group;
        ge = Math.Min(ge, ng);
        Vector512<float> res;   // lane 4·token + row
        if (gs == 0 && ge == ng && ng <= (TW.Nibble ? 8 : 1))
            res = TW.Nibble ? TileQ4_0Reg<TR, TT>(w, rowBytes, p, ps, ng, half) : TileQ8_0Reg<TR, TT>(w, rowBytes, p, ps, ng, half);
        else
        {
            // long rows (Q4_0 over 8 groups, Q8_0 over 1): the 4 x 4 pass with its accumulators in memory loads fewer
            // operands per multiply-add and measured faster there (Q4_0 2048 x 8192: 4-9%, Q8_0 2048 x 2048: 4%). Its
            // groups run in ascending order whether in one call or in parts, so the fp32 updates are the same
            if (gs == 0)
                for (int i = 0; i < 16; i++) acc[i] = default;
            byte* wp = w + (long)gs * DecodedGroupBytes<TW>(), pp = p + (long)gs * GroupBytes;
            if (TW.Nibble) TileQ4_0<TR, TT>(wp, rowBytes, pp, ps, ge - gs, acc);
            else TileQ8_0<TR, TT>(wp, rowBytes, pp, ps, ge - gs, acc);
            if (ge < ng) return;
            if (half)
            {
                if (TW.Nibble) TileQ4_0Half<TR, TT>(w, rowBytes, p, ps, ng, acc);
                else TileQ8_0Half<TR, TT>(w, rowBytes, p, ps, ng, acc);
            }
            res = Reduce16x16(acc);
        }
        if (TR.N == 4)
        {
            // straight from the register: a 128-bit reload of a 512-bit store would wait on store forwarding
            res.GetLower().GetLower().Store(y);
            if (TT.N > 1) res.GetLower().GetUpper().Store(y + ys);
            if (TT.N > 2) res.GetUpper().GetLower().Store(y + 2L * ys);
            if (TT.N > 3) res.GetUpper().GetUpper().Store(y + 3L * ys);
            return;
        }
        float* v = (float*)acc;   // the results over the (no longer needed) first accumulator
        res.Store(v);
        for (int t = 0; t < TT.N; t++)
            for (int r = 0; r < TR.N; r++) y[(long)t * ys + r] = v[4 * t + r];
    }

    /// <summary>
    /// <see cref="Reduce512"/> of the 16 accumulators acc[4m + l] at once, the same adds in the same tree (fp32 addition
    /// is commutative, so only the pairing matters): result of acc[4m + l] in lane 4l + m.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Reduce16x16(Vector512<float>* acc)
    {
        // h_k = acc_k + acc_{8+k}: two accumulators per vector
        Vector512<float> x0 = Half(acc[0], acc[1]), x1 = Half(acc[2], acc[3]), x2 = Half(acc[4], acc[5]), x3 = Half(acc[6], acc[7]);
        Vector512<float> x4 = Half(acc[8], acc[9]), x5 = Half(acc[10], acc[11]), x6 = Half(acc[12], acc[13]), x7 = Half(acc[14], acc[15]);
        return ReduceHalves(x0, x1, x2, x3, x4, x5, x6, x7);
    }

    /// <summary>The rest of <see cref="Reduce16x16"/> from its first step: x_{2r + u} holds h of acc[4r + 2u] (low half)
    /// and acc[4r + 2u + 1] (high half).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ReduceHalves(Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3,
        Vector512<float> x4, Vector512<float> x5, Vector512<float> x6, Vector512<float> x7)
    {
        // q_k = h_k + h_{k+4}: one accumulator per 128-bit lane
        Vector512<float> y0 = Quarter(x0, x1), y1 = Quarter(x2, x3), y2 = Quarter(x4, x5), y3 = Quarter(x6, x7);
        // (q_0 + q_2), (q_1 + q_3): two accumulators per 128-bit lane
        Vector512<float> z0 = Avx512F.Shuffle(y0, y1, 0x44) + Avx512F.Shuffle(y0, y1, 0xEE);
        Vector512<float> z1 = Avx512F.Shuffle(y2, y3, 0x44) + Avx512F.Shuffle(y2, y3, 0xEE);
        return Avx512F.Shuffle(z0, z1, 0x88) + Avx512F.Shuffle(z0, z1, 0xDD);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Half(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle4x128(a, b, 0x44) + Avx512F.Shuffle4x128(a, b, 0xEE);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Quarter(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle4x128(a, b, 0x88) + Avx512F.Shuffle4x128(a, b, 0xDD);

    /// <summary>TR.N transposed Q4_0 rows (stride <paramref name="rowBytes"/>) x TT.N panels (stride
    /// <paramref name="ps"/>): <paramref name="ng"/> whole groups into acc[row·4 + token]. Each group
    /// is unrolled: its integer block sums are temporaries (16-bit: 8 chunks of at most 2·15·127 per lane stay below 2^15),
    /// only the fp32 accumulators carry across groups.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void TileQ4_0<TR, TT>(byte* w, long rowBytes, byte* p, int ps, int ng, Vector512<float>* acc)
        where TR : struct, ITileCount where TT : struct, ITileCount
    {
        const int ScaleAt = 512;
        int nr = TR.N, nt = TT.N;
        byte* w0 = w, w1 = nr > 1 ? w + rowBytes : w, w2 = nr > 2 ? w + 2 * rowBytes : w, w3 = nr > 3 ? w + 3 * rowBytes : w;
        byte* p0 = p, p1 = nt > 1 ? p0 + ps : p0, p2 = nt > 2 ? p0 + 2 * ps : p0, p3 = nt > 3 ? p0 + 3 * ps : p0;
        int g = 0;
        {
            Vector512<short> ones = Vector512.Create((short)1);
            for (; g < ng; g++)
            {
                long wo = (long)g * 576, po = (long)g * GroupBytes;
                byte* x0 = w0 + wo, x1 = w1 + wo, x2 = w2 + wo, x3 = w3 + wo;
                byte* g0 = p0 + po, g1 = p1 + po, g2 = p2 + po, g3 = p3 + po;
                byte* q0 = g0 + TransOffset, q1 = g1 + TransOffset, q2 = g2 + TransOffset, q3 = g3 + TransOffset;
                Vector512<short> s00, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
                Vector512<short> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
                Vector512<byte> v;
                v = *(Vector512<byte>*)(x0 + 0);
                s00 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 0));
                if (nt > 1) s01 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 0));
                if (nt > 2) s02 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 0));
                if (nt > 3) s03 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 0));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 0);
                    s10 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 0));
                    if (nt > 1) s11 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 0));
                    if (nt > 2) s12 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 0));
                    if (nt > 3) s13 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 0));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 0);
                    s20 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 0));
                    if (nt > 1) s21 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 0));
                    if (nt > 2) s22 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 0));
                    if (nt > 3) s23 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 0));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 0);
                    s30 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 0));
                    if (nt > 1) s31 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 0));
                    if (nt > 2) s32 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 0));
                    if (nt > 3) s33 = Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 0));
                }
                v = *(Vector512<byte>*)(x0 + 64);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 64));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 64));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 64));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 64));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 64);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 64));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 64));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 64));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 64));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 64);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 64));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 64));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 64));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 64));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 64);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 64));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 64));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 64));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 64));
                }
                v = *(Vector512<byte>*)(x0 + 128);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 128));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 128));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 128));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 128));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 128);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 128));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 128));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 128));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 128));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 128);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 128));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 128));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 128));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 128));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 128);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 128));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 128));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 128));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 128));
                }
                v = *(Vector512<byte>*)(x0 + 192);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 192));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 192));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 192));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 192));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 192);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 192));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 192));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 192));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 192));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 192);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 192));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 192));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 192));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 192));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 192);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 192));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 192));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 192));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 192));
                }
                v = *(Vector512<byte>*)(x0 + 256);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 256));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 256));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 256));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 256));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 256);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 256));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 256));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 256));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 256));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 256);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 256));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 256));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 256));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 256));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 256);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 256));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 256));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 256));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 256));
                }
                v = *(Vector512<byte>*)(x0 + 320);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 320));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 320));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 320));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 320));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 320);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 320));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 320));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 320));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 320));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 320);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 320));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 320));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 320));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 320));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 320);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 320));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 320));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 320));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 320));
                }
                v = *(Vector512<byte>*)(x0 + 384);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 384));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 384));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 384));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 384));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 384);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 384));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 384));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 384));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 384));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 384);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 384));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 384));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 384));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 384));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 384);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 384));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 384));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 384));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 384));
                }
                v = *(Vector512<byte>*)(x0 + 448);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 448));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 448));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 448));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 448));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 448);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 448));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 448));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 448));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 448));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 448);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 448));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 448));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 448));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 448));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 448);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q0 + 448));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q1 + 448));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q2 + 448));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v, *(Vector512<sbyte>*)(q3 + 448));
                }
                Vector512<float> d;
                d = *(Vector512<float>*)(x0 + ScaleAt);
                acc[0] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s00, ones) + *(Vector512<int>*)(g0 + CorrOffset)), d * *(Vector512<float>*)(g0 + ScaleOffset), acc[0]);
                if (nt > 1) acc[1] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s01, ones) + *(Vector512<int>*)(g1 + CorrOffset)), d * *(Vector512<float>*)(g1 + ScaleOffset), acc[1]);
                if (nt > 2) acc[2] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s02, ones) + *(Vector512<int>*)(g2 + CorrOffset)), d * *(Vector512<float>*)(g2 + ScaleOffset), acc[2]);
                if (nt > 3) acc[3] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s03, ones) + *(Vector512<int>*)(g3 + CorrOffset)), d * *(Vector512<float>*)(g3 + ScaleOffset), acc[3]);
                if (nr > 1)
                {
                    d = *(Vector512<float>*)(x1 + ScaleAt);
                    acc[4] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s10, ones) + *(Vector512<int>*)(g0 + CorrOffset)), d * *(Vector512<float>*)(g0 + ScaleOffset), acc[4]);
                    if (nt > 1) acc[5] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s11, ones) + *(Vector512<int>*)(g1 + CorrOffset)), d * *(Vector512<float>*)(g1 + ScaleOffset), acc[5]);
                    if (nt > 2) acc[6] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s12, ones) + *(Vector512<int>*)(g2 + CorrOffset)), d * *(Vector512<float>*)(g2 + ScaleOffset), acc[6]);
                    if (nt > 3) acc[7] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s13, ones) + *(Vector512<int>*)(g3 + CorrOffset)), d * *(Vector512<float>*)(g3 + ScaleOffset), acc[7]);
                }
                if (nr > 2)
                {
                    d = *(Vector512<float>*)(x2 + ScaleAt);
                    acc[8] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s20, ones) + *(Vector512<int>*)(g0 + CorrOffset)), d * *(Vector512<float>*)(g0 + ScaleOffset), acc[8]);
                    if (nt > 1) acc[9] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s21, ones) + *(Vector512<int>*)(g1 + CorrOffset)), d * *(Vector512<float>*)(g1 + ScaleOffset), acc[9]);
                    if (nt > 2) acc[10] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s22, ones) + *(Vector512<int>*)(g2 + CorrOffset)), d * *(Vector512<float>*)(g2 + ScaleOffset), acc[10]);
                    if (nt > 3) acc[11] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s23, ones) + *(Vector512<int>*)(g3 + CorrOffset)), d * *(Vector512<float>*)(g3 + ScaleOffset), acc[11]);
                }
                if (nr > 3)
                {
                    d = *(Vector512<float>*)(x3 + ScaleAt);
                    acc[12] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s30, ones) + *(Vector512<int>*)(g0 + CorrOffset)), d * *(Vector512<float>*)(g0 + ScaleOffset), acc[12]);
                    if (nt > 1) acc[13] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s31, ones) + *(Vector512<int>*)(g1 + CorrOffset)), d * *(Vector512<float>*)(g1 + ScaleOffset), acc[13]);
                    if (nt > 2) acc[14] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s32, ones) + *(Vector512<int>*)(g2 + CorrOffset)), d * *(Vector512<float>*)(g2 + ScaleOffset), acc[14]);
                    if (nt > 3) acc[15] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s33, ones) + *(Vector512<int>*)(g3 + CorrOffset)), d * *(Vector512<float>*)(g3 + ScaleOffset), acc[15]);
                }
            }
        }
    }

    /// <summary>The last group of at most 8 blocks of <see cref="TileQ4_0{TR, TT}"/> (group <paramref name="g"/>), on 256-bit halves.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void TileQ4_0Half<TR, TT>(byte* w, long rowBytes, byte* p, int ps, int g, Vector512<float>* acc)
        where TR : struct, ITileCount where TT : struct, ITileCount
    {
        const int ScaleAt = 512;
        int nr = TR.N, nt = TT.N;
        byte* w0 = w, w1 = nr > 1 ? w + rowBytes : w, w2 = nr > 2 ? w + 2 * rowBytes : w, w3 = nr > 3 ? w + 3 * rowBytes : w;
        byte* p0 = p, p1 = nt > 1 ? p0 + ps : p0, p2 = nt > 2 ? p0 + 2 * ps : p0, p3 = nt > 3 ? p0 + 3 * ps : p0;
        Vector256<short> ones = Vector256.Create((short)1);
        long wo = (long)g * 576, po = (long)g * GroupBytes;
        byte* x0 = w0 + wo, x1 = w1 + wo, x2 = w2 + wo, x3 = w3 + wo;
        byte* g0 = p0 + po, g1 = p1 + po, g2 = p2 + po, g3 = p3 + po;
        byte* q0 = g0 + TransOffset, q1 = g1 + TransOffset, q2 = g2 + TransOffset, q3 = g3 + TransOffset;
        Vector256<short> s00, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
        Vector256<short> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        Vector256<byte> v;
        v = *(Vector256<byte>*)(x0 + 0);
        s00 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 0));
        if (nt > 1) s01 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 0));
        if (nt > 2) s02 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 0));
        if (nt > 3) s03 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 0));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 0);
        s10 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 0));
        if (nt > 1) s11 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 0));
        if (nt > 2) s12 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 0));
        if (nt > 3) s13 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 0));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 0);
        s20 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 0));
        if (nt > 1) s21 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 0));
        if (nt > 2) s22 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 0));
        if (nt > 3) s23 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 0));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 0);
        s30 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 0));
        if (nt > 1) s31 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 0));
        if (nt > 2) s32 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 0));
        if (nt > 3) s33 = Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 0));
        }
        v = *(Vector256<byte>*)(x0 + 64);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 64));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 64));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 64));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 64));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 64);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 64));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 64));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 64));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 64));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 64);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 64));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 64));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 64));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 64));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 64);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 64));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 64));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 64));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 64));
        }
        v = *(Vector256<byte>*)(x0 + 128);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 128));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 128));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 128));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 128));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 128);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 128));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 128));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 128));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 128));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 128);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 128));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 128));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 128));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 128));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 128);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 128));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 128));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 128));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 128));
        }
        v = *(Vector256<byte>*)(x0 + 192);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 192));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 192));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 192));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 192));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 192);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 192));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 192));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 192));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 192));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 192);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 192));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 192));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 192));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 192));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 192);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 192));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 192));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 192));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 192));
        }
        v = *(Vector256<byte>*)(x0 + 256);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 256));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 256));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 256));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 256));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 256);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 256));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 256));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 256));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 256));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 256);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 256));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 256));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 256));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 256));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 256);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 256));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 256));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 256));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 256));
        }
        v = *(Vector256<byte>*)(x0 + 320);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 320));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 320));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 320));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 320));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 320);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 320));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 320));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 320));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 320));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 320);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 320));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 320));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 320));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 320));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 320);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 320));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 320));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 320));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 320));
        }
        v = *(Vector256<byte>*)(x0 + 384);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 384));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 384));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 384));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 384));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 384);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 384));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 384));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 384));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 384));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 384);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 384));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 384));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 384));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 384));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 384);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 384));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 384));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 384));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 384));
        }
        v = *(Vector256<byte>*)(x0 + 448);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 448));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 448));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 448));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 448));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 448);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 448));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 448));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 448));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 448));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 448);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 448));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 448));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 448));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 448));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 448);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q0 + 448));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q1 + 448));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q2 + 448));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v, *(Vector256<sbyte>*)(q3 + 448));
        }
        Vector256<float> d;
        d = *(Vector256<float>*)(x0 + ScaleAt);
        acc[0] = acc[0].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s00, ones) + *(Vector256<int>*)(g0 + CorrOffset)), d * *(Vector256<float>*)(g0 + ScaleOffset), acc[0].GetLower()));
        if (nt > 1) acc[1] = acc[1].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s01, ones) + *(Vector256<int>*)(g1 + CorrOffset)), d * *(Vector256<float>*)(g1 + ScaleOffset), acc[1].GetLower()));
        if (nt > 2) acc[2] = acc[2].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s02, ones) + *(Vector256<int>*)(g2 + CorrOffset)), d * *(Vector256<float>*)(g2 + ScaleOffset), acc[2].GetLower()));
        if (nt > 3) acc[3] = acc[3].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s03, ones) + *(Vector256<int>*)(g3 + CorrOffset)), d * *(Vector256<float>*)(g3 + ScaleOffset), acc[3].GetLower()));
        if (nr > 1)
        {
        d = *(Vector256<float>*)(x1 + ScaleAt);
        acc[4] = acc[4].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s10, ones) + *(Vector256<int>*)(g0 + CorrOffset)), d * *(Vector256<float>*)(g0 + ScaleOffset), acc[4].GetLower()));
        if (nt > 1) acc[5] = acc[5].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s11, ones) + *(Vector256<int>*)(g1 + CorrOffset)), d * *(Vector256<float>*)(g1 + ScaleOffset), acc[5].GetLower()));
        if (nt > 2) acc[6] = acc[6].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s12, ones) + *(Vector256<int>*)(g2 + CorrOffset)), d * *(Vector256<float>*)(g2 + ScaleOffset), acc[6].GetLower()));
        if (nt > 3) acc[7] = acc[7].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s13, ones) + *(Vector256<int>*)(g3 + CorrOffset)), d * *(Vector256<float>*)(g3 + ScaleOffset), acc[7].GetLower()));
        }
        if (nr > 2)
        {
        d = *(Vector256<float>*)(x2 + ScaleAt);
        acc[8] = acc[8].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s20, ones) + *(Vector256<int>*)(g0 + CorrOffset)), d * *(Vector256<float>*)(g0 + ScaleOffset), acc[8].GetLower()));
        if (nt > 1) acc[9] = acc[9].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s21, ones) + *(Vector256<int>*)(g1 + CorrOffset)), d * *(Vector256<float>*)(g1 + ScaleOffset), acc[9].GetLower()));
        if (nt > 2) acc[10] = acc[10].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s22, ones) + *(Vector256<int>*)(g2 + CorrOffset)), d * *(Vector256<float>*)(g2 + ScaleOffset), acc[10].GetLower()));
        if (nt > 3) acc[11] = acc[11].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s23, ones) + *(Vector256<int>*)(g3 + CorrOffset)), d * *(Vector256<float>*)(g3 + ScaleOffset), acc[11].GetLower()));
        }
        if (nr > 3)
        {
        d = *(Vector256<float>*)(x3 + ScaleAt);
        acc[12] = acc[12].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s30, ones) + *(Vector256<int>*)(g0 + CorrOffset)), d * *(Vector256<float>*)(g0 + ScaleOffset), acc[12].GetLower()));
        if (nt > 1) acc[13] = acc[13].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s31, ones) + *(Vector256<int>*)(g1 + CorrOffset)), d * *(Vector256<float>*)(g1 + ScaleOffset), acc[13].GetLower()));
        if (nt > 2) acc[14] = acc[14].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s32, ones) + *(Vector256<int>*)(g2 + CorrOffset)), d * *(Vector256<float>*)(g2 + ScaleOffset), acc[14].GetLower()));
        if (nt > 3) acc[15] = acc[15].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s33, ones) + *(Vector256<int>*)(g3 + CorrOffset)), d * *(Vector256<float>*)(g3 + ScaleOffset), acc[15].GetLower()));
        }
    }

    /// <summary>TR.N transposed Q8_0 rows (stride <paramref name="rowBytes"/>) x TT.N panels (stride
    /// <paramref name="ps"/>): <paramref name="ng"/> whole groups into acc[row·4 + token]. Each group
    /// is unrolled: its integer block sums are temporaries (int16 x int16 pairs added in 32 bits),
    /// only the fp32 accumulators carry across groups. Each chunk also prefetches the same chunk of the next group of
    /// its panels (a group, ~16 x 22 cycles, ahead): at m = 512, 1 thread, in-process A/B, 2048 x 2048 0.953 of the time
    /// (0.917..0.965), 8192 x 2048 0.958, 2048 x 8192 (column spans) ~0.85; two groups ahead, or the next token tile's
    /// panels, gained less.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void TileQ8_0<TR, TT>(byte* w, long rowBytes, byte* p, int ps, int ng, Vector512<float>* acc)
        where TR : struct, ITileCount where TT : struct, ITileCount
    {
        const int ScaleAt = 1024;
        int nr = TR.N, nt = TT.N;
        byte* w0 = w, w1 = nr > 1 ? w + rowBytes : w, w2 = nr > 2 ? w + 2 * rowBytes : w, w3 = nr > 3 ? w + 3 * rowBytes : w;
        byte* p0 = p, p1 = nt > 1 ? p0 + ps : p0, p2 = nt > 2 ? p0 + 2 * ps : p0, p3 = nt > 3 ? p0 + 3 * ps : p0;
        int g = 0;
        {
            Vector512<short> ones = Vector512.Create((short)1);
            for (; g < ng; g++)
            {
                long wo = (long)g * 1088, po = (long)g * GroupBytes;
                byte* x0 = w0 + wo, x1 = w1 + wo, x2 = w2 + wo, x3 = w3 + wo;
                byte* g0 = p0 + po, g1 = p1 + po, g2 = p2 + po, g3 = p3 + po;
                byte* q0 = g0 + TransOffset, q1 = g1 + TransOffset, q2 = g2 + TransOffset, q3 = g3 + TransOffset;
                Vector512<int> s00, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
                Vector512<int> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
                Vector512<byte> v;
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 0);
                v = *(Vector512<byte>*)(x0 + 0);
                s00 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 0));
                if (nt > 1) s01 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 0));
                if (nt > 2) s02 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 0));
                if (nt > 3) s03 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 0));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 0);
                    s10 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 0));
                    if (nt > 1) s11 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 0));
                    if (nt > 2) s12 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 0));
                    if (nt > 3) s13 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 0));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 0);
                    s20 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 0));
                    if (nt > 1) s21 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 0));
                    if (nt > 2) s22 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 0));
                    if (nt > 3) s23 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 0));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 0);
                    s30 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 0));
                    if (nt > 1) s31 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 0));
                    if (nt > 2) s32 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 0));
                    if (nt > 3) s33 = Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 0));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 64);
                v = *(Vector512<byte>*)(x0 + 64);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 64));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 64));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 64));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 64));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 64);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 64));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 64));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 64));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 64));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 64);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 64));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 64));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 64));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 64));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 64);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 64));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 64));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 64));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 64));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 128);
                v = *(Vector512<byte>*)(x0 + 128);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 128));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 128));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 128));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 128));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 128);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 128));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 128));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 128));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 128));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 128);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 128));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 128));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 128));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 128));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 128);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 128));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 128));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 128));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 128));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 192);
                v = *(Vector512<byte>*)(x0 + 192);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 192));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 192));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 192));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 192));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 192);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 192));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 192));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 192));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 192));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 192);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 192));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 192));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 192));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 192));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 192);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 192));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 192));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 192));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 192));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 256);
                v = *(Vector512<byte>*)(x0 + 256);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 256));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 256));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 256));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 256));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 256);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 256));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 256));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 256));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 256));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 256);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 256));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 256));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 256));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 256));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 256);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 256));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 256));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 256));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 256));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 320);
                v = *(Vector512<byte>*)(x0 + 320);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 320));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 320));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 320));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 320));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 320);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 320));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 320));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 320));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 320));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 320);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 320));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 320));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 320));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 320));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 320);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 320));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 320));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 320));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 320));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 384);
                v = *(Vector512<byte>*)(x0 + 384);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 384));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 384));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 384));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 384));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 384);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 384));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 384));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 384));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 384));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 384);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 384));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 384));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 384));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 384));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 384);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 384));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 384));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 384));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 384));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 448);
                v = *(Vector512<byte>*)(x0 + 448);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 448));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 448));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 448));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 448));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 448);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 448));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 448));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 448));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 448));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 448);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 448));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 448));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 448));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 448));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 448);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 448));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 448));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 448));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 448));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 512);
                v = *(Vector512<byte>*)(x0 + 512);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 512));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 512));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 512));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 512));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 512);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 512));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 512));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 512));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 512));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 512);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 512));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 512));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 512));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 512));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 512);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 512));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 512));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 512));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 512));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 576);
                v = *(Vector512<byte>*)(x0 + 576);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 576));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 576));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 576));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 576));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 576);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 576));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 576));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 576));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 576));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 576);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 576));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 576));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 576));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 576));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 576);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 576));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 576));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 576));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 576));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 640);
                v = *(Vector512<byte>*)(x0 + 640);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 640));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 640));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 640));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 640));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 640);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 640));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 640));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 640));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 640));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 640);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 640));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 640));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 640));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 640));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 640);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 640));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 640));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 640));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 640));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 704);
                v = *(Vector512<byte>*)(x0 + 704);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 704));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 704));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 704));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 704));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 704);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 704));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 704));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 704));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 704));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 704);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 704));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 704));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 704));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 704));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 704);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 704));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 704));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 704));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 704));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 768);
                v = *(Vector512<byte>*)(x0 + 768);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 768));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 768));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 768));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 768));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 768);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 768));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 768));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 768));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 768));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 768);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 768));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 768));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 768));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 768));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 768);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 768));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 768));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 768));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 768));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 832);
                v = *(Vector512<byte>*)(x0 + 832);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 832));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 832));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 832));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 832));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 832);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 832));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 832));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 832));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 832));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 832);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 832));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 832));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 832));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 832));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 832);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 832));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 832));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 832));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 832));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 896);
                v = *(Vector512<byte>*)(x0 + 896);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 896));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 896));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 896));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 896));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 896);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 896));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 896));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 896));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 896));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 896);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 896));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 896));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 896));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 896));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 896);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 896));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 896));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 896));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 896));
                }
                PrefetchNextGroup<TT>(q0, q1, q2, q3, 960);
                v = *(Vector512<byte>*)(x0 + 960);
                s00 = s00 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 960));
                if (nt > 1) s01 = s01 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 960));
                if (nt > 2) s02 = s02 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 960));
                if (nt > 3) s03 = s03 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 960));
                if (nr > 1)
                {
                    v = *(Vector512<byte>*)(x1 + 960);
                    s10 = s10 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 960));
                    if (nt > 1) s11 = s11 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 960));
                    if (nt > 2) s12 = s12 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 960));
                    if (nt > 3) s13 = s13 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 960));
                }
                if (nr > 2)
                {
                    v = *(Vector512<byte>*)(x2 + 960);
                    s20 = s20 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 960));
                    if (nt > 1) s21 = s21 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 960));
                    if (nt > 2) s22 = s22 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 960));
                    if (nt > 3) s23 = s23 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 960));
                }
                if (nr > 3)
                {
                    v = *(Vector512<byte>*)(x3 + 960);
                    s30 = s30 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q0 + 960));
                    if (nt > 1) s31 = s31 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q1 + 960));
                    if (nt > 2) s32 = s32 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q2 + 960));
                    if (nt > 3) s33 = s33 + Avx512BW.MultiplyAddAdjacent(v.AsInt16(), *(Vector512<short>*)(q3 + 960));
                }
                Vector512<float> d;
                d = *(Vector512<float>*)(x0 + ScaleAt);
                acc[0] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s00), d * *(Vector512<float>*)(g0 + ScaleOffset), acc[0]);
                if (nt > 1) acc[1] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s01), d * *(Vector512<float>*)(g1 + ScaleOffset), acc[1]);
                if (nt > 2) acc[2] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s02), d * *(Vector512<float>*)(g2 + ScaleOffset), acc[2]);
                if (nt > 3) acc[3] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s03), d * *(Vector512<float>*)(g3 + ScaleOffset), acc[3]);
                if (nr > 1)
                {
                    d = *(Vector512<float>*)(x1 + ScaleAt);
                    acc[4] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s10), d * *(Vector512<float>*)(g0 + ScaleOffset), acc[4]);
                    if (nt > 1) acc[5] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s11), d * *(Vector512<float>*)(g1 + ScaleOffset), acc[5]);
                    if (nt > 2) acc[6] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s12), d * *(Vector512<float>*)(g2 + ScaleOffset), acc[6]);
                    if (nt > 3) acc[7] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s13), d * *(Vector512<float>*)(g3 + ScaleOffset), acc[7]);
                }
                if (nr > 2)
                {
                    d = *(Vector512<float>*)(x2 + ScaleAt);
                    acc[8] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s20), d * *(Vector512<float>*)(g0 + ScaleOffset), acc[8]);
                    if (nt > 1) acc[9] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s21), d * *(Vector512<float>*)(g1 + ScaleOffset), acc[9]);
                    if (nt > 2) acc[10] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s22), d * *(Vector512<float>*)(g2 + ScaleOffset), acc[10]);
                    if (nt > 3) acc[11] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s23), d * *(Vector512<float>*)(g3 + ScaleOffset), acc[11]);
                }
                if (nr > 3)
                {
                    d = *(Vector512<float>*)(x3 + ScaleAt);
                    acc[12] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s30), d * *(Vector512<float>*)(g0 + ScaleOffset), acc[12]);
                    if (nt > 1) acc[13] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s31), d * *(Vector512<float>*)(g1 + ScaleOffset), acc[13]);
                    if (nt > 2) acc[14] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s32), d * *(Vector512<float>*)(g2 + ScaleOffset), acc[14]);
                    if (nt > 3) acc[15] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s33), d * *(Vector512<float>*)(g3 + ScaleOffset), acc[15]);
                }
            }
        }
    }

    /// <summary>Prefetches byte <paramref name="off"/> of the next group of the TT.N panels' groups at q0..q3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchNextGroup<TT>(byte* q0, byte* q1, byte* q2, byte* q3, int off) where TT : struct, ITileCount
    {
        Sse.Prefetch0(q0 + GroupBytes + off);
        if (TT.N > 1) Sse.Prefetch0(q1 + GroupBytes + off);
        if (TT.N > 2) Sse.Prefetch0(q2 + GroupBytes + off);
        if (TT.N > 3) Sse.Prefetch0(q3 + GroupBytes + off);
    }

    /// <summary>The last group of at most 8 blocks of <see cref="TileQ8_0{TR, TT}"/> (group <paramref name="g"/>), on 256-bit halves.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void TileQ8_0Half<TR, TT>(byte* w, long rowBytes, byte* p, int ps, int g, Vector512<float>* acc)
        where TR : struct, ITileCount where TT : struct, ITileCount
    {
        const int ScaleAt = 1024;
        int nr = TR.N, nt = TT.N;
        byte* w0 = w, w1 = nr > 1 ? w + rowBytes : w, w2 = nr > 2 ? w + 2 * rowBytes : w, w3 = nr > 3 ? w + 3 * rowBytes : w;
        byte* p0 = p, p1 = nt > 1 ? p0 + ps : p0, p2 = nt > 2 ? p0 + 2 * ps : p0, p3 = nt > 3 ? p0 + 3 * ps : p0;
        Vector256<short> ones = Vector256.Create((short)1);
        long wo = (long)g * 1088, po = (long)g * GroupBytes;
        byte* x0 = w0 + wo, x1 = w1 + wo, x2 = w2 + wo, x3 = w3 + wo;
        byte* g0 = p0 + po, g1 = p1 + po, g2 = p2 + po, g3 = p3 + po;
        byte* q0 = g0 + TransOffset, q1 = g1 + TransOffset, q2 = g2 + TransOffset, q3 = g3 + TransOffset;
        Vector256<int> s00, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
        Vector256<int> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        Vector256<byte> v;
        v = *(Vector256<byte>*)(x0 + 0);
        s00 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 0));
        if (nt > 1) s01 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 0));
        if (nt > 2) s02 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 0));
        if (nt > 3) s03 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 0));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 0);
        s10 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 0));
        if (nt > 1) s11 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 0));
        if (nt > 2) s12 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 0));
        if (nt > 3) s13 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 0));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 0);
        s20 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 0));
        if (nt > 1) s21 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 0));
        if (nt > 2) s22 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 0));
        if (nt > 3) s23 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 0));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 0);
        s30 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 0));
        if (nt > 1) s31 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 0));
        if (nt > 2) s32 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 0));
        if (nt > 3) s33 = Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 0));
        }
        v = *(Vector256<byte>*)(x0 + 64);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 64));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 64));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 64));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 64));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 64);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 64));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 64));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 64));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 64));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 64);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 64));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 64));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 64));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 64));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 64);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 64));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 64));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 64));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 64));
        }
        v = *(Vector256<byte>*)(x0 + 128);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 128));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 128));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 128));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 128));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 128);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 128));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 128));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 128));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 128));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 128);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 128));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 128));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 128));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 128));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 128);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 128));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 128));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 128));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 128));
        }
        v = *(Vector256<byte>*)(x0 + 192);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 192));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 192));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 192));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 192));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 192);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 192));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 192));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 192));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 192));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 192);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 192));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 192));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 192));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 192));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 192);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 192));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 192));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 192));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 192));
        }
        v = *(Vector256<byte>*)(x0 + 256);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 256));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 256));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 256));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 256));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 256);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 256));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 256));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 256));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 256));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 256);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 256));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 256));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 256));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 256));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 256);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 256));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 256));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 256));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 256));
        }
        v = *(Vector256<byte>*)(x0 + 320);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 320));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 320));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 320));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 320));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 320);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 320));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 320));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 320));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 320));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 320);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 320));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 320));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 320));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 320));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 320);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 320));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 320));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 320));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 320));
        }
        v = *(Vector256<byte>*)(x0 + 384);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 384));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 384));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 384));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 384));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 384);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 384));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 384));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 384));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 384));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 384);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 384));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 384));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 384));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 384));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 384);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 384));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 384));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 384));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 384));
        }
        v = *(Vector256<byte>*)(x0 + 448);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 448));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 448));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 448));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 448));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 448);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 448));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 448));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 448));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 448));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 448);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 448));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 448));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 448));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 448));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 448);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 448));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 448));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 448));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 448));
        }
        v = *(Vector256<byte>*)(x0 + 512);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 512));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 512));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 512));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 512));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 512);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 512));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 512));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 512));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 512));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 512);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 512));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 512));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 512));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 512));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 512);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 512));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 512));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 512));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 512));
        }
        v = *(Vector256<byte>*)(x0 + 576);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 576));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 576));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 576));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 576));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 576);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 576));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 576));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 576));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 576));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 576);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 576));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 576));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 576));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 576));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 576);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 576));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 576));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 576));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 576));
        }
        v = *(Vector256<byte>*)(x0 + 640);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 640));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 640));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 640));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 640));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 640);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 640));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 640));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 640));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 640));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 640);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 640));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 640));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 640));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 640));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 640);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 640));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 640));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 640));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 640));
        }
        v = *(Vector256<byte>*)(x0 + 704);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 704));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 704));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 704));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 704));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 704);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 704));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 704));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 704));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 704));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 704);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 704));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 704));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 704));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 704));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 704);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 704));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 704));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 704));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 704));
        }
        v = *(Vector256<byte>*)(x0 + 768);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 768));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 768));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 768));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 768));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 768);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 768));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 768));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 768));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 768));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 768);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 768));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 768));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 768));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 768));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 768);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 768));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 768));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 768));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 768));
        }
        v = *(Vector256<byte>*)(x0 + 832);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 832));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 832));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 832));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 832));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 832);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 832));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 832));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 832));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 832));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 832);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 832));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 832));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 832));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 832));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 832);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 832));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 832));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 832));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 832));
        }
        v = *(Vector256<byte>*)(x0 + 896);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 896));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 896));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 896));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 896));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 896);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 896));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 896));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 896));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 896));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 896);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 896));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 896));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 896));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 896));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 896);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 896));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 896));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 896));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 896));
        }
        v = *(Vector256<byte>*)(x0 + 960);
        s00 = s00 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 960));
        if (nt > 1) s01 = s01 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 960));
        if (nt > 2) s02 = s02 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 960));
        if (nt > 3) s03 = s03 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 960));
        if (nr > 1)
        {
        v = *(Vector256<byte>*)(x1 + 960);
        s10 = s10 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 960));
        if (nt > 1) s11 = s11 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 960));
        if (nt > 2) s12 = s12 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 960));
        if (nt > 3) s13 = s13 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 960));
        }
        if (nr > 2)
        {
        v = *(Vector256<byte>*)(x2 + 960);
        s20 = s20 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 960));
        if (nt > 1) s21 = s21 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 960));
        if (nt > 2) s22 = s22 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 960));
        if (nt > 3) s23 = s23 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 960));
        }
        if (nr > 3)
        {
        v = *(Vector256<byte>*)(x3 + 960);
        s30 = s30 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q0 + 960));
        if (nt > 1) s31 = s31 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q1 + 960));
        if (nt > 2) s32 = s32 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q2 + 960));
        if (nt > 3) s33 = s33 + Avx2.MultiplyAddAdjacent(v.AsInt16(), *(Vector256<short>*)(q3 + 960));
        }
        Vector256<float> d;
        d = *(Vector256<float>*)(x0 + ScaleAt);
        acc[0] = acc[0].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s00), d * *(Vector256<float>*)(g0 + ScaleOffset), acc[0].GetLower()));
        if (nt > 1) acc[1] = acc[1].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s01), d * *(Vector256<float>*)(g1 + ScaleOffset), acc[1].GetLower()));
        if (nt > 2) acc[2] = acc[2].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s02), d * *(Vector256<float>*)(g2 + ScaleOffset), acc[2].GetLower()));
        if (nt > 3) acc[3] = acc[3].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s03), d * *(Vector256<float>*)(g3 + ScaleOffset), acc[3].GetLower()));
        if (nr > 1)
        {
        d = *(Vector256<float>*)(x1 + ScaleAt);
        acc[4] = acc[4].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s10), d * *(Vector256<float>*)(g0 + ScaleOffset), acc[4].GetLower()));
        if (nt > 1) acc[5] = acc[5].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s11), d * *(Vector256<float>*)(g1 + ScaleOffset), acc[5].GetLower()));
        if (nt > 2) acc[6] = acc[6].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s12), d * *(Vector256<float>*)(g2 + ScaleOffset), acc[6].GetLower()));
        if (nt > 3) acc[7] = acc[7].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s13), d * *(Vector256<float>*)(g3 + ScaleOffset), acc[7].GetLower()));
        }
        if (nr > 2)
        {
        d = *(Vector256<float>*)(x2 + ScaleAt);
        acc[8] = acc[8].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s20), d * *(Vector256<float>*)(g0 + ScaleOffset), acc[8].GetLower()));
        if (nt > 1) acc[9] = acc[9].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s21), d * *(Vector256<float>*)(g1 + ScaleOffset), acc[9].GetLower()));
        if (nt > 2) acc[10] = acc[10].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s22), d * *(Vector256<float>*)(g2 + ScaleOffset), acc[10].GetLower()));
        if (nt > 3) acc[11] = acc[11].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s23), d * *(Vector256<float>*)(g3 + ScaleOffset), acc[11].GetLower()));
        }
        if (nr > 3)
        {
        d = *(Vector256<float>*)(x3 + ScaleAt);
        acc[12] = acc[12].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s30), d * *(Vector256<float>*)(g0 + ScaleOffset), acc[12].GetLower()));
        if (nt > 1) acc[13] = acc[13].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s31), d * *(Vector256<float>*)(g1 + ScaleOffset), acc[13].GetLower()));
        if (nt > 2) acc[14] = acc[14].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s32), d * *(Vector256<float>*)(g2 + ScaleOffset), acc[14].GetLower()));
        if (nt > 3) acc[15] = acc[15].WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s33), d * *(Vector256<float>*)(g3 + ScaleOffset), acc[15].GetLower()));
        }
    }
}
