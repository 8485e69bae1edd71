using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Float;
using Quanta.Core.Formats.Gguf;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>The one-token (decode, m = 1) part of <see cref="Q8Gemm"/>: the same arithmetic as every other path.</summary>
internal static unsafe partial class Q8Gemm
{
    // ------------------------------------------------------------------ 512-bit, one token (decode)

    /// <summary>
    /// y[r] for rows [r0, r1) and one token (panel at <paramref name="panel"/>): 4 rows at a time (Q4_0 with
    /// <see cref="QuadNibbles"/>, and Q8_0 (<see cref="GemvQ8"/>): 8) in one pass over the rows, the same arithmetic as every other path. Per row and group of 16 blocks the 8 block pairs' multiply-adds
    /// (Q4_0: 16-bit pair sums of unsigned nibbles; Q8_0: 32-bit sums with the sign trick) are reduced by a transposing
    /// add tree (<see cref="GroupSum{TW}"/>) to one int32 per block in lane order <see cref="LaneOf"/>; the Q4_0
    /// correction is added, and one fma per group takes the 16 blocks into the accumulator with d_w·d_a (weight scales
    /// gathered with word permutes and widened in registers, permuted to lane order, times the panel's scales). Each group
    /// also prefetches, so the memory reads overlap the arithmetic: Q8_0 and Q4_0 with <see cref="QuadNibbles"/> (<see cref="RowPrefetch{TW}"/>)
    /// fetches each row's bytes of the group <see cref="PrefetchRows"/> rows ahead into L2 (and a call's first rows at
    /// its start when they were not fetched so, <see cref="FetchIfCold"/>); otherwise the group fetches
    /// its share of the next 4-row tile (the tile's rows are contiguous): into L1 while a tile is at most
    /// <see cref="L1PrefetchTile"/> bytes, else into L2.
    /// </summary>
    private static void Gemv512<TW>(byte* w, long rowBytes, int r0, int r1, byte* panel, int nb, float* y) where TW : struct, IGemmWeight
    {
        if (!TW.Nibble)
        {
            FetchIfCold(w + r0 * rowBytes, w + r1 * rowBytes, rowBytes);
            GemvQ8(w, rowBytes, r0, r1, panel, nb, y);
            return;
        }
        if (RowPrefetch<TW>()) FetchIfCold(w + r0 * rowBytes, w + r1 * rowBytes, rowBytes);
        if (!RowPrefetch<TW>() && 4 * rowBytes <= L1PrefetchTile) Gemv512<TW, L1>(w, rowBytes, r0, r1, panel, nb, y);
        else Gemv512<TW, L2>(w, rowBytes, r0, r1, panel, nb, y);
    }

    /// <summary>Whether the rows run 8 at a time and prefetch row by row <see cref="PrefetchRows"/> ahead into L2 (Q4_0 on
    /// the <see cref="QuadNibbles"/> path; with 2 threads streaming from memory, x1.2 over 4 rows with the next tile
    /// prefetched into L1, docs/perf-notes/2026-11-27-q4gemv.md). Q8_0 does the same in its own row loop (<see cref="GemvQ8"/>).</summary>
    private static bool RowPrefetch<TW>() where TW : struct, IGemmWeight => TW.Nibble && QuadNibbles;

    /// <summary>How many rows ahead <see cref="RowPrefetch{TW}"/> fetches (two 8-row steps).</summary>
    private const int PrefetchRows = 16;

    /// <summary>Where this thread's last <see cref="RowPrefetch{TW}"/> call ended (0: none yet).</summary>
    [ThreadStatic] private static nint t_rowsEnd;

    /// <summary>
    /// Fetches the first <see cref="PrefetchRows"/> rows of [<paramref name="start"/>, <paramref name="end"/>) into L2
    /// unless this thread's previous call ended at <paramref name="start"/> (its rows then fetched these
    /// <see cref="PrefetchRows"/> ahead). A thread's chunks of one loop continue each other within its own share of the
    /// pool's indices (<see cref="Quanta.Core.Threading.WorkerPool.For{TBody}"/>); a share's first chunk, a stolen chunk and the next
    /// product start cold (measured with the earlier guided chunks that alternated between 2 threads, most of them cold:
    /// x1.07 from memory, docs/perf-notes/2026-11-27-q4gemv.md).
    /// </summary>
    private static void FetchIfCold(byte* start, byte* end, long rowBytes)
    {
        if ((nint)start != t_rowsEnd)
            for (long o = 0, n = Math.Min(end - start, PrefetchRows * rowBytes); o < n; o += 64) Sse.Prefetch1(start + o);
        t_rowsEnd = (nint)end;
    }

    /// <summary>Largest 4-row tile (bytes) whose successor is prefetched into L1 rather than L2.</summary>
    private const long L1PrefetchTile = 8192;

    private static void Gemv512<TW, TP>(byte* w, long rowBytes, int r0, int r1, byte* panel, int nb, float* y)
        where TW : struct, IGemmWeight where TP : struct, IPrefetch
    {
        // 768 columns (24 blocks): two rows at a time, the groups of 8 of both in one vector (GemvRows24)
        if (RowPrefetch<TW>() && nb == 24 && GemvRows24(w + r0 * rowBytes, rowBytes, r1 - r0, panel, y + r0)) return;
        float* table = stackalloc float[16];                 // [16] scales of a group that takes the table path
        Vector512<float>* acc = stackalloc Vector512<float>[8];   // [8] the rows' accumulators
        int r = r0;
        if (RowPrefetch<TW>())
            for (; r + 8 <= r1; r += 8)
                if (!GemvRows<TW, Tile8, TP, TileCheck>(w + r * rowBytes, rowBytes, panel, nb, y + r, table, acc))
                    GemvRows<TW, Tile8, TP, RowCheck>(w + r * rowBytes, rowBytes, panel, nb, y + r, table, acc);
        for (; r + 4 <= r1; r += 4)
            GemvRows<TW, Tile4, TP, RowCheck>(w + r * rowBytes, rowBytes, panel, nb, y + r, table, acc);
        switch (r1 - r)
        {
            case 3: GemvRows<TW, Tile3, TP, RowCheck>(w + r * rowBytes, rowBytes, panel, nb, y + r, table, acc); break;
            case 2: GemvRows<TW, Tile2, TP, RowCheck>(w + r * rowBytes, rowBytes, panel, nb, y + r, table, acc); break;
            case 1: GemvRows<TW, Tile1, TP, RowCheck>(w + r * rowBytes, rowBytes, panel, nb, y + r, table, acc); break;
        }
    }

    /// <summary>A software prefetch hint (a hint never faults, so addresses past the matrix are harmless).</summary>
    private interface IPrefetch
    {
        static abstract void Fetch(byte* p);
    }

