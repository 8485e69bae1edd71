using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>The few-token (2 ≤ m ≤ <see cref="DirectTokens"/>: a serving step of a few streams) 512-bit part of
/// <see cref="Q8Gemm"/>: the same arithmetic as every other path.</summary>
internal static unsafe partial class Q8Gemm
{
    /// <summary>Most tokens that take <see cref="GemvMulti512{TW}"/> (from 2; more take the tiles). Only tests and benchmarks
    /// change it (to compare the two paths at the same token count); read once per <see cref="Rows"/> call.</summary>
    internal static int DirectTokens = DirectTokensDefault;

    /// <summary>The crossover measured on Zen 4 (docs/perf-notes/2026-11-27-smallm.md): 1 thread, weights hot or from DRAM,
    /// rows of 768 to 8192 columns, both formats, the direct path was 1.01-2.4x the tiles' speed at 2..12 tokens and
    /// 1.02-1.3x at 16; end to end, a 16-stream decode step of the 160M Q4_0 model took 19.3 / 17.5 / 18.3 ms direct
    /// against 24.3 / 19.7 / 21.1 ms on the tiles (alternating builds, quiet machine), so up to 16 tokens go direct.</summary>
    internal const int DirectTokensDefault = 16;

    /// <summary>Most tokens <see cref="GemvMulti512{TW}"/> takes (its accumulators' stack room).</summary>
    internal const int DirectTokensMax = 16;

    /// <summary>Most tokens that take <see cref="GemvGroups512{TW}"/> on any shape (<see cref="GroupedTokensFor{TW}"/> picks
    /// per shape); only tests and benchmarks change it (16: the tiles past <see cref="DirectTokens"/>).</summary>
    internal static int GroupedTokens = 64;

    /// <summary>Most tokens that take <see cref="GemvGroups512{TW}"/> for rows of nb blocks, measured on Zen 4 (1 thread,
    /// the 160M and 1B shapes, docs/perf-notes m17): Q4_0 rows of up to 768 columns ran faster in groups at every m to 64
    /// (1.05-1.45x hot and from DRAM); longer rows at 17-24 from DRAM (1.03-1.1x; with the weights in cache 0.94-1.07x),
    /// from 32 the tiles matched or won; Q8_0 rows of 2048 to 8192 columns at 17-32 from DRAM (1.0-1.2x; cached
    /// 0.97-1.2x), at 40 mixed; Q8_0 rows of 768 columns gained nothing past noise, so they keep the tiles.</summary>
    private static int GroupedTokensFor<TW>(int nb) where TW : struct, IGemmWeight =>
        Math.Min(GroupedTokens, TW.Nibble ? (nb <= Group + Group / 2 ? 64 : 24) : (nb <= Group + Group / 2 ? DirectTokensMax : 32));

    /// <summary>
    /// Y[t, r] for rows [r0, r1) and m tokens past <see cref="DirectTokensMax"/>: <see cref="GemvMulti512{TW}"/> over the
    /// tokens in groups of at most <see cref="DirectTokensMax"/>, sizes as even as they go (the direct path's rate rises
    /// with its tokens, so the smallest group is made as large as it can be), so the row range's weights stream in once for
    /// the first group and come from cache for the others. Each output is the direct path's, so the bits are every path's.
    /// </summary>
    internal static void GemvGroups512<TW>(byte* w, long rowBytes, int r0, int r1, byte* panels, int panelStride, int m, int nb,
        float* y, int yStride) where TW : struct, IGemmWeight
    {
        int groups = (m + DirectTokensMax - 1) / DirectTokensMax;
        for (int i = 0, t0 = 0; i < groups; i++)
        {
            int t1 = (int)((long)m * (i + 1) / groups);
            GemvMulti512<TW>(w, rowBytes, r0, r1, panels + (long)t0 * panelStride, panelStride, t1 - t0, nb, y + (long)t0 * yStride, yStride);
            t0 = t1;
        }
    }

    // ------------------------------------------------------------------ 512-bit, a few tokens