    private readonly struct L1 : IPrefetch
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Fetch(byte* p) => Sse.Prefetch0(p);
    }

    private readonly struct L2 : IPrefetch
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Fetch(byte* p) => Sse.Prefetch1(p);
    }

    /// <summary>Lane p holds block <see cref="BlockOf"/>(p): the permutation from block order to lane order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> LaneOrder() => Vector512.Create(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15);

    /// <summary>TR.N rows at w (row stride <paramref name="rowBytes"/>) times the panel: y[0..TR.N). The rows of a group
    /// run as a loop (one inlined copy of the group's code keeps the method inside the JIT's inlining budget); their
    /// accumulators live in <paramref name="acc"/>. Returns false, writing nothing, when <typeparamref name="TC"/> is
    /// <see cref="TileCheck"/> and a folded scale was an inf/NaN pattern or a group's d_a did not allow the fold.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool GemvRows<TW, TR, TP, TC>(byte* w, long rowBytes, byte* panel, int nb, float* y, float* table, Vector512<float>* acc)
        where TW : struct, IGemmWeight where TR : struct, ITileCount where TP : struct, IPrefetch where TC : struct, IScaleCheck
    {
        Vector512<uint> special = default;   // TileCheck: the largest exponent field (hs & 0x7C000000) of the tile's scales
        bool folded = true;                   // TileCheck: every group's d_a allowed the fold
        int nr = TR.N, bytes = TW.Bytes;
        bool nib = TW.Nibble;
        for (int i = 0; i < nr; i++) acc[i] = default;
        Vector512<short> ones = Vector512.Create((short)1);
        Vector512<ushort> shifts = Shifts512();
        Vector512<int> order = LaneOrder();
        byte* next = w + 4 * rowBytes;   // the next 4-row tile
        bool rowFetch = RowPrefetch<TW>();
        long ahead = PrefetchRows * rowBytes;
        int wideLoads = WideLoads<TW>(nb);
        for (int g = 0; g < nb; g += Group)
        {
            int left = nb - g, wide = wideLoads - (g >> 1);
            long go = (long)g * bytes;
            if (!rowFetch)
            {
                byte* pf = next + go * nr;
                for (int o = 0; o < nr * Group * bytes; o += 64) TP.Fetch(pf + o);
            }
            byte* pg = panel + (nint)(g / Group) * GroupBytes;
            Vector512<float> da = Vector512.Load((float*)(pg + ScaleOffset));
            Vector512<int> corr = nib ? Vector512.Load((int*)(pg + CorrOffset)) : default;
            byte* wi = w + go;
            if (TW.Nibble && left == 8 && g > 0 && QuadNibbles)
            {
                // a last group of exactly 8 blocks after a full one (768 columns = 16 + 8 blocks): blocks 0..3 (a) and
                // 4..7 (b) of the panel, one block per 128-bit lane, low / high 16 codes; lanes 8..15 of the result
                // meet the panel's zero scales, so they add exact zeros as the pair path's missing blocks do
                byte* pc = pg + CodesOffset;
                Regroup(pc, pc + 64, out Vector512<sbyte> la, out Vector512<sbyte> ha);
                Regroup(pc + 128, pc + 192, out Vector512<sbyte> lb, out Vector512<sbyte> hb);
                Vector512<float> da112 = da * Vector512.Create(F16Conversion.Two112);
                bool fold = Vector512.LessThanAll(Vector512.Abs(da), Vector512.Create(32768f));
                folded &= fold;
                for (int i = 0; i < nr; i++, wi += rowBytes)
                {
                    byte* pf = wi + ahead;   // this row's 144 bytes, PrefetchRows rows on
                    TP.Fetch(pf); TP.Fetch(pf + 64); TP.Fetch(pf + 128);
                    Vector512<int> sums = HalfReduce(HalfSum(wi, la, ha), HalfSum(wi + 72, lb, hb), ones);
                    Vector512<float> scale = TC.PerRow
                        ? LaneScales<TW>(HalfScaleBits(wi), fold, da112, wi, left, table, order, da)
                        : FoldScales(HalfScaleBits(wi), da112, ref special);
                    acc[i] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sums + corr), scale, acc[i]);
                }
                continue;
            }
            if (TW.Nibble && left >= Group && QuadNibbles)
            {
                // the panel's block pairs regrouped once for the tile's rows: Lj / Hj = the low / high 16 codes of
                // blocks 2j, 2j + 1, 2j + 8, 2j + 9 (pairs j and j + 4), one block per 128-bit lane
                byte* pc = pg + CodesOffset;
                Regroup(pc, pc + 256, out Vector512<sbyte> l0, out Vector512<sbyte> h0);
                Regroup(pc + 64, pc + 320, out Vector512<sbyte> l1, out Vector512<sbyte> h1);
                Regroup(pc + 128, pc + 384, out Vector512<sbyte> l2, out Vector512<sbyte> h2);
                Regroup(pc + 192, pc + 448, out Vector512<sbyte> l3, out Vector512<sbyte> h3);
                // d_a · 2^112 (exact below 2^15, which every practical activation scale is): one multiply per row then
                // gives the same rounded d_w·d_a as the exact d_w times d_a
                Vector512<float> da112 = da * Vector512.Create(F16Conversion.Two112);
                bool fold = Vector512.LessThanAll(Vector512.Abs(da), Vector512.Create(32768f));
                folded &= fold;
                for (int i = 0; i < nr; i++, wi += rowBytes)
                {
                    byte* pf = wi + ahead;   // this row's 288 bytes, PrefetchRows rows on
                    TP.Fetch(pf); TP.Fetch(pf + 64); TP.Fetch(pf + 128); TP.Fetch(pf + 192); TP.Fetch(pf + 256);
                    Vector512<short> s0 = QuadSum(wi, l0, h0), s1 = QuadSum(wi + 36, l1, h1);
                    Vector512<short> s2 = QuadSum(wi + 72, l2, h2), s3 = QuadSum(wi + 108, l3, h3);
                    Vector512<float> scale = TC.PerRow
                        ? LaneScales<TW>(QuadScaleBits(wi), fold, da112, wi, left, table, order, da)
                        : FoldScales(QuadScaleBits(wi), da112, ref special);
                    acc[i] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(QuadReduce(s0, s1, s2, s3, ones) + corr), scale, acc[i]);
                }
                continue;
            }
            for (int i = 0; i < nr; i++, wi += rowBytes)
            {
                if (rowFetch)
                    for (int o = 0; o < Math.Min(left, Group) * bytes; o += 64) TP.Fetch(wi + ahead + o);
                acc[i] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(GroupSum<TW>(wi, pg, left, wide, shifts, ones) + corr),
                    Avx512F.PermuteVar16x32(GroupScales<TW>(wi, left, table), order) * da, acc[i]);
            }
        }
        if (!TC.PerRow && (!folded || Vector512.EqualsAny(special, Vector512.Create(0x7C000000u)))) return false;
        for (int i = 0; i < nr; i++) y[i] = Reduce512(acc[i]);
        return true;
    }

    /// <summary>
    /// Q4_0 rows of 768 columns (24 blocks: a full group and a group of 8), <paramref name="n"/> rows at w, two rows per
    /// iteration with everything in registers: the panel's codes of all 24 blocks are regrouped once per call; each row's
    /// full group is summed and fma'd as in <see cref="GemvRows"/>, and the two rows' groups of 8 share one vector (row i in
    /// lanes 0..7, row i + 1 in 8..15: one reduction, one scale fold, one convert and one fma for both, where the 8-row steps
    /// spend a whole vector of each on one row's 8 blocks). That fma runs on the low halves of the two rows' accumulators;
    /// their high halves (lanes 8..15) would only get exact zeros added there (an accumulator never holds −0 after its
    /// first fma), so each row's <see cref="Reduce512"/> is finished from its own high half: the same bits as
    /// <see cref="GemvRows"/> with <see cref="TileCheck"/> (x1.18 hot, x1.11 with 2 threads from memory,
    /// docs/perf-notes/2026-11-27-q4short.md). Returns false when a scale or d_a needs the exact path (y may then hold partial results;
    /// the caller runs the rows again).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool GemvRows24(byte* w, long rowBytes, int n, byte* panel, float* y)
    {
        byte* pc = panel + CodesOffset, pg1 = panel + GroupBytes, pc1 = pg1 + CodesOffset;
        Vector512<float> da0 = Vector512.Load((float*)(panel + ScaleOffset)), da1 = Vector512.Load((float*)(pg1 + ScaleOffset));
        if (!Vector512.LessThanAll(Vector512.Abs(da0), Vector512.Create(32768f)) || !Vector512.LessThanAll(Vector512.Abs(da1), Vector512.Create(32768f)))
            return false;
        Regroup(pc, pc + 256, out Vector512<sbyte> l0, out Vector512<sbyte> h0);
        Regroup(pc + 64, pc + 320, out Vector512<sbyte> l1, out Vector512<sbyte> h1);
        Regroup(pc + 128, pc + 384, out Vector512<sbyte> l2, out Vector512<sbyte> h2);
        Regroup(pc + 192, pc + 448, out Vector512<sbyte> l3, out Vector512<sbyte> h3);
        Regroup(pc1, pc1 + 64, out Vector512<sbyte> la, out Vector512<sbyte> ha);
        Regroup(pc1 + 128, pc1 + 192, out Vector512<sbyte> lb, out Vector512<sbyte> hb);
        Vector512<int> corr0 = Vector512.Load((int*)(panel + CorrOffset)), corr1 = Vector512.Load((int*)(pg1 + CorrOffset));
        Vector512<float> da0112 = da0 * Vector512.Create(F16Conversion.Two112), da1112 = da1 * Vector512.Create(F16Conversion.Two112);
        // the group of 8's lanes 0..7 in both halves: two rows' groups of 8 run as one vector (row i low, row i + 1 high)
        Vector512<int> corr1x2 = Avx512F.InsertVector256(corr1, corr1.GetLower(), 1);
        Vector512<float> da1112x2 = Avx512F.InsertVector256(da1112, da1112.GetLower(), 1);
        Vector512<short> ones = Vector512.Create((short)1);
        Vector512<uint> special = default;
        long ahead = PrefetchRows * rowBytes;
        int i = 0;
        for (; i + 2 <= n; i += 2, w += 2 * rowBytes)
        {
            byte* pf = w + ahead;
            Sse.Prefetch1(pf); Sse.Prefetch1(pf + 64); Sse.Prefetch1(pf + 128); Sse.Prefetch1(pf + 192);
            Sse.Prefetch1(pf + 256); Sse.Prefetch1(pf + 320); Sse.Prefetch1(pf + 384);
            Vector512<float> a0 = Full24(w, l0, h0, l1, h1, l2, h2, l3, h3, corr0, da0112, ones, ref special);
            byte* w1 = w + rowBytes;
            pf += rowBytes;
            Sse.Prefetch1(pf); Sse.Prefetch1(pf + 64); Sse.Prefetch1(pf + 128); Sse.Prefetch1(pf + 192);
            Sse.Prefetch1(pf + 256); Sse.Prefetch1(pf + 320); Sse.Prefetch1(pf + 384);
            Vector512<float> a1 = Full24(w1, l0, h0, l1, h1, l2, h2, l3, h3, corr0, da0112, ones, ref special);
            Vector512<short> t0 = HalfT(HalfSum(w + 288, la, ha), HalfSum(w + 360, lb, hb));
            Vector512<short> t1 = HalfT(HalfSum(w1 + 288, la, ha), HalfSum(w1 + 360, lb, hb));
            Vector512<short> u = Avx512F.UnpackLow(t0.AsInt64(), t1.AsInt64()).AsInt16() + Avx512F.UnpackHigh(t0.AsInt64(), t1.AsInt64()).AsInt16();
            Vector512<int> sums = Avx512F.PermuteVar16x32(Avx512BW.MultiplyAddAdjacent(u, ones), Vector512.Create(0, 8, 1, 9, 4, 12, 5, 13, 2, 10, 3, 11, 6, 14, 7, 15));
            Vector512<int> hs = Avx512F.TernaryLogic(Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0), HalfScaleBits(w + 288), HalfScaleBits(w1 + 288), 0xCA);
            Vector512<float> c = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sums + corr1x2), FoldScales(hs, da1112x2, ref special),
                Avx512F.InsertVector256(a0, a1.GetLower(), 1));
            y[i] = Reduce256(c.GetLower(), a0.GetUpper());
            y[i + 1] = Reduce256(c.GetUpper(), a1.GetUpper());
        }
        if (i < n)
        {
            Sse.Prefetch1(w + ahead); Sse.Prefetch1(w + ahead + 64); Sse.Prefetch1(w + ahead + 128); Sse.Prefetch1(w + ahead + 192);
            Sse.Prefetch1(w + ahead + 256); Sse.Prefetch1(w + ahead + 320); Sse.Prefetch1(w + ahead + 384);
            Vector512<float> acc = Full24(w, l0, h0, l1, h1, l2, h2, l3, h3, corr0, da0112, ones, ref special);
            Vector512<int> sums = HalfReduce(HalfSum(w + 288, la, ha), HalfSum(w + 360, lb, hb), ones);
            acc = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sums + corr1), FoldScales(HalfScaleBits(w + 288), da1112, ref special), acc);
            y[i] = Reduce512(acc);
        }
        return !Vector512.EqualsAny(special, Vector512.Create(0x7C000000u));
    }

    /// <summary>A 768-column row's full group (its first 16 blocks) as <see cref="GemvRows"/> takes it into a zero
    /// accumulator.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Full24(byte* w, Vector512<sbyte> l0, Vector512<sbyte> h0, Vector512<sbyte> l1, Vector512<sbyte> h1,
        Vector512<sbyte> l2, Vector512<sbyte> h2, Vector512<sbyte> l3, Vector512<sbyte> h3, Vector512<int> corr0, Vector512<float> da0112,
        Vector512<short> ones, ref Vector512<uint> special)
    {
        Vector512<short> s0 = QuadSum(w, l0, h0), s1 = QuadSum(w + 36, l1, h1);
        Vector512<short> s2 = QuadSum(w + 72, l2, h2), s3 = QuadSum(w + 108, l3, h3);
        return Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(QuadReduce(s0, s1, s2, s3, ones) + corr0),
            FoldScales(QuadScaleBits(w), da0112, ref special), Vector512<float>.Zero);
    }

    /// <summary>The first step of <see cref="HalfReduce"/>: dword interleaves of the two <see cref="HalfSum"/>s, added in 16 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> HalfT(Vector512<short> a, Vector512<short> b) =>
        Avx512F.UnpackLow(a.AsInt32(), b.AsInt32()).AsInt16() + Avx512F.UnpackHigh(a.AsInt32(), b.AsInt32()).AsInt16();

    /// <summary>Whether <see cref="GemvRows"/> tests each row's scales for inf/NaN patterns before folding them
    /// (<see cref="RowCheck"/>), or folds them all and tests once per tile (<see cref="TileCheck"/>: the tile then
    /// reports false, writing nothing, when a scale or d_a needs the exact path, and the caller runs it again per row).
    /// The 8-row Q4_0 steps take <see cref="TileCheck"/>: an unsigned max per row instead of a test and branch (x1.02-1.04
    /// hot, x1.01-1.02 from memory with 2 threads, docs/perf-notes/2026-11-27-q4fast.md); the same bits either way.</summary>
    private interface IScaleCheck
    {
        static abstract bool PerRow { get; }
    }

    private readonly struct RowCheck : IScaleCheck { public static bool PerRow => true; }

    private readonly struct TileCheck : IScaleCheck { public static bool PerRow => false; }

    /// <summary>d_w·d_a in lane order from the scale bits <paramref name="hs"/> by the fold alone (see
    /// <see cref="LaneScales{TW}"/>); the exponent fields go into <paramref name="special"/> (unsigned max), so one test per
    /// tile finds an inf/NaN pattern.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> FoldScales(Vector512<int> hs, Vector512<float> da112, ref Vector512<uint> special)
    {
        special = Vector512.Max(special, (hs & Vector512.Create(0x7C000000)).AsUInt32());
        return (Vector512.ShiftRightArithmetic(hs, 3) & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle() * da112;
    }

    /// <summary>
    /// Q8_0, rows [r0, r1): 8 rows per step (<see cref="GemvRowsQ8{TR}"/>), then 4 and the rest; each row fetches its
    /// bytes of a group <see cref="PrefetchRows"/> rows ahead into L2, as the Q4_0 path does (the old next-tile loop into
    /// L1 ran 34 iterations per group and its 4 interleaved streams left the kernel at ~65% of a plain read from memory
    /// with 2 threads, docs/perf-notes/2026-11-27-q8gemv.md).
    /// </summary>
    private static void GemvQ8(byte* w, long rowBytes, int r0, int r1, byte* panel, int nb, float* y)
    {
        float* table = stackalloc float[16];                      // [16] scales of a group that takes the table path
        Vector512<float>* acc = stackalloc Vector512<float>[8];   // [8] the rows' accumulators
        int r = r0;
        for (; r + 8 <= r1; r += 8) GemvRowsQ8<Tile8>(w + r * rowBytes, rowBytes, panel, nb, y + r, table, acc);
        for (; r + 4 <= r1; r += 4) GemvRowsQ8<Tile4>(w + r * rowBytes, rowBytes, panel, nb, y + r, table, acc);
        switch (r1 - r)
        {
            case 3: GemvRowsQ8<Tile3>(w + r * rowBytes, rowBytes, panel, nb, y + r, table, acc); break;
            case 2: GemvRowsQ8<Tile2>(w + r * rowBytes, rowBytes, panel, nb, y + r, table, acc); break;
            case 1: GemvRowsQ8<Tile1>(w + r * rowBytes, rowBytes, panel, nb, y + r, table, acc); break;
        }
    }

    /// <summary>
    /// Q8_0, TR.N rows at w: the arithmetic of <see cref="GemvRows{TW, TR, TP}"/> (the same int32 block sums, d_w·d_a and
    /// fma per group). A full group and a last group of exactly 8 blocks (768 columns = 16 + 8 blocks) run
    /// <see cref="GroupSum{TW}"/>'s pair products and add tree written out (no per-pair count tests, no empty half of the
    /// tree for the 8) with the panel's codes and negations loaded once for the TR.N rows, and their scale bits gathered
    /// straight into lane order (<see cref="Q8ScaleBits"/>), folded with d_a·2^112 as the Q4_0 groups are; any other last
    /// group takes the generic <see cref="GroupSum{TW}"/>. Each row fetches its bytes of
    /// the group <see cref="PrefetchRows"/> rows on into L2, the fetches written out.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GemvRowsQ8<TR>(byte* w, long rowBytes, byte* panel, int nb, float* y, float* table, Vector512<float>* acc)
        where TR : struct, ITileCount
    {
        int nr = TR.N, bytes = GemmQ8_0.Bytes;
        for (int i = 0; i < nr; i++) acc[i] = default;
        Vector512<short> ones = Vector512.Create((short)1);
        Vector512<int> order = LaneOrder();
        long ahead = PrefetchRows * rowBytes;
        for (int g = 0; g < nb; g += Group)
        {
            int left = nb - g;
            byte* pg = panel + (nint)(g / Group) * GroupBytes;
            Vector512<float> da = Vector512.Load((float*)(pg + ScaleOffset));
            byte* wi = w + (long)g * bytes;
            if (left >= Group || left == 8)
            {
                bool full = left >= Group;
                // d_a · 2^112 (exact below 2^15): one multiply per row gives the rounded d_w·d_a (as the Q4_0 groups)
                Vector512<float> da112 = da * Vector512.Create(F16Conversion.Two112);
                bool fold = Vector512.LessThanAll(Vector512.Abs(da), Vector512.Create(32768f));
                // the panel's codes (a) and negated codes (n) of the 8 block pairs, loaded once for the TR.N rows
                Vector512<sbyte> a0 = Vector512.Load((sbyte*)(pg + CodesOffset)), a1 = Vector512.Load((sbyte*)(pg + CodesOffset + 64)), a2 = Vector512.Load((sbyte*)(pg + CodesOffset + 128)), a3 = Vector512.Load((sbyte*)(pg + CodesOffset + 192));
                Vector512<sbyte> a4 = Vector512.Load((sbyte*)(pg + CodesOffset + 256)), a5 = Vector512.Load((sbyte*)(pg + CodesOffset + 320)), a6 = Vector512.Load((sbyte*)(pg + CodesOffset + 384)), a7 = Vector512.Load((sbyte*)(pg + CodesOffset + 448));
                Vector512<sbyte> n0 = Vector512.Load((sbyte*)(pg + NegOffset)), n1 = Vector512.Load((sbyte*)(pg + NegOffset + 64)), n2 = Vector512.Load((sbyte*)(pg + NegOffset + 128)), n3 = Vector512.Load((sbyte*)(pg + NegOffset + 192));
                Vector512<sbyte> n4 = Vector512.Load((sbyte*)(pg + NegOffset + 256)), n5 = Vector512.Load((sbyte*)(pg + NegOffset + 320)), n6 = Vector512.Load((sbyte*)(pg + NegOffset + 384)), n7 = Vector512.Load((sbyte*)(pg + NegOffset + 448));
                for (int i = 0; i < nr; i++, wi += rowBytes)
                {
                    byte* pf = wi + ahead;   // this row's 544 (272) bytes, PrefetchRows rows on
                    Sse.Prefetch1(pf); Sse.Prefetch1(pf + 64); Sse.Prefetch1(pf + 128); Sse.Prefetch1(pf + 192); Sse.Prefetch1(pf + 256);
                    if (full) { Sse.Prefetch1(pf + 320); Sse.Prefetch1(pf + 384); Sse.Prefetch1(pf + 448); Sse.Prefetch1(pf + 512); }
                    Vector512<int> p0 = Q8Pair(wi, 0, a0, n0, ones), p1 = Q8Pair(wi, 1, a1, n1, ones);
                    Vector512<int> y0 = Avx512F.UnpackLow(p0, p1) + Avx512F.UnpackHigh(p0, p1);
                    Vector512<int> p2 = Q8Pair(wi, 2, a2, n2, ones), p3 = Q8Pair(wi, 3, a3, n3, ones);
                    Vector512<int> y1 = Avx512F.UnpackLow(p2, p3) + Avx512F.UnpackHigh(p2, p3);
                    Vector512<long> z0 = (Avx512F.UnpackLow(y0.AsInt64(), y1.AsInt64()).AsInt32() + Avx512F.UnpackHigh(y0.AsInt64(), y1.AsInt64()).AsInt32()).AsInt64();
                    Vector512<long> z1 = Vector512<long>.Zero;
                    if (full)
                    {
                        Vector512<int> p4 = Q8Pair(wi, 4, a4, n4, ones), p5 = Q8Pair(wi, 5, a5, n5, ones);
                        Vector512<int> y2 = Avx512F.UnpackLow(p4, p5) + Avx512F.UnpackHigh(p4, p5);
                        Vector512<int> p6 = Q8Pair(wi, 6, a6, n6, ones), p7 = Q8Pair(wi, 7, a7, n7, ones);
                        Vector512<int> y3 = Avx512F.UnpackLow(p6, p7) + Avx512F.UnpackHigh(p6, p7);
                        z1 = (Avx512F.UnpackLow(y2.AsInt64(), y3.AsInt64()).AsInt32() + Avx512F.UnpackHigh(y2.AsInt64(), y3.AsInt64()).AsInt32()).AsInt64();
                    }
                    Vector512<int> sums = Avx512F.Shuffle4x128(z0, z1, 0x88).AsInt32() + Avx512F.Shuffle4x128(z0, z1, 0xDD).AsInt32();
                    Vector512<float> scale = LaneScales<GemmQ8_0>(Q8ScaleBits(wi, full), fold, da112, wi, left, table, order, da);
                    acc[i] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sums), scale, acc[i]);
                }
                continue;
            }
            for (int i = 0; i < nr; i++, wi += rowBytes)
            {
                for (int o = 0; o < left * bytes; o += 64) Sse.Prefetch1(wi + ahead + o);
                acc[i] = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(GroupSum<GemmQ8_0>(wi, pg, left, 0, default, ones)),
                    Avx512F.PermuteVar16x32(GroupScales<GemmQ8_0>(wi, left, table), order) * da, acc[i]);
            }
        }
        for (int i = 0; i < nr; i++) y[i] = Reduce512(acc[i]);
    }

    /// <summary>Q8_0 <see cref="PairSum{TW}"/> of block pair <paramref name="j"/> with both blocks present: |w| times the
    /// panel's codes <paramref name="a"/> or their negations <paramref name="na"/> (where w &lt; 0), pair sums in 16 bits,
    /// then 4 products in 32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Q8Pair(byte* wg, int j, Vector512<sbyte> a, Vector512<sbyte> na, Vector512<short> ones)
    {
        byte* b = wg + 68 * j;
        Vector512<sbyte> v = Avx512F.InsertVector256(Vector256.Load((sbyte*)(b + 2)).ToVector512Unsafe(), Vector256.Load((sbyte*)(b + 36)), 1);
        Vector512<sbyte> sa = Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<sbyte>.Zero), na, a);
        return Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Avx512BW.Abs(v), sa), ones);
    }

    /// <summary>The fp16 scale bits of a Q8_0 group's 16 blocks (<paramref name="full"/>) or first 8 (lanes 8..15 zero)
    /// in the high halves of the int32 lanes, in lane order (lane p: block <see cref="LaneOrder"/>[p]); the low halves
    /// hold other bytes. Blocks 4k .. 4k + 3 lie in bytes [128k, 128k + 128) (scale of block b at byte 34b): one word
    /// permute of those two 64-byte tables each, with one index vector (lane p's word inside its own 128 bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Q8ScaleBits(byte* b, bool full)
    {
        Vector512<short> idx = Vector512.Create(0, 0, 0, 34, 0, 4, 0, 38, 0, 17, 0, 51, 0, 21, 0, 55,
                                                0, 8, 0, 42, 0, 12, 0, 46, 0, 25, 0, 59, 0, 29, 0, 63);
        Vector512<int> low8 = Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0);
        Vector512<int> a = Avx512BW.PermuteVar32x16x2(Vector512.Load((short*)b), idx, Vector512.Load((short*)(b + 64))).AsInt32();
        Vector512<int> c = Avx512BW.PermuteVar32x16x2(Vector512.Load((short*)(b + 128)), idx, Vector512.Load((short*)(b + 192))).AsInt32();
        Vector512<int> lo = Vector512.ConditionalSelect(Vector512.Create(-1, -1, 0, 0, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), a, c);
        if (!full) return lo & low8;
        Vector512<int> e = Avx512BW.PermuteVar32x16x2(Vector512.Load((short*)(b + 256)), idx, Vector512.Load((short*)(b + 320))).AsInt32();
        Vector512<int> f = Avx512BW.PermuteVar32x16x2(Vector512.Load((short*)(b + 384)), idx, Vector512.Load((short*)(b + 448))).AsInt32();
        Vector512<int> hi = Vector512.ConditionalSelect(Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 0, 0, -1, -1, 0, 0), e, f);
        return Vector512.ConditionalSelect(low8, lo, hi);
    }

    /// <summary>The low (<paramref name="lo"/>) / high (<paramref name="hi"/>) 16 codes of the two panel blocks at
    /// <paramref name="a"/> and then the two at <paramref name="b"/>, one block per 128-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Regroup(byte* a, byte* b, out Vector512<sbyte> lo, out Vector512<sbyte> hi)
    {
        Vector512<long> x = Vector512.Load((long*)a), z = Vector512.Load((long*)b);
        lo = Avx512F.Shuffle4x128(x, z, 0x88).AsSByte();
        hi = Avx512F.Shuffle4x128(x, z, 0xDD).AsSByte();
    }

    /// <summary>d_w·d_a of a group in lane order from the weight scales' fp16 bits <paramref name="hs"/> (high halves, lane
    /// order): folded into one multiply by <paramref name="da112"/> when <paramref name="fold"/> holds and no scale is an
    /// inf/NaN pattern, else through <see cref="GroupScales{TW}"/> (the table) permuted to lane order, times d_a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LaneScales<TW>(Vector512<int> hs, bool fold, Vector512<float> da112, byte* wi, int left, float* table,
        Vector512<int> order, Vector512<float> da) where TW : struct, IGemmWeight =>
        fold && !Vector512.EqualsAny(hs & Vector512.Create(0x7C000000), Vector512.Create(0x7C000000))
            ? (Vector512.ShiftRightArithmetic(hs, 3) & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle() * da112
            : Avx512F.PermuteVar16x32(GroupScales<TW>(wi, left, table), order) * da;

    /// <summary>Q4_0, the 4 consecutive blocks at <paramref name="wq"/> (72 bytes), one per 128-bit lane, against the
    /// panel's low / high codes of the same blocks (<paramref name="lo"/> / <paramref name="hi"/>): per lane 8 int16 sums
    /// of 4 products each, as <see cref="QuadSum"/>. The tables [0, 64) and [8, 72) stay inside the blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> HalfSum(byte* wq, Vector512<sbyte> lo, Vector512<sbyte> hi) =>
        NibbleSum(Avx512Vbmi.PermuteVar64x8x2(Vector512.Load(wq), HalfIndex(), Vector512.Load(wq + 8)), lo, hi);

    /// <summary>The quant bytes of 4 consecutive blocks for <see cref="HalfSum"/>: bytes 2..17, 20..35 and 38..53 of the
    /// first table, 48..63 of the second (bytes 56..71 of the blocks; index + 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> HalfIndex() => Vector512.Create(
        (byte)2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
        38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127);

    /// <summary>
    /// The 8 block sums of a group of 8 blocks from the <see cref="HalfSum"/>s of blocks 0..3 (<paramref name="a"/>) and
    /// 4..7 (<paramref name="b"/>), in lane order in lanes 0..7 (blocks 0, 2, 4, 6, 1, 3, 5, 7; lanes 8..15 repeat them):
    /// dword interleaves, a qword swap, added in 16 bits (16 products meet: |sum| &lt; 2^15), one multiply-add of word
    /// pairs to int32 (dword 4k = block k, 4k + 1 = block 4 + k) and one dword permute: exact, as the pair path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> HalfReduce(Vector512<short> a, Vector512<short> b, Vector512<short> ones)
    {
        Vector512<short> t = HalfT(a, b);
        Vector512<int> u = Avx512BW.MultiplyAddAdjacent(t + Avx512F.Shuffle(t.AsInt32(), 0x4E).AsInt16(), ones);
        return Avx512F.PermuteVar16x32(u, Vector512.Create(0, 8, 1, 9, 4, 12, 5, 13, 0, 8, 1, 9, 4, 12, 5, 13));
    }

    /// <summary>The fp16 scale bits of 8 Q4_0 blocks at <paramref name="b"/> in the high halves of int32 lanes 0..7, in lane
    /// order (blocks 0, 2, 4, 6, 1, 3, 5, 7; lanes 8..15 repeat them; the low halves hold other bytes): one word permute of
    /// bytes [0, 128) (scale k at word 9k).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> HalfScaleBits(byte* b)
    {
        Vector512<short> i = Vector512.Create(0, 0, 0, 18, 0, 36, 0, 54, 0, 9, 0, 27, 0, 45, 0, 63,
                                              0, 0, 0, 18, 0, 36, 0, 54, 0, 9, 0, 27, 0, 45, 0, 63);
        return Avx512BW.PermuteVar32x16x2(Vector512.Load((short*)b), i, Vector512.Load((short*)(b + 64))).AsInt32();
    }

    /// <summary>Whether full Q4_0 groups take <see cref="QuadSum"/> (byte permutes of two tables and GF(2) affine transforms).</summary>
    private static bool QuadNibbles => Avx512Vbmi.IsSupported && Gfni.V512.IsSupported;

    /// <summary>
    /// Q4_0, 4 blocks of a full group: blocks 2j, 2j + 1, 2j + 8, 2j + 9 (<paramref name="wq"/> = the group's start +
    /// 36j) against the regrouped codes <paramref name="lo"/> / <paramref name="hi"/> (see <see cref="GemvRows"/>): per
    /// 128-bit lane (one block) 8 int16 sums of 4 products each (|sum| &lt;= 4·15·128). The two 64-byte tables stay inside
    /// the group's 288 bytes: [36j, 36j + 64) holds blocks 2j and 2j + 1, [116 + 36j, 180 + 36j) blocks 2j + 8 and 2j + 9.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> QuadSum(byte* wq, Vector512<sbyte> lo, Vector512<sbyte> hi) =>
        NibbleSum(Avx512Vbmi.PermuteVar64x8x2(Vector512.Load(wq), QuadIndex(), Vector512.Load(wq + 116)), lo, hi);

    /// <summary>The quant bytes <paramref name="v"/> of 4 blocks (one per 128-bit lane) times the codes: low nibbles times
    /// <paramref name="lo"/> plus high nibbles (a GF(2) affine transform) times <paramref name="hi"/>, in 16-bit pair sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> NibbleSum(Vector512<byte> v, Vector512<sbyte> lo, Vector512<sbyte> hi)
    {
        Vector512<byte> low = v & Vector512.Create((byte)0x0F);
        Vector512<byte> high = Gfni.V512.GaloisFieldAffineTransform(v, Vector512.Create(HighNibble).AsByte(), 0);
        return Avx512BW.MultiplyAddAdjacent(low, lo) + Avx512BW.MultiplyAddAdjacent(high, hi);
    }

    /// <summary>The quant bytes of 4 blocks, one per 128-bit lane, from the tables of <see cref="QuadSum"/>: bytes 2..17 and
    /// 20..35 of the first, 30..45 and 48..63 of the second (index + 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> QuadIndex() => Vector512.Create(
        (byte)2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
        94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127);

    /// <summary>The fp16 scale bits of a full Q4_0 group's 16 blocks in the high halves of the int32 lanes, already in lane
    /// order (lane p: block <see cref="LaneOrder"/>[p]); the low halves hold other bytes of the blocks. Two word permutes of
    /// two 64-byte tables each, inside the group's 288 bytes (scale k at byte 18k), merged by one bitwise select on a
    /// constant (vpternlogd; ConditionalSelect compiled to a mask move plus a blend).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> QuadScaleBits(byte* b) =>
        // lanes 0..7: blocks 0, 2, 4, 6, 1, 3, 5, 7 of bytes [0, 128); lanes 8..15: blocks 8, 10, 12, 14, 9, 11, 13, 15 of [144, 272)
        Avx512F.TernaryLogic(Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0), HalfScaleBits(b), HalfScaleBits(b + 144), 0xCA);

    /// <summary>The quant bytes of blocks 2j and 2j + 1 from the table [36j − 28, 36j + 36) (bytes 30..45 and 48..63), twice.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> QuadIndexHalf() => Vector512.Create(
        (byte)30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
        30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63);

    /// <summary>
    /// The 16 block sums of a full Q4_0 group from the <see cref="QuadSum"/>s of j = 0..3, in lane order: lane 4k + j =
    /// 128-bit lane k of s_j = block <see cref="LaneOrder"/>[4k + j]. Dword interleaves then qword interleaves, added in
    /// 16 bits (16 products meet: |sum| &lt; 2^15), and one multiply-add of word pairs to int32: exact, as the pair path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> QuadReduce(Vector512<short> s0, Vector512<short> s1, Vector512<short> s2, Vector512<short> s3, Vector512<short> ones)
    {
        Vector512<short> t0 = Avx512F.UnpackLow(s0.AsInt32(), s1.AsInt32()).AsInt16() + Avx512F.UnpackHigh(s0.AsInt32(), s1.AsInt32()).AsInt16();
        Vector512<short> t1 = Avx512F.UnpackLow(s2.AsInt32(), s3.AsInt32()).AsInt16() + Avx512F.UnpackHigh(s2.AsInt32(), s3.AsInt32()).AsInt16();
        Vector512<short> u = Avx512F.UnpackLow(t0.AsInt64(), t1.AsInt64()).AsInt16() + Avx512F.UnpackHigh(t0.AsInt64(), t1.AsInt64()).AsInt16();
        return Avx512BW.MultiplyAddAdjacent(u, ones);
    }

    /// <summary>
    /// The integer sums (without the Q4_0 correction) of the min(<paramref name="left"/>, 16) blocks at
    /// <paramref name="wg"/> with the panel group <paramref name="pg"/>, lane p = block <see cref="BlockOf"/>(p), zeros
    /// past the count. Pairs j &lt; <paramref name="wide"/> may read their Q4_0 nibbles with one 64-byte load.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> GroupSum<TW>(byte* wg, byte* pg, int left, int wide, Vector512<ushort> shifts, Vector512<short> ones)
        where TW : struct, IGemmWeight
    {
        Vector512<int> y0 = TreeAdd<TW>(PairSum<TW>(wg, pg, 0, left, wide, shifts, ones), PairSum<TW>(wg, pg, 1, left, wide, shifts, ones));
        Vector512<int> y1 = TreeAdd<TW>(PairSum<TW>(wg, pg, 2, left, wide, shifts, ones), PairSum<TW>(wg, pg, 3, left, wide, shifts, ones));
        Vector512<long> z0 = Pair64<TW>(y0, y1);
        Vector512<int> y2 = TreeAdd<TW>(PairSum<TW>(wg, pg, 4, left, wide, shifts, ones), PairSum<TW>(wg, pg, 5, left, wide, shifts, ones));
        Vector512<int> y3 = TreeAdd<TW>(PairSum<TW>(wg, pg, 6, left, wide, shifts, ones), PairSum<TW>(wg, pg, 7, left, wide, shifts, ones));
        Vector512<long> z1 = Pair64<TW>(y2, y3);
        Vector512<int> f = Add<TW>(Avx512F.Shuffle4x128(z0, z1, 0x88).AsInt32(), Avx512F.Shuffle4x128(z0, z1, 0xDD).AsInt32());
        return TW.Nibble ? Avx512BW.MultiplyAddAdjacent(f.AsInt16(), ones) : f;
    }

    /// <summary>Element-wise sum: 16-bit lanes for Q4_0 (pair sums of nibbles, at most 8 of them meet: |sum| &lt; 2^15), 32-bit for Q8_0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Add<TW>(Vector512<int> a, Vector512<int> b) where TW : struct, IGemmWeight =>
        TW.Nibble ? (a.AsInt16() + b.AsInt16()).AsInt32() : a + b;

    /// <summary>First level of the tree (dword interleaves within 128-bit lanes), as <see cref="Transpose8"/> with the halves added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> TreeAdd<TW>(Vector512<int> a, Vector512<int> b) where TW : struct, IGemmWeight =>
        Add<TW>(Avx512F.UnpackLow(a, b), Avx512F.UnpackHigh(a, b));

    /// <summary>Second level (qword interleaves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<long> Pair64<TW>(Vector512<int> a, Vector512<int> b) where TW : struct, IGemmWeight =>
        Add<TW>(Avx512F.UnpackLow(a.AsInt64(), b.AsInt64()).AsInt32(), Avx512F.UnpackHigh(a.AsInt64(), b.AsInt64()).AsInt32()).AsInt64();

    /// <summary>Products of block pair <paramref name="j"/> of a group (blocks 2j in 128-bit lanes 0 and 1, 2j + 1 in 2 and
    /// 3, elements in order): Q4_0 16-bit pair sums of nibble x code, Q8_0 32-bit sums of 4; zeros for a missing pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> PairSum<TW>(byte* wg, byte* pg, int j, int left, int wide, Vector512<ushort> shifts, Vector512<short> ones)
        where TW : struct, IGemmWeight
    {
        if (2 * j >= left) return default;
        Codes512<TW>(wg + 2L * j * TW.Bytes, 2 * j + 1 < left, j < wide, shifts, out Vector512<byte> c, out Vector512<sbyte> neg);
        Vector512<sbyte> a = Vector512.Load((sbyte*)(pg + CodesOffset + 64 * j));
        if (TW.Nibble) return Avx512BW.MultiplyAddAdjacent(c, a).AsInt32();
        Vector512<sbyte> na = Vector512.Load((sbyte*)(pg + NegOffset + 64 * j));
        return Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c, Vector512.ConditionalSelect(neg, na, a)), ones);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ushort> Shifts512() => Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4,
                                                                     0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4).AsUInt16();

    /// <summary>Pairs of Q4_0 blocks (from the first) whose nibbles <see cref="Codes512{TW}"/> may read with one 64-byte load:
    /// those with 36·j + 64 &lt;= 18·nb, so the load stays inside the row; 0 without AVX-512 VBMI or for Q8_0.</summary>
    private static int WideLoads<TW>(int nb) where TW : struct, IGemmWeight =>
        TW.Nibble && Avx512Vbmi.IsSupported && TW.Bytes * nb >= 64 ? Math.Min((TW.Bytes * nb - 64) / (2 * TW.Bytes) + 1, (nb + 1) >> 1) : 0;

    /// <summary>Bytes 2..17 of a pair (block 0's nibbles) twice, then bytes 20..35 (block 1's) twice.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> PairNibbleIndex() => Vector512.Create(
        (byte)2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
        20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35);

    /// <summary>The weight scales d of the min(<paramref name="left"/>, 16) blocks at <paramref name="b"/> as floats, zeros
    /// past the count: exact (the same values as <see cref="Fp16Table"/>). A full group (or exactly 8 blocks) is gathered
    /// with two-source word permutes from loads that stay inside its blocks; another short group and a group holding an
    /// inf/NaN bit pattern go through the table, in place (no call), via <paramref name="table"/> (16 floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> GroupScales<TW>(byte* b, int left, float* table) where TW : struct, IGemmWeight
    {
        if (left >= 16 || left == 8)
        {
            Vector512<int> low8 = Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0);
            Vector512<int> h = left >= 16
                ? Vector512.ConditionalSelect(low8, Gather8<TW>(b, false), Gather8<TW>(b + 8 * TW.Bytes, true))
                : Gather8<TW>(b, false) & low8;
            if (!Vector512.EqualsAny(h & Vector512.Create(0x7C00), Vector512.Create(0x7C00))) return HalfToSingle(h);
        }
        for (int k = 0; k < 16; k++) table[k] = k < left ? Fp16Table.Load(b + (nint)k * TW.Bytes) : 0f;
        return Vector512.Load(table);
    }

    /// <summary>The codes of two weight blocks (the second zero when <paramref name="full"/> is false), elements in order:
    /// block 0 in 128-bit lanes 0 and 1, block 1 in lanes 2 and 3; Q4_0 the unsigned nibbles, Q8_0 |w| and the mask of
    /// negative codes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Codes512<TW>(byte* b, bool full, bool wide, Vector512<ushort> shifts, out Vector512<byte> c, out Vector512<sbyte> neg)
        where TW : struct, IGemmWeight
    {
        if (TW.Nibble && wide)
        {
            // the pair's nibble bytes in place (one byte permute), then each 128-bit lane's nibble: low nibbles in lanes
            // 0 and 2, high in 1 and 3; GFNI does the per-lane shift and mask in one affine bit transform
            Vector512<byte> v = Avx512Vbmi.PermuteVar64x8(Vector512.Load(b), PairNibbleIndex());
            c = Gfni.V512.IsSupported
                ? Gfni.V512.GaloisFieldAffineTransform(v, NibbleMatrices(), 0)
                : Avx512BW.ShiftRightLogicalVariable(v.AsUInt16(), shifts).AsByte() & Vector512.Create((byte)0x0F);
            neg = default;
        }
        else if (TW.Nibble)
        {
            Vector128<byte> v0 = Vector128.Load(b + 2), v1 = full ? Vector128.Load(b + TW.Bytes + 2) : default;
            Vector512<uint> x = Avx512F.InsertVector128(v0.ToVector256Unsafe().ToVector512Unsafe().AsUInt32(), v1.AsUInt32(), 1);
            x = Avx512F.Shuffle4x128(x, x, 0x50);
            c = Avx512BW.ShiftRightLogicalVariable(x.AsUInt16(), shifts).AsByte() & Vector512.Create((byte)0x0F);
            neg = default;
        }
        else
        {
            Vector256<sbyte> v0 = Vector256.Load((sbyte*)(b + 2)), v1 = full ? Vector256.Load((sbyte*)(b + TW.Bytes + 2)) : default;
            Vector512<sbyte> v = Avx512F.InsertVector256(v0.ToVector512Unsafe(), v1, 1);
            c = Avx512BW.Abs(v);
            neg = Vector512.LessThan(v, Vector512<sbyte>.Zero);
        }
    }

    /// <summary>GF(2) affine matrices (one per qword, row of output bit i in byte 7 − i) that take a byte's low nibble
    /// (128-bit lanes 0 and 2) or its high nibble shifted down (lanes 1 and 3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> NibbleMatrices() =>
        Vector512.Create(LowNibble, LowNibble, HighNibble, HighNibble, LowNibble, LowNibble, HighNibble, HighNibble).AsByte();

    private const ulong LowNibble = 0x0102040800000000UL;    // bit i (i < 4) from bit i
    private const ulong HighNibble = 0x1020408000000000UL;   // bit i (i < 4) from bit i + 4

    /// <summary>The scale words (fp16 bits) of 8 blocks at <paramref name="b"/> in the low halves of int32 lanes 0..7
    /// (<paramref name="high"/> false) or 8..15; the other lanes and the high halves hold other bytes of the blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Gather8<TW>(byte* b, bool high) where TW : struct, IGemmWeight
    {
        if (TW.Nibble)
        {
            // Q4_0: 18-byte blocks, scale k at word 9k (k = 0..7): words 0..63 = bytes 0..127 of the 144
            Vector512<short> i = high
                ? Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 18, 0, 27, 0, 36, 0, 45, 0, 54, 0, 63, 0)
                : Vector512.Create(0, 0, 9, 0, 18, 0, 27, 0, 36, 0, 45, 0, 54, 0, 63, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            return Avx512BW.PermuteVar32x16x2(Vector512.Load((short*)b), i, Vector512.Load((short*)(b + 64))).AsInt32();
        }
        // Q8_0: 34-byte blocks, scale k at word 17k: k = 0..3 from bytes 0..127, k = 4..7 from bytes 128..255 of the 272
        Vector512<short> lo = high
            ? Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 34, 0, 51, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            : Vector512.Create(0, 0, 17, 0, 34, 0, 51, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        Vector512<short> hi = high
            ? Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 21, 0, 38, 0, 55, 0)
            : Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 21, 0, 38, 0, 55, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        Vector512<int> first = Avx512BW.PermuteVar32x16x2(Vector512.Load((short*)b), lo, Vector512.Load((short*)(b + 64))).AsInt32();
        Vector512<int> second = Avx512BW.PermuteVar32x16x2(Vector512.Load((short*)(b + 128)), hi, Vector512.Load((short*)(b + 192))).AsInt32();
        Vector512<int> firstLanes = high
            ? Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, 0, 0, 0, 0)
            : Vector512.Create(-1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        return Vector512.ConditionalSelect(firstLanes, first, second);
    }

    /// <summary>fp16 bits in the low half of each int32 lane to fp32, exact for zeros, subnormals and normals (inf/NaN
    /// patterns are routed to the table by the caller): the bits moved into place with the sign, times 2^112.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> HalfToSingle(Vector512<int> h) =>
        (((h << 16) >> 3) & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector512.Create(0x77800000u).AsSingle();
}