    /// <summary>
    /// Y[t, r] for rows [r0, r1) and tokens [0, m) (2 ≤ m ≤ <see cref="DirectTokensMax"/>) straight from the packed weight
    /// rows, one row or <see cref="BlockRows"/> rows group by group at a time: each group of 16 blocks is transposed once
    /// in registers exactly as <see cref="Decode512{TW}"/> writes it (chunk k lane p = codes 4k..4k+3 of block <see cref="BlockOf"/>(p)), then for
    /// every token one multiply-add per chunk against the panel's transposed codes gives the 16 block sums in lane order
    /// (no per-token reduction, no decode buffer), and one fma per group takes them into the token's accumulator. The
    /// decode is shared by the m tokens while the weights stream in once, each group prefetching the same group of the
    /// row 4 ahead (one row at a time) or a block ahead (into L1 while that is at most <see cref="L1PrefetchTile"/> bytes,
    /// else L2). The two-group and block loops reduce the accumulators of <see cref="PairRows"/> rows together at the end
    /// (<see cref="StorePairRows"/>).
    /// </summary>
    internal static void GemvMulti512<TW>(byte* w, long rowBytes, int r0, int r1, byte* panels, int panelStride, int m, int nb,
        float* y, int yStride) where TW : struct, IGemmWeight
    {
        if (m > DirectTokensMax) throw new ArgumentOutOfRangeException(nameof(m));
        bool rows = BlockRowsFor<TW>(m, nb) == 1, l1 = (rows ? 4 : BlockRows) * rowBytes <= L1PrefetchTile;
        if (TW.Nibble && QuadNibbles && (nb == Group + Group / 2 || nb == 2 * Group))
        {
            if (l1) TwoGroupsQ4_0<L1>(w, rowBytes, r0, r1, panels, panelStride, m, nb, y, yStride);
            else TwoGroupsQ4_0<L2>(w, rowBytes, r0, r1, panels, panelStride, m, nb, y, yStride);
        }
        else if (rows && l1) DirectRows<TW, L1>(w, rowBytes, r0, r1, panels, panelStride, m, nb, y, yStride);
        else if (rows) DirectRows<TW, L2>(w, rowBytes, r0, r1, panels, panelStride, m, nb, y, yStride);
        else if (l1) DirectBlocks<TW, L1>(w, rowBytes, r0, r1, panels, panelStride, m, nb, y, yStride);
        else DirectBlocks<TW, L2>(w, rowBytes, r0, r1, panels, panelStride, m, nb, y, yStride);
    }

    /// <summary>One row at a time (a row's share of the panels fits L1): its groups in order, the next row 4 ahead
    /// prefetched group by group. (Blocks of 8 rows through <see cref="StorePairRows"/> measured 0.8x here at 4 tokens
    /// on 3072 columns, the shape this loop serves in the 160M model.)</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DirectRows<TW, TP>(byte* w, long rowBytes, int r0, int r1, byte* panels, int panelStride, int m, int nb,
        float* y, int yStride) where TW : struct, IGemmWeight where TP : struct, IPrefetch
    {
        Vector512<float>* acc = stackalloc Vector512<float>[DirectTokensMax];   // [token]
        float* table = stackalloc float[16];
        Vector512<ushort> shifts = Shifts512();
        Vector512<int> order = LaneOrder();
        int wideLoads = WideLoads<TW>(nb), groupBytes = Group * TW.Bytes;
        for (int r = r0; r < r1; r++)
        {
            byte* wr = w + r * rowBytes;
            for (int t = 0; t < m; t++) acc[t] = default;
            for (int g = 0; g < nb; g += Group)
            {
                byte* wg = wr + (long)g * TW.Bytes;
                for (int o = 0; o < groupBytes; o += 64) TP.Fetch(wg + 4 * rowBytes + o);
                DirectGroup<TW>(wg, nb - g, wideLoads - (g >> 1), g > 0, panels + (nint)(g / Group) * GroupBytes, panelStride, m, acc, 1, table, shifts, order);
            }
            for (int t = 0; t < m; t++) y[(long)t * yStride + r] = Reduce512(acc[t]);
        }
    }

    /// <summary><see cref="BlockRows"/> rows group by group (a row's share of the panels outgrows L1, a group's stays):
    /// each group prefetches the same group of the next block's row.</summary>
    [MethodImpl(MethodImplOptions.NoInlining), SkipLocalsInit]   // acc: 8 KB, written before it is read (lanes of a missing pair token are dropped)
    private static void DirectBlocks<TW, TP>(byte* w, long rowBytes, int r0, int r1, byte* panels, int panelStride, int m, int nb,
        float* y, int yStride) where TW : struct, IGemmWeight where TP : struct, IPrefetch
    {
        Vector512<float>* acc = stackalloc Vector512<float>[BlockRows * DirectTokensMax];   // PairSlot layout (BlockRows = PairRows)
        float* table = stackalloc float[16];
        Vector512<ushort> shifts = Shifts512();
        Vector512<int> order = LaneOrder();
        int wideLoads = WideLoads<TW>(nb), groupBytes = Group * TW.Bytes;
        long ahead = BlockRows * rowBytes;
        for (int rs = r0; rs < r1; rs += BlockRows)
        {
            int re = Math.Min(r1, rs + BlockRows);
            for (int i = 0; i < PairRows * m; i++) acc[i] = default;
            for (int g = 0; g < nb; g += Group)
            {
                byte* pg = panels + (nint)(g / Group) * GroupBytes;
                for (int r = rs; r < re; r++)
                {
                    byte* wg = w + r * rowBytes + (long)g * TW.Bytes;
                    for (int o = 0; o < groupBytes; o += 64) TP.Fetch(wg + ahead + o);
                    DirectGroup<TW>(wg, nb - g, wideLoads - (g >> 1), g > 0, pg, panelStride, m, acc + (r - rs), PairRows, table, shifts, order);
                }
            }
            StorePairRows(acc, m, re - rs, y + rs, yStride);
        }
    }

    /// <summary>One group (<paramref name="left"/> blocks from <paramref name="wg"/> on, at most 16 taken; pairs before
    /// <paramref name="wide"/> may be read with 64-byte loads; <paramref name="notFirst"/>: the row's bytes before it may
    /// be read) of one row into the accumulators <paramref name="acc"/>[t · <paramref name="stride"/>] of the m tokens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DirectGroup<TW>(byte* wg, int left, int wide, bool notFirst, byte* pg, int ps, int m, Vector512<float>* acc, int stride,
        float* table, Vector512<ushort> shifts, Vector512<int> order) where TW : struct, IGemmWeight
    {
        // a last group of exactly 8 blocks after a full one (768 columns = 16 + 8 blocks) also takes the quad path
        bool half = left == 8 && notFirst;
        if (TW.Nibble && (left >= Group || half) && QuadNibbles)
        {
            QuadChunks(wg, half, out var n0, out var n1, out var n2, out var n3, out var n4, out var n5, out var n6, out var n7);
            Vector512<float> d = QuadScales(wg, left, half, table);
            if (half) DirectQ4_0Half(n0, n1, n2, n3, n4, n5, n6, n7, d, pg, ps, m, acc, stride);
            else DirectQ4_0(n0, n1, n2, n3, n4, n5, n6, n7, d, pg, ps, m, acc, stride);
            return;
        }
        Transpose8(Codes<TW>(wg, 0, left, wide, shifts), Codes<TW>(wg, 1, left, wide, shifts), Codes<TW>(wg, 2, left, wide, shifts),
            Codes<TW>(wg, 3, left, wide, shifts), Codes<TW>(wg, 4, left, wide, shifts), Codes<TW>(wg, 5, left, wide, shifts),
            Codes<TW>(wg, 6, left, wide, shifts), Codes<TW>(wg, 7, left, wide, shifts),
            out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
        Vector512<float> dw = Avx512F.PermuteVar16x32(GroupScales<TW>(wg, left, table), order);
        // at most 8 blocks fill lanes 0..7 only (LaneOf(i) < 8 for i < 8): Q4_0 takes the 256-bit halves, since lanes
        // 8..15 would only add exact zeros (the accumulators never hold −0); Q8_0 adds those zeros (a 256-bit twin of its
        // loop measured 3-10% faster on 768 columns only)
        if (TW.Nibble && left <= Group / 2) DirectQ4_0Half(c0, c1, c2, c3, c4, c5, c6, c7, dw, pg, ps, m, acc, stride);
        else if (TW.Nibble) DirectQ4_0(c0, c1, c2, c3, c4, c5, c6, c7, dw, pg, ps, m, acc, stride);
        else DirectQ8_0(c0, c1, c2, c3, c4, c5, c6, c7, dw, pg, ps, m, acc, stride);
    }

    /// <summary>Tokens from which <see cref="StorePairRows"/> reduces token pairs of 8 rows at once (below, each accumulator
    /// on its own: at 4 tokens that measured faster than reducing all 16 at once; 768 x 768 Q4_0 at 8 and 16 tokens runs
    /// ~1.2x as fast as with a <see cref="Reduce512"/> per row and token, docs/perf-notes/2026-11-27-gemm16.md).</summary>
    private const int ReduceAllFrom = 8;

    /// <summary>Rows that sweep the groups together (group by group), so each group of the m panels is read from L1 by
    /// all of them, once the parts of the panels a row reads outgrow <see cref="PanelL1Bytes"/> (Q4_0 640 bytes per group
    /// and token, Q8_0 1152: from a few thousand columns); else one row at a time, whose weights stream in order (768
    /// columns: one row at a time measured 1.05-1.3x faster from DRAM).</summary>
    private const int BlockRows = 8;

    private const long PanelL1Bytes = 16384;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BlockRowsFor<TW>(int m, int nb) where TW : struct, IGemmWeight =>
        (long)m * ((nb + Group - 1) / Group) * (TW.Nibble ? 640 : 1152) <= PanelL1Bytes ? 1 : BlockRows;

    /// <summary>d_w of a Q4_0 group that <see cref="QuadChunks"/> takes, in lane order, exact: widened in registers from
    /// the fp16 bits (<see cref="QuadScaleBits"/>, as <see cref="HalfToSingle"/>) unless the group is a half one or holds an
    /// inf/NaN pattern (then the table).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> QuadScales(byte* wg, int left, bool half, float* table)
    {
        Vector512<int> hs = half ? default : QuadScaleBits(wg);
        return !half && !Vector512.EqualsAny(hs & Vector512.Create(0x7C000000), Vector512.Create(0x7C000000))
            ? (Vector512.ShiftRightArithmetic(hs, 3) & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector512.Create(0x77800000u).AsSingle()
            : Avx512F.PermuteVar16x32(GroupScales<GemmQ4_0>(wg, left, table), LaneOrder());
    }

    /// <summary>
    /// Q4_0 rows of exactly two groups that <see cref="QuadChunks"/> takes (24 blocks: 768 columns, or 32), one row at a
    /// time: both groups decoded once, then per token both groups' sums, the fma of the first onto +0 (as onto a fresh
    /// accumulator) and of the second onto that (lanes 0..7 only for a half group) in registers, one store per row and
    /// token, and the reduction of each <see cref="PairRows"/> rows together (<see cref="StorePairRows"/>) (1 thread,
    /// against the general loop: 768 columns 1.09-1.17x hot and from DRAM at m = 2..12, 1024 columns 1.04-1.42x).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining), SkipLocalsInit]   // acc: 8 KB, written before it is read (lanes of a missing pair token are dropped)
    private static void TwoGroupsQ4_0<TP>(byte* w, long rowBytes, int r0, int r1, byte* panels, int ps, int m, int nb, float* y, int ys)
        where TP : struct, IPrefetch
    {
        float* table = stackalloc float[16];
        Vector512<float>* acc = stackalloc Vector512<float>[PairRows * DirectTokensMax];   // PairSlot layout
        bool half = nb == Group + Group / 2;
        for (int rs = r0; rs < r1; rs += PairRows)
        {
            int re = Math.Min(r1, rs + PairRows);
            for (int r = rs; r < re; r++)
            {
                byte* wr = w + r * rowBytes;
                for (int o = 0; o < rowBytes; o += 64) TP.Fetch(wr + 4 * rowBytes + o);
                QuadChunks(wr, false, out var a0, out var a1, out var a2, out var a3, out var a4, out var a5, out var a6, out var a7);
                QuadChunks(wr + Group * GemmQ4_0.Bytes, half, out var b0, out var b1, out var b2, out var b3, out var b4, out var b5, out var b6, out var b7);
                Vector512<float> da = QuadScales(wr, nb, false, table), db = QuadScales(wr + Group * GemmQ4_0.Bytes, nb - Group, half, table);
                Vector256<byte> h0 = b0.GetLower().AsByte(), h1 = b1.GetLower().AsByte(), h2 = b2.GetLower().AsByte(), h3 = b3.GetLower().AsByte();
                Vector256<byte> h4 = b4.GetLower().AsByte(), h5 = b5.GetLower().AsByte(), h6 = b6.GetLower().AsByte(), h7 = b7.GetLower().AsByte();
                byte* pg = panels;
                Vector512<float>* ar = acc + (r - rs);
                for (int t = 0; t < m; t++, pg += ps)
                {
                    Vector512<float> s = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(SumsQ4_0(a0, a1, a2, a3, a4, a5, a6, a7, pg)),
                        da * Vector512.Load((float*)(pg + ScaleOffset)), Vector512<float>.Zero);
                    byte* pg1 = pg + GroupBytes;
                    if (half)
                        s = s.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(HalfSumsQ4_0(h0, h1, h2, h3, h4, h5, h6, h7, pg1)),
                            db.GetLower() * Vector256.Load((float*)(pg1 + ScaleOffset)), s.GetLower()));
                    else
                        s = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(SumsQ4_0(b0, b1, b2, b3, b4, b5, b6, b7, pg1)),
                            db * Vector512.Load((float*)(pg1 + ScaleOffset)), s);
                    ar[PairSlot(t)] = s;
                }
            }
            StorePairRows(acc, m, re - rs, y + rs, ys);
        }
    }

    /// <summary>Rows whose accumulators <see cref="StorePairRows"/> reduces together (the rows of a <see cref="DirectBlocks{TW, TP}"/> block).</summary>
    private const int PairRows = BlockRows;

    /// <summary>Index of token t's accumulator of row 0 of a block of <see cref="PairRows"/> rows (row i: + i), so that
    /// the 16 vectors of a token pair (2u, 2u + 1) follow each other and one <see cref="Reduce16x16"/> reduces them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PairSlot(int t) => PairRows * t;

    /// <summary>
    /// The results of <paramref name="n"/> rows (from y on) x m tokens from their accumulators (<see cref="PairSlot"/>
    /// layout) into y[t·ys + i]: from <see cref="ReduceAllFrom"/> tokens and a whole block of <see cref="PairRows"/> rows
    /// each token pair at once (<see cref="Reduce16x16"/>, the same adds; the lanes of a missing second token are read and
    /// dropped), permuted to rows in order, so each token's 8 results are one store; else each through
    /// <see cref="Reduce512"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePairRows(Vector512<float>* acc, int m, int n, float* y, int ys)
    {
        if (m < ReduceAllFrom || n < PairRows)
        {
            for (int t = 0; t < m; t++)
                for (int i = 0; i < n; i++) y[(long)t * ys + i] = Reduce512(acc[PairSlot(t) + i]);
            return;
        }
        // Reduce16x16 leaves acc[4a + b] in lane 4b + a: lane 4(i & 3) + 2(t & 1) + (i >> 2) for row i of the pair's token t
        Vector512<int> rowsInOrder = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        for (int t = 0; t < m; t += 2)
        {
            Vector512<float> v = Avx512F.PermuteVar16x32(Reduce16x16(acc + PairSlot(t)), rowsInOrder);
            v.GetLower().Store(y + (long)t * ys);
            if (t + 1 < m) v.GetUpper().Store(y + (long)(t + 1) * ys);
        }
    }

    /// <summary>
    /// A full Q4_0 group (or one of exactly 8 blocks after a full one, <paramref name="half"/>) at <paramref name="wg"/> as
    /// <see cref="Transpose8"/> leaves it: chunk k lane p = nibbles 4k..4k+3 of block <see cref="BlockOf"/>(p), from the
    /// 4 byte permutes of <see cref="QuadSum"/> (128-bit lane k of table j = the quant bytes of block 2j, 2j + 1, 2j + 8,
    /// 2j + 9, which is block BlockOf(4k + j)), one 4 x 4 dword transpose per 128-bit lane (dword d of lane k of t_d = dword
    /// d of table j's lane k at position j) and the two nibbles of each byte (bytes 4d..4d+3 hold codes 4d..4d+3 low and
    /// 16 + 4d.. high). Half the shuffles of the pair decode. A half group's lanes 8..15 repeat blocks 0..7; the panel's
    /// codes, corrections and scales there are zeros, so they add exact zeros.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuadChunks(byte* wg, bool half, out Vector512<int> c0, out Vector512<int> c1, out Vector512<int> c2, out Vector512<int> c3,
        out Vector512<int> c4, out Vector512<int> c5, out Vector512<int> c6, out Vector512<int> c7)
    {
        Vector512<int> v0 = QuadBytes(wg, half), v1 = QuadBytes(wg + 36, half), v2 = QuadBytes(wg + 72, half), v3 = QuadBytes(wg + 108, half);
        Vector512<long> a0 = Avx512F.UnpackLow(v0, v1).AsInt64(), a1 = Avx512F.UnpackHigh(v0, v1).AsInt64();
        Vector512<long> a2 = Avx512F.UnpackLow(v2, v3).AsInt64(), a3 = Avx512F.UnpackHigh(v2, v3).AsInt64();
        Vector512<byte> t0 = Avx512F.UnpackLow(a0, a2).AsByte(), t1 = Avx512F.UnpackHigh(a0, a2).AsByte();
        Vector512<byte> t2 = Avx512F.UnpackLow(a1, a3).AsByte(), t3 = Avx512F.UnpackHigh(a1, a3).AsByte();
        Vector512<byte> mask = Vector512.Create((byte)0x0F);
        Vector512<byte> high = Vector512.Create(HighNibble).AsByte();
        c0 = (t0 & mask).AsInt32(); c4 = Gfni.V512.GaloisFieldAffineTransform(t0, high, 0).AsInt32();
        c1 = (t1 & mask).AsInt32(); c5 = Gfni.V512.GaloisFieldAffineTransform(t1, high, 0).AsInt32();
        c2 = (t2 & mask).AsInt32(); c6 = Gfni.V512.GaloisFieldAffineTransform(t2, high, 0).AsInt32();
        c3 = (t3 & mask).AsInt32(); c7 = Gfni.V512.GaloisFieldAffineTransform(t3, high, 0).AsInt32();
    }

    /// <summary>The quant bytes of 4 blocks, one per 128-bit lane, as <see cref="QuadSum"/> permutes them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> QuadBytes(byte* wq, bool half) => (half
        ? Avx512Vbmi.PermuteVar64x8(Vector512.Load(wq - 28), QuadIndexHalf())
        : Avx512Vbmi.PermuteVar64x8x2(Vector512.Load(wq), QuadIndex(), Vector512.Load(wq + 116))).AsInt32();

    /// <summary>One transposed Q4_0 group (unsigned nibbles <paramref name="c0"/>..<paramref name="c7"/>, scales
    /// <paramref name="dw"/> in lane order) into the accumulators of m tokens whose panel groups start at
    /// <paramref name="pg"/> (stride <paramref name="ps"/>): 8 byte multiply-adds into 16 bits (at most 8·2·15·127 per
    /// lane: below 2^15), one to int32, the correction, one fma.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DirectQ4_0(Vector512<int> c0, Vector512<int> c1, Vector512<int> c2, Vector512<int> c3, Vector512<int> c4,
        Vector512<int> c5, Vector512<int> c6, Vector512<int> c7, Vector512<float> dw, byte* pg, int ps, int m, Vector512<float>* acc, int stride)
    {
        for (int t = 0; t < m; t++, pg += ps)
            acc[t * stride] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(SumsQ4_0(c0, c1, c2, c3, c4, c5, c6, c7, pg)),
                dw * Vector512.Load((float*)(pg + ScaleOffset)), acc[t * stride]);
    }

    /// <summary>The 16 block sums (with the correction) of a transposed Q4_0 group and the panel group <paramref name="pg"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> SumsQ4_0(Vector512<int> c0, Vector512<int> c1, Vector512<int> c2, Vector512<int> c3, Vector512<int> c4,
        Vector512<int> c5, Vector512<int> c6, Vector512<int> c7, byte* pg)
    {
        sbyte* q = (sbyte*)(pg + TransOffset);
        Vector512<short> s01 = Avx512BW.MultiplyAddAdjacent(c0.AsByte(), Vector512.Load(q)) + Avx512BW.MultiplyAddAdjacent(c1.AsByte(), Vector512.Load(q + 64));
        Vector512<short> s23 = Avx512BW.MultiplyAddAdjacent(c2.AsByte(), Vector512.Load(q + 128)) + Avx512BW.MultiplyAddAdjacent(c3.AsByte(), Vector512.Load(q + 192));
        Vector512<short> s45 = Avx512BW.MultiplyAddAdjacent(c4.AsByte(), Vector512.Load(q + 256)) + Avx512BW.MultiplyAddAdjacent(c5.AsByte(), Vector512.Load(q + 320));
        Vector512<short> s67 = Avx512BW.MultiplyAddAdjacent(c6.AsByte(), Vector512.Load(q + 384)) + Avx512BW.MultiplyAddAdjacent(c7.AsByte(), Vector512.Load(q + 448));
        return Avx512BW.MultiplyAddAdjacent((s01 + s23) + (s45 + s67), Vector512.Create((short)1)) + Vector512.Load((int*)(pg + CorrOffset));
    }

    /// <summary><see cref="DirectQ4_0"/> of a group of at most 8 blocks (lanes 0..7): the same operations on the lower
    /// 256-bit halves; the accumulators' lanes 8..15 stay as they are.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DirectQ4_0Half(Vector512<int> c0, Vector512<int> c1, Vector512<int> c2, Vector512<int> c3, Vector512<int> c4,
        Vector512<int> c5, Vector512<int> c6, Vector512<int> c7, Vector512<float> dw, byte* pg, int ps, int m, Vector512<float>* acc, int stride)
    {
        Vector256<byte> h0 = c0.GetLower().AsByte(), h1 = c1.GetLower().AsByte(), h2 = c2.GetLower().AsByte(), h3 = c3.GetLower().AsByte();
        Vector256<byte> h4 = c4.GetLower().AsByte(), h5 = c5.GetLower().AsByte(), h6 = c6.GetLower().AsByte(), h7 = c7.GetLower().AsByte();
        Vector256<float> d = dw.GetLower();
        for (int t = 0; t < m; t++, pg += ps)
        {
            float* a = (float*)(acc + t * stride);
            Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(HalfSumsQ4_0(h0, h1, h2, h3, h4, h5, h6, h7, pg)),
                d * Vector256.Load((float*)(pg + ScaleOffset)), Vector256.Load(a)).Store(a);
        }
    }

    /// <summary><see cref="SumsQ4_0"/> of lanes 0..7 (the lower halves <paramref name="h0"/>..<paramref name="h7"/> of the chunks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> HalfSumsQ4_0(Vector256<byte> h0, Vector256<byte> h1, Vector256<byte> h2, Vector256<byte> h3, Vector256<byte> h4,
        Vector256<byte> h5, Vector256<byte> h6, Vector256<byte> h7, byte* pg)
    {
        sbyte* q = (sbyte*)(pg + TransOffset);
        Vector256<short> s01 = Avx2.MultiplyAddAdjacent(h0, Vector256.Load(q)) + Avx2.MultiplyAddAdjacent(h1, Vector256.Load(q + 64));
        Vector256<short> s23 = Avx2.MultiplyAddAdjacent(h2, Vector256.Load(q + 128)) + Avx2.MultiplyAddAdjacent(h3, Vector256.Load(q + 192));
        Vector256<short> s45 = Avx2.MultiplyAddAdjacent(h4, Vector256.Load(q + 256)) + Avx2.MultiplyAddAdjacent(h5, Vector256.Load(q + 320));
        Vector256<short> s67 = Avx2.MultiplyAddAdjacent(h6, Vector256.Load(q + 384)) + Avx2.MultiplyAddAdjacent(h7, Vector256.Load(q + 448));
        return Avx2.MultiplyAddAdjacent((s01 + s23) + (s45 + s67), Vector256.Create((short)1)) + Vector256.Load((int*)(pg + CorrOffset));
    }

    /// <summary>One transposed Q8_0 group (signed codes <paramref name="c0"/>..<paramref name="c7"/>, widened here to the
    /// panel's int16 pieces: bytes 0 and 2, then 1 and 3 of each lane) into the accumulators of m tokens: 16 word
    /// multiply-adds into int32 (exact), one fma.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DirectQ8_0(Vector512<int> c0, Vector512<int> c1, Vector512<int> c2, Vector512<int> c3, Vector512<int> c4,
        Vector512<int> c5, Vector512<int> c6, Vector512<int> c7, Vector512<float> dw, byte* pg, int ps, int m, Vector512<float>* acc, int stride)
    {
        Vector512<short> e0 = Even(c0), o0 = c0.AsInt16() >> 8, e1 = Even(c1), o1 = c1.AsInt16() >> 8;
        Vector512<short> e2 = Even(c2), o2 = c2.AsInt16() >> 8, e3 = Even(c3), o3 = c3.AsInt16() >> 8;
        Vector512<short> e4 = Even(c4), o4 = c4.AsInt16() >> 8, e5 = Even(c5), o5 = c5.AsInt16() >> 8;
        Vector512<short> e6 = Even(c6), o6 = c6.AsInt16() >> 8, e7 = Even(c7), o7 = c7.AsInt16() >> 8;
        for (int t = 0; t < m; t++, pg += ps)
        {
            short* q = (short*)(pg + TransOffset);
            Vector512<int> p0 = Avx512BW.MultiplyAddAdjacent(e0, Vector512.Load(q)) + Avx512BW.MultiplyAddAdjacent(o0, Vector512.Load(q + 32))
                + Avx512BW.MultiplyAddAdjacent(e1, Vector512.Load(q + 64)) + Avx512BW.MultiplyAddAdjacent(o1, Vector512.Load(q + 96));
            Vector512<int> p1 = Avx512BW.MultiplyAddAdjacent(e2, Vector512.Load(q + 128)) + Avx512BW.MultiplyAddAdjacent(o2, Vector512.Load(q + 160))
                + Avx512BW.MultiplyAddAdjacent(e3, Vector512.Load(q + 192)) + Avx512BW.MultiplyAddAdjacent(o3, Vector512.Load(q + 224));
            Vector512<int> p2 = Avx512BW.MultiplyAddAdjacent(e4, Vector512.Load(q + 256)) + Avx512BW.MultiplyAddAdjacent(o4, Vector512.Load(q + 288))
                + Avx512BW.MultiplyAddAdjacent(e5, Vector512.Load(q + 320)) + Avx512BW.MultiplyAddAdjacent(o5, Vector512.Load(q + 352));
            Vector512<int> p3 = Avx512BW.MultiplyAddAdjacent(e6, Vector512.Load(q + 384)) + Avx512BW.MultiplyAddAdjacent(o6, Vector512.Load(q + 416))
                + Avx512BW.MultiplyAddAdjacent(e7, Vector512.Load(q + 448)) + Avx512BW.MultiplyAddAdjacent(o7, Vector512.Load(q + 480));
            acc[t * stride] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single((p0 + p1) + (p2 + p3)),
                dw * Vector512.Load((float*)(pg + ScaleOffset)), acc[t * stride]);
        }
    }

    /// <summary>Bytes 0 and 2 of each int32 lane, sign-extended to int16 (as the panel's first piece of a chunk).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Even(Vector512<int> c) => (c.AsInt16() << 8) >> 8;
}
