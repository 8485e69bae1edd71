using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>
/// The few-token (2 ≤ m ≤ <see cref="Tokens"/>: a serving step of a few streams) AVX-512 part of <see cref="KQuantGemm"/>:
/// the one-token 4-row kernels (<see cref="VecDotQ4_K"/>, <see cref="VecDotQ6_K"/> Rows4) extended to up to 8 tokens.
/// Per super-block the 4 rows' headers are unpacked together, then one row at a time its quants and spread scales are
/// unpacked once into registers and multiplied with every token's codes; each row's per-token int32 sums are reduced
/// together (<see cref="KQuantSimd.SumRows4"/>), and the float steps run for the 4 rows x 4 tokens in the lanes
/// r·4 + t of one vector. Batches of 9 to <see cref="Tokens"/> tokens run in two halves, except Q6_K in whole 4-row groups
/// (<see cref="Q6K4x16{TA, TB}"/>: every super-block unpacked once for all tokens).
/// <para>Arithmetic: that of the format's Dot, unchanged: per super-block the exact int32 sums (any order), then per
/// output Q4_K acc += (d_a·d_w)·isum; acc −= (d_a·dmin_w)·summ, Q6_K acc += (d_w·d_a)·isum, in super-block order, no
/// fused multiply-add. So the bits are those of every other path (batch invariance).</para>
/// Needs AVX-512 BW and GFNI (<see cref="Supported"/>). Stateless, thread-safe, allocation-free after a thread's first call.
/// </summary>
internal static unsafe class KQuantGemvMulti
{
    /// <summary>Largest batch this path takes (<see cref="KQuantGemm"/>'s crossover); only tests and benchmarks change it.</summary>
    internal static int Tokens = TokensDefault;

    /// <summary>The measured crossover: 1 thread, Q4_K 2048/8192 and Q6_K 2048 columns, hot and from DRAM, this path beat the tiles and Row16 at every m from 2 to 16 (1.16-3.4x).</summary>
    internal const int TokensDefault = 16;

    /// <summary>The most tokens this path can take (two halves of at most 8).</summary>
    internal const int TokensMax = 16;

    /// <summary>True when the machine has what these kernels use (AVX-512 BW, GFNI).</summary>
    public static bool Supported => Avx512BW.IsSupported && Gfni.V512.IsSupported;

    [ThreadStatic] private static byte[]? t_acts;

    /// <summary>Y[t, r] for rows [r0, r1) and tokens [0, m), 1 ≤ m ≤ <see cref="TokensMax"/>; arguments as <see cref="KQuantGemm.Rows"/>.
    /// prepared: null, or for Q6_K when <see cref="TakesPreparedQ6K"/> the activations through <see cref="PrepareQ6K"/>
    /// (else each call prepares them).</summary>
    public static void Rows<TK>(byte* w, long rowBytes, int r0, int r1, byte* acts, int actStride, int m, int nb, float* y, int yStride, byte* prepared = null)
        where TK : struct, IKQuantWeight
    {
        if (m > TokensMax) throw new ArgumentOutOfRangeException(nameof(m));
        if (TK.Bytes != BlockQ4_K.Size && TakesPreparedQ6K(m) && r1 - r0 >= 4)
        {
            // Q6_K at 2..16 tokens (a serving step's output head): whole 4-row groups unpack each super-block once for
            // all tokens; the rows left over run one at a time below (9..16 tokens in two halves)
            int r4 = r0 + (r1 - r0) / 4 * 4;
            if (prepared == null)
            {
                prepared = ThreadBuffer.Aligned64(ref t_acts, PreparedQ6KBytes(m, nb));
                PrepareQ6K(acts, actStride, m, nb, prepared);
            }
            switch (m)
            {
                case 2: Q6K4x16<Tile2, Few0>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
                case 3: Q6K4x16<Tile3, Few0>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
                case 4: Q6K4x16<Tile4, Few0>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
                case 5: Q6K4x16<Few5, Few0>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
                case 6: Q6K4x16<Few6, Few0>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
                case 7: Q6K4x16<Few7, Few0>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
                case 8: Q6K4x16<Few8, Few0>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
                case 9: Q6K4x16<Few8, Tile1>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
                case 10: Q6K4x16<Few8, Tile2>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
                case 11: Q6K4x16<Few8, Tile3>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
                case 12: Q6K4x16<Few8, Tile4>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
                case 13: Q6K4x16<Few8, Few5>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
                case 14: Q6K4x16<Few8, Few6>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
                case 15: Q6K4x16<Few8, Few7>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
                default: Q6K4x16<Few8, Few8>(w, rowBytes, r0, r4, prepared, nb, y, yStride); break;
            }
            if (r4 == r1) return;
            r0 = r4;
        }
        if (m > 8)
        {
            int h = (m + 1) / 2;
            Rows<TK>(w, rowBytes, r0, r1, acts, actStride, h, nb, y, yStride);
            Rows<TK>(w, rowBytes, r0, r1, acts + (long)h * actStride, actStride, m - h, nb, y + (long)h * yStride, yStride);
            return;
        }
        if (TK.Bytes == BlockQ4_K.Size)
        {
            byte* prep = PrepareQ4K(acts, actStride, m, nb);
            switch (m)
            {
                case 1: Q4K<Tile1>(w, rowBytes, r0, r1, prep, nb, y, yStride); break;
                case 2: Q4K<Tile2>(w, rowBytes, r0, r1, prep, nb, y, yStride); break;
                case 3: Q4K<Tile3>(w, rowBytes, r0, r1, prep, nb, y, yStride); break;
                case 4: Q4K<Tile4>(w, rowBytes, r0, r1, prep, nb, y, yStride); break;
                case 5: Q4K<Few5>(w, rowBytes, r0, r1, prep, nb, y, yStride); break;
                case 6: Q4K<Few6>(w, rowBytes, r0, r1, prep, nb, y, yStride); break;
                case 7: Q4K<Few7>(w, rowBytes, r0, r1, prep, nb, y, yStride); break;
                default: Q4K<Few8>(w, rowBytes, r0, r1, prep, nb, y, yStride); break;
            }
        }
        else
        {
            switch (m)
            {
                case 1: Q6K<Tile1>(w, rowBytes, r0, r1, acts, actStride, nb, y, yStride); break;
                case 2: Q6K<Tile2>(w, rowBytes, r0, r1, acts, actStride, nb, y, yStride); break;
                case 3: Q6K<Tile3>(w, rowBytes, r0, r1, acts, actStride, nb, y, yStride); break;
                case 4: Q6K<Tile4>(w, rowBytes, r0, r1, acts, actStride, nb, y, yStride); break;
                case 5: Q6K<Few5>(w, rowBytes, r0, r1, acts, actStride, nb, y, yStride); break;
                case 6: Q6K<Few6>(w, rowBytes, r0, r1, acts, actStride, nb, y, yStride); break;
                case 7: Q6K<Few7>(w, rowBytes, r0, r1, acts, actStride, nb, y, yStride); break;
                default: Q6K<Few8>(w, rowBytes, r0, r1, acts, actStride, nb, y, yStride); break;
            }
        }
    }

    private readonly struct Few0 : ITileCount { public static int N => 0; }
    private readonly struct Few5 : ITileCount { public static int N => 5; }
    private readonly struct Few6 : ITileCount { public static int N => 6; }
    private readonly struct Few7 : ITileCount { public static int N => 7; }
    private readonly struct Few8 : ITileCount { public static int N => 8; }

    // Q4_K activations, prepared once per call, per super-block i at i·stride (PrepStride): 8 x 8 int16 bsum pair sums,
    // 8 float scales (padded to 64 bytes; absent tokens zeros), then [m tokens] x 256 codes regrouped to match 64-byte
    // quant loads (VecDotQ4_K.Rows8's a0..a3)
    private const int PrepScales = 8 * 16, PrepCodes = PrepScales + 64;

    private static int PrepStride(int m) => PrepCodes + 256 * m;

    /// <summary>How far ahead in the row (bytes) each super-block step prefetches the weights; only benchmarks change it.</summary>
    internal static int PrefetchAhead = PrefetchAheadDefault;

    internal const int PrefetchAheadDefault = 2048;

    private static byte* PrepareQ4K(byte* acts, int actStride, int m, int nb)
    {
        int stride = PrepStride(m);
        byte* prep = ThreadBuffer.Aligned64(ref t_acts, (long)nb * stride);
        for (int i = 0; i < nb; i++)
        {
            byte* p = prep + (long)i * stride;
            for (int t = 0; t < 8; t++)
            {
                if (t >= m)
                {
                    Vector128<short>.Zero.Store((short*)p + 8 * t);
                    ((float*)(p + PrepScales))[t] = 0f;
                    continue;
                }
                var a = (BlockQ8_K*)(acts + (long)t * actStride) + i;
                sbyte* q8 = a->Qs;
                Vector512<int> v0 = Vector512.Load(q8).AsInt32(), v1 = Vector512.Load(q8 + 64).AsInt32(), v2 = Vector512.Load(q8 + 128).AsInt32(), v3 = Vector512.Load(q8 + 192).AsInt32();
                byte* d = p + PrepCodes + 256 * t;
                Avx512F.Shuffle4x128(v0, v1, 0x44).Store((int*)d);
                Avx512F.Shuffle4x128(v0, v1, 0xEE).Store((int*)(d + 64));
                Avx512F.Shuffle4x128(v2, v3, 0x44).Store((int*)(d + 128));
                Avx512F.Shuffle4x128(v2, v3, 0xEE).Store((int*)(d + 192));
                Ssse3.HorizontalAdd(Vector128.Load(a->BSums), Vector128.Load(a->BSums + 8)).Store((short*)p + 8 * t);
                ((float*)(p + PrepScales))[t] = a->D;
            }
        }
        return prep;
    }

    /// <summary>Rows [r0, r1) x TT tokens of Q4_K: whole groups of 4 rows through <see cref="Q4K4{TT}"/>, the rest one at a time.</summary>
    private static void Q4K<TT>(byte* w, long rowBytes, int r0, int r1, byte* prep, int nb, float* y, int ys) where TT : struct, ITileCount
    {
        int r4 = r0 + (r1 - r0) / 4 * 4;
        if (FourRows) Q4K4<TT>(w, rowBytes, r0, r4, prep, nb, y, ys);
        else r4 = r0;
        Q4K1<TT>(w, rowBytes, r4, r1, prep, nb, y, ys);
    }

    /// <summary>Rows [r0, r1) (a multiple of 4) x TT tokens of Q4_K, 4 rows per step as VecDotQ4_K.Rows8 does 8: the 4 rows'
    /// headers unpacked together, then (a loop, so the JIT does not keep every token's codes live across the rows) one
    /// row at a time its quants unpacked once for all tokens; the float steps for 4 rows x 4 tokens in lanes r·4 + t.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Q4K4<TT>(byte* w, long rowBytes, int r0, int r1, byte* prep, int nb, float* y, int ys) where TT : struct, ITileCount
    {
        int stride = PrepStride(TT.N);
        long next = 4 * rowBytes;   // rows are contiguous: the next group, as VecDotQ*_K.Rows4
        bool l1 = 4 * rowBytes <= 8192;   // short groups into L1, longer ones into L2
        Vector512<sbyte> c0 = VecDotQ4_K.ScaleSpread(0, 2), c1 = VecDotQ4_K.ScaleSpread(1, 3), c2 = VecDotQ4_K.ScaleSpread(4, 6), c3 = VecDotQ4_K.ScaleSpread(5, 7);
        Vector512<sbyte> minSpread = VecDotQ4_K.MinSpread;
        Vector512<uint> firstOfLane = Vector512.Create(0u, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12);
        Vector512<int> rowOfLane = Vector512.Create(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
        Vector512<int> lane = Vector512.Create(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3);
        int* isb = stackalloc int[32];   // [row][8 tokens] integer sums of one super-block
        float* res = stackalloc float[32];
        for (int r = r0; r < r1; r += 4)
        {
            byte* w0 = w + r * rowBytes;
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;   // lanes r·4 + t, tokens 0..3 / 4..7
            for (int i = 0; i < nb; i++)
            {
                byte* p = prep + (long)i * stride;
                byte* x0 = w0 + (long)i * BlockQ4_K.Size;
                Vector512<uint> head = Vector512.Create(Vector256.Create(Vector128.Load(x0), Vector128.Load(x0 + rowBytes)),
                                                        Vector256.Create(Vector128.Load(x0 + 2 * rowBytes), Vector128.Load(x0 + 3 * rowBytes))).AsUInt32();
                Vector512<byte> sm = KQuantSimd.ScaleMinK4x4(head);
                Vector128<uint> dd = Avx512F.PermuteVar16x32(head, firstOfLane).GetLower().GetLower();   // row r: d | dmin << 16
                Vector256<float> f = KQuantSimd.Fp16ToFp32(Vector256.Create(dd & Vector128.Create(0xFFFFu), dd >>> 16));
                Vector512<float> dw = Avx512F.PermuteVar16x32(f.ToVector512Unsafe(), rowOfLane);
                Vector512<float> dm = Avx512F.PermuteVar16x32(f.ToVector512Unsafe(), rowOfLane + Vector512.Create(4));
                Vector512<short> mins = Avx512BW.Shuffle(sm.AsSByte(), minSpread).AsInt16();
                Vector512<int> summ0 = MinSums(mins, (short*)p, 0, TT.N);
                Vector512<int> summ1 = TT.N > 4 ? MinSums(mins, (short*)p, 4, TT.N) : default;
                for (int rr = 0; rr < 4; rr++)
                {
                    byte* x = x0 + rr * rowBytes;
                    byte* pf = x + next;   // the same block of the next group's row
                    if (l1) { Sse.Prefetch0(pf); Sse.Prefetch0(pf + 64); Sse.Prefetch0(pf + 128); }
                    else { Sse.Prefetch1(pf); Sse.Prefetch1(pf + 64); Sse.Prefetch1(pf + 128); }
                    Vector512<sbyte> s = Avx512F.PermuteVar16x32(sm.AsInt32(), lane + Vector512.Create(4 * rr)).AsSByte();
                    RowQ4K<TT>(x + 16, s, p + PrepCodes, c0, c1, c2, c3, out Vector128<int> lo, out Vector128<int> hi);
                    lo.Store(isb + 8 * rr);
                    if (TT.N > 4) hi.Store(isb + 8 * rr + 4);
                }
                float* ydp = (float*)(p + PrepScales);
                {
                    Vector512<float> yd = Avx512F.BroadcastVector128ToVector512(ydp);
                    Vector512<int> isum = Vector512.Create(Vector256.Create(Vector128.Load(isb), Vector128.Load(isb + 8)),
                        Vector256.Create(Vector128.Load(isb + 16), Vector128.Load(isb + 24)));
                    acc0 += (yd * dw) * Vector512.ConvertToSingle(isum);
                    acc0 -= (yd * dm) * Vector512.ConvertToSingle(summ0);
                }
                if (TT.N > 4)
                {
                    Vector512<float> yd = Avx512F.BroadcastVector128ToVector512(ydp + 4);
                    Vector512<int> isum = Vector512.Create(Vector256.Create(Vector128.Load(isb + 4), Vector128.Load(isb + 12)),
                        Vector256.Create(Vector128.Load(isb + 20), Vector128.Load(isb + 28)));
                    acc1 += (yd * dw) * Vector512.ConvertToSingle(isum);
                    acc1 -= (yd * dm) * Vector512.ConvertToSingle(summ1);
                }
            }
            Store4<TT>(acc0, acc1, res, y + r, ys);
        }
    }

    /// <summary>Lane r·4 + t = Σ_j min_j(row r) · pair_j(token first + t), exact (0 for tokens from <paramref name="n"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> MinSums(Vector512<short> mins, short* pairs, int first, int n)
    {
        Vector512<int> m0 = Avx512BW.MultiplyAddAdjacent(mins, Avx512F.BroadcastVector128ToVector512((int*)(pairs + 8 * first)).AsInt16());
        Vector512<int> m1 = n > first + 1 ? Avx512BW.MultiplyAddAdjacent(mins, Avx512F.BroadcastVector128ToVector512((int*)(pairs + 8 * (first + 1))).AsInt16()) : default;
        Vector512<int> m2 = n > first + 2 ? Avx512BW.MultiplyAddAdjacent(mins, Avx512F.BroadcastVector128ToVector512((int*)(pairs + 8 * (first + 2))).AsInt16()) : default;
        Vector512<int> m3 = n > first + 3 ? Avx512BW.MultiplyAddAdjacent(mins, Avx512F.BroadcastVector128ToVector512((int*)(pairs + 8 * (first + 3))).AsInt16()) : default;
        // per 128-bit lane r: dword t = the sum of m_t's 4 dwords in lane r (the first steps of KQuantSimd.SumRows4)
        Vector512<int> u01 = Avx512F.UnpackLow(m0, m1) + Avx512F.UnpackHigh(m0, m1);
        Vector512<int> u23 = Avx512F.UnpackLow(m2, m3) + Avx512F.UnpackHigh(m2, m3);
        return Avx512F.UnpackLow(u01.AsInt64(), u23.AsInt64()).AsInt32() + Avx512F.UnpackHigh(u01.AsInt64(), u23.AsInt64()).AsInt32();
    }

    /// <summary>y[t·ys + r] = lane r·4 + t of acc0 (t &lt; 4) or acc1 (t − 4), r &lt; 4, t &lt; TT.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4<TT>(Vector512<float> acc0, Vector512<float> acc1, float* res, float* y, int ys) where TT : struct, ITileCount
    {
        acc0.Store(res);
        if (TT.N > 4) acc1.Store(res + 16);
        for (int t = 0; t < TT.N; t++)
        {
            float* rt = res + (t >> 2) * 16 + (t & 3);
            for (int q = 0; q < 4; q++) y[(long)t * ys + q] = rt[q * 4];
        }
    }

    /// <summary>Bytes of <see cref="PrepareQ6K"/>'s output for m tokens of nb super-blocks.</summary>
    internal static long PreparedQ6KBytes(int m, int nb) => (long)nb * 64 + (long)nb * Math.Min(m, TokensMax) * 256;

    /// <summary>Whether a Q6_K product of m tokens takes <see cref="Q6K4x16{TA, TB}"/>, which reads the activations as
    /// <see cref="PrepareQ6K"/> lays them out (a caller that runs many row ranges prepares them once).</summary>
    internal static bool TakesPreparedQ6K(int m) => m > 1 && m <= TokensMax && m <= Tokens && Supported && FourRows;

    /// <summary>The Q8_K activations of m (2..16) tokens laid out for <see cref="Q6K4x16{TA, TB}"/> at dst (64-byte aligned,
    /// <see cref="PreparedQ6KBytes"/>): [nb] x 16 token scales (absent tokens 0), then per super-block i at nb·64 + i·m·256
    /// each token's 256 codes offset to unsigned (a + 128) and reordered per 128 as [the first 8 of each of the 8 groups of
    /// 16 | the last 8 of each], so that int16 lane j of both halves' products belongs to group j / 4.</summary>
    internal static void PrepareQ6K(byte* acts, int actStride, int m, int nb, byte* dst)
    {
        float* yds = (float*)dst;
        byte* codes = dst + (long)nb * 64;
        Vector512<ulong> first = Vector512.Create(0ul, 2, 4, 6, 8, 10, 12, 14), second = first + Vector512<ulong>.One;
        Vector512<ulong> flip = Vector512.Create(0x8080808080808080ul);
        for (int i = 0; i < nb; i++)
            for (int t = 0; t < 16; t++)
            {
                if (t >= m) { yds[i * 16 + t] = 0f; continue; }
                var ab = (BlockQ8_K*)(acts + (long)t * actStride) + i;
                yds[i * 16 + t] = ab->D;
                ulong* c = (ulong*)ab->Qs;
                ulong* d = (ulong*)(codes + ((long)i * m + t) * 256);
                Vector512<ulong> c0 = Vector512.Load(c), c1 = Vector512.Load(c + 8), c2 = Vector512.Load(c + 16), c3 = Vector512.Load(c + 24);
                (Avx512F.PermuteVar8x64x2(c0, first, c1) ^ flip).Store(d);
                (Avx512F.PermuteVar8x64x2(c0, second, c1) ^ flip).Store(d + 8);
                (Avx512F.PermuteVar8x64x2(c2, first, c3) ^ flip).Store(d + 16);
                (Avx512F.PermuteVar8x64x2(c2, second, c3) ^ flip).Store(d + 24);
            }
    }

    /// <summary>Rows [r0, r1) (a multiple of 4) x TA + TB tokens of Q6_K (2..16; TB > 0 only with TA = 8), 4 rows per step
    /// as <see cref="Q4K4{TT}"/>, activations from <see cref="PrepareQ6K"/>: per row and super-block the quants are
    /// unpacked once into signed, pair-ordered registers, tokens 0-7 reduce to their sums, then tokens 8.. reuse the
    /// registers. Per token and super-block 4 vpmaddubsw, 2 vpaddw, 2 vpmaddwd (<see cref="PairToken"/>)
    /// instead of 4 + 4 vpmaddwd and the per-token bsum correction: with the codes offset to a + 128 the isum is
    /// Σ sc·(a + 128)·q − 128·Σ sc·q, the second term the row's own (once per row for all tokens); all exact in int32.
    /// The float steps are those of the 8-token kernel per output (acc += (d_w·d_a)·isum in super-block order), in the
    /// lanes r·4 + t of four vectors (one per 4 tokens), so every output's bits are unchanged.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Q6K4x16<TA, TB>(byte* w, long rowBytes, int r0, int r1, byte* prepared, int nb, float* y, int ys)
        where TA : struct, ITileCount where TB : struct, ITileCount
    {
        int m = TA.N + TB.N;   // TB > 0 only with TA = 8
        float* yds = (float*)prepared;
        byte* codes = prepared + (long)nb * 64;
        Vector512<ulong> first = Vector512.Create(0ul, 2, 4, 6, 8, 10, 12, 14), second = first + Vector512<ulong>.One;
        Vector512<short> halfScale = Vector512.Create((short)0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7);
        long next = 4 * rowBytes;
        Vector512<int> rowOfLane = Vector512.Create(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
        bool l1 = 4 * rowBytes <= 8192;
        int* isb = stackalloc int[64];     // [4 rows] x 16 tokens
        float* res = stackalloc float[64];
        for (int r = r0; r < r1; r += 4)
        {
            byte* w0 = w + r * rowBytes;
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero, acc2 = Vector512<float>.Zero, acc3 = Vector512<float>.Zero;   // lanes r·4 + t of tokens 0-3, 4-7, 8-11, 12-15
            for (int i = 0; i < nb; i++)
            {
                byte* x0 = w0 + (long)i * BlockQ6_K.Size;
                byte* ac = codes + (long)i * m * 256;
                for (int rr = 0; rr < 4; rr++)
                {
                    byte* x = x0 + rr * rowBytes;
                    byte* pf = x + next;
                    if (l1) { Sse.Prefetch0(pf); Sse.Prefetch0(pf + 64); Sse.Prefetch0(pf + 128); Sse.Prefetch0(pf + 192); }
                    else { Sse.Prefetch1(pf); Sse.Prefetch1(pf + 64); Sse.Prefetch1(pf + 128); Sse.Prefetch1(pf + 192); }
                    Vector256<short> sc = VecDotQ6_K.Unpack((BlockQ6_K*)x, out Vector512<byte> u0, out Vector512<byte> u1, out Vector512<byte> u2,
                        out Vector512<byte> u3, out Vector512<short> s0, out Vector512<short> s1, out Vector512<short> s2, out Vector512<short> s3);
                    Vector512<short> s16 = sc.ToVector512Unsafe();
                    // signed quants q = u − 32 in PrepareQ6K's order: per half chunk A = the first 8 quants of each of its 8
                    // groups, B = the last 8, so that int16 lane j of both products belongs to group j / 4 and the two can be
                    // added before the scales
                    Vector512<sbyte> off = Vector512.Create((sbyte)32);
                    Vector512<sbyte> wa0 = Avx512F.PermuteVar8x64x2(u0.AsUInt64(), first, u1.AsUInt64()).AsSByte() - off, wb0 = Avx512F.PermuteVar8x64x2(u0.AsUInt64(), second, u1.AsUInt64()).AsSByte() - off;
                    Vector512<sbyte> wa1 = Avx512F.PermuteVar8x64x2(u2.AsUInt64(), first, u3.AsUInt64()).AsSByte() - off, wb1 = Avx512F.PermuteVar8x64x2(u2.AsUInt64(), second, u3.AsUInt64()).AsSByte() - off;
                    Vector512<short> sh0 = Avx512BW.PermuteVar32x16(s16, halfScale), sh1 = Avx512BW.PermuteVar32x16(s16, halfScale + Vector512.Create((short)8));
                    Vector512<byte> b128 = Vector512.Create((byte)0x80);
                    Vector512<int> cv = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b128, wa0) + Avx512BW.MultiplyAddAdjacent(b128, wb0), sh0)
                        + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b128, wa1) + Avx512BW.MultiplyAddAdjacent(b128, wb1), sh1);
                    Vector128<int> cq = KQuantSimd.SumRows4(cv, cv, cv, cv);   // 128 Σ sc·q in each lane
                    int* dst = isb + 16 * rr;
                    PairTokens<TA>(wa0, wb0, wa1, wb1, sh0, sh1, cq, ac, dst);
                    if (TB.N > 0) PairTokens<TB>(wa0, wb0, wa1, wb1, sh0, sh1, cq, ac + 8 * 256, dst + 8);
                }
                Vector128<float> d4 = Vector128.Create(
                    KQuantMath.Fp16ToFp32(((BlockQ6_K*)x0)->D), KQuantMath.Fp16ToFp32(((BlockQ6_K*)(x0 + rowBytes))->D),
                    KQuantMath.Fp16ToFp32(((BlockQ6_K*)(x0 + 2 * rowBytes))->D), KQuantMath.Fp16ToFp32(((BlockQ6_K*)(x0 + 3 * rowBytes))->D));
                Vector512<float> dw = Avx512F.PermuteVar16x32(d4.ToVector256Unsafe().ToVector512Unsafe(), rowOfLane);
                acc0 += (dw * Avx512F.BroadcastVector128ToVector512(yds + i * 16)) * Vector512.ConvertToSingle(Quad(isb, 0));
                if (TA.N > 4) acc1 += (dw * Avx512F.BroadcastVector128ToVector512(yds + i * 16 + 4)) * Vector512.ConvertToSingle(Quad(isb, 4));
                if (TB.N > 0) acc2 += (dw * Avx512F.BroadcastVector128ToVector512(yds + i * 16 + 8)) * Vector512.ConvertToSingle(Quad(isb, 8));
                if (TB.N > 4) acc3 += (dw * Avx512F.BroadcastVector128ToVector512(yds + i * 16 + 12)) * Vector512.ConvertToSingle(Quad(isb, 12));
            }
            acc0.Store(res);
            acc1.Store(res + 16);
            acc2.Store(res + 32);
            acc3.Store(res + 48);
            float* yr = y + r;
            for (int t = 0; t < m; t++)
            {
                float* rt = res + (t >> 2) * 16 + (t & 3);
                for (int q = 0; q < 4; q++) yr[(long)t * ys + q] = rt[q * 4];
            }
        }
    }

    /// <summary>dst[t] = isum of token t &lt; TT (codes at codes + t·256) for one row: <see cref="PairToken"/> reduced by
    /// 4 tokens, minus the row's offset term cq.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PairTokens<TT>(Vector512<sbyte> wa0, Vector512<sbyte> wb0, Vector512<sbyte> wa1, Vector512<sbyte> wb1,
        Vector512<short> sh0, Vector512<short> sh1, Vector128<int> cq, byte* codes, int* dst) where TT : struct, ITileCount
    {
        Vector512<int> h0 = PairToken(wa0, wb0, wa1, wb1, sh0, sh1, codes);
        Vector512<int> h1 = TT.N > 1 ? PairToken(wa0, wb0, wa1, wb1, sh0, sh1, codes + 256) : default;
        Vector512<int> h2 = TT.N > 2 ? PairToken(wa0, wb0, wa1, wb1, sh0, sh1, codes + 512) : default;
        Vector512<int> h3 = TT.N > 3 ? PairToken(wa0, wb0, wa1, wb1, sh0, sh1, codes + 768) : default;
        (KQuantSimd.SumRows4(h0, h1, h2, h3) - cq).Store(dst);
        if (TT.N > 4)
        {
            Vector512<int> h4 = PairToken(wa0, wb0, wa1, wb1, sh0, sh1, codes + 1024);
            Vector512<int> h5 = TT.N > 5 ? PairToken(wa0, wb0, wa1, wb1, sh0, sh1, codes + 1280) : default;
            Vector512<int> h6 = TT.N > 6 ? PairToken(wa0, wb0, wa1, wb1, sh0, sh1, codes + 1536) : default;
            Vector512<int> h7 = TT.N > 7 ? PairToken(wa0, wb0, wa1, wb1, sh0, sh1, codes + 1792) : default;
            (KQuantSimd.SumRows4(h4, h5, h6, h7) - cq).Store(dst + 4);
        }
    }

    /// <summary>One token's lanes (16 exact int32) of Σ sc·(a + 128)·q against a row's signed quants q = u − 32 in
    /// <see cref="Q6K4x16{TA, TB}"/>'s pair order: per half the two products added in int16 (|pair| &lt;= 2·255·32 = 16320, two of
    /// them &lt;= 32640: no overflow) before one vpmaddwd with the groups' scales.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> PairToken(Vector512<sbyte> wa0, Vector512<sbyte> wb0, Vector512<sbyte> wa1, Vector512<sbyte> wb1,
        Vector512<short> sh0, Vector512<short> sh1, byte* codes)
    {
        Vector512<short> p0 = Avx512BW.MultiplyAddAdjacent(Vector512.Load(codes), wa0) + Avx512BW.MultiplyAddAdjacent(Vector512.Load(codes + 64), wb0);
        Vector512<short> p1 = Avx512BW.MultiplyAddAdjacent(Vector512.Load(codes + 128), wa1) + Avx512BW.MultiplyAddAdjacent(Vector512.Load(codes + 192), wb1);
        return Avx512BW.MultiplyAddAdjacent(p0, sh0) + Avx512BW.MultiplyAddAdjacent(p1, sh1);
    }

    /// <summary>Tokens first .. first + 3 of the 4 rows' sums in isb [4] x 16, as lanes r·4 + t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Quad(int* isb, int first) =>
        Vector512.Create(Vector256.Create(Vector128.Load(isb + first), Vector128.Load(isb + 16 + first)),
            Vector256.Create(Vector128.Load(isb + 32 + first), Vector128.Load(isb + 48 + first)));

    /// <summary>Rows [r0, r1) x TT tokens of Q4_K, one row at a time: per super-block the row's quants and spread scales
    /// are unpacked once and used for every token; the float steps run for the tokens in the lanes of one vector.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Q4K1<TT>(byte* w, long rowBytes, int r0, int r1, byte* prep, int nb, float* y, int ys) where TT : struct, ITileCount
    {
        int stride = PrepStride(TT.N);
        long ahead = PrefetchAhead;
        Vector512<sbyte> c0 = VecDotQ4_K.ScaleSpread(0, 2), c1 = VecDotQ4_K.ScaleSpread(1, 3), c2 = VecDotQ4_K.ScaleSpread(4, 6), c3 = VecDotQ4_K.ScaleSpread(5, 7);
        Vector512<sbyte> minSpread = VecDotQ4_K.MinSpread;
        Vector512<int> firstOfLane = Vector512.Create(0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12);
        for (int r = r0; r < r1; r++)
        {
            byte* wr = w + r * rowBytes;
            Vector256<float> acc = Vector256<float>.Zero;   // lane t: token t's running result (the Dot's acc)
            for (int i = 0; i < nb; i++)
            {
                byte* x = wr + (long)i * BlockQ4_K.Size;
                Sse.Prefetch0(x + ahead); Sse.Prefetch0(x + ahead + 64); Sse.Prefetch0(x + ahead + 128);
                byte* p = prep + (long)i * stride;
                Vector512<sbyte> sm = Avx512F.BroadcastVector128ToVector512((int*)x).AsSByte();   // d, dmin, packed scales
                sm = KQuantSimd.ScaleMinK4x4(sm.AsUInt32()).AsSByte();
                // summ of token t: lane t·4 .. t·4 + 3 partials, reduced in lane, then gathered
                Vector512<short> mins = Avx512BW.Shuffle(sm, minSpread).AsInt16();
                Vector512<int> mv0 = Avx512BW.MultiplyAddAdjacent(mins, Vector512.Load((short*)p));
                mv0 += Avx512F.Shuffle(mv0, 0x4E);
                mv0 += Avx512F.Shuffle(mv0, 0xB1);
                Vector128<int> summLo = Avx512F.PermuteVar16x32(mv0, firstOfLane).GetLower().GetLower(), summHi = default;
                if (TT.N > 4)
                {
                    Vector512<int> mv1 = Avx512BW.MultiplyAddAdjacent(mins, Vector512.Load((short*)(p + 64)));
                    mv1 += Avx512F.Shuffle(mv1, 0x4E);
                    mv1 += Avx512F.Shuffle(mv1, 0xB1);
                    summHi = Avx512F.PermuteVar16x32(mv1, firstOfLane).GetLower().GetLower();
                }
                RowQ4K<TT>(x + 16, sm, p + PrepCodes, c0, c1, c2, c3, out Vector128<int> lo, out Vector128<int> hi);
                Vector256<float> yd = Vector256.Load((float*)(p + PrepScales));
                Vector256<float> d = yd * Vector256.Create(KQuantMath.Fp16ToFp32(((BlockQ4_K*)x)->D));
                Vector256<float> dmin = yd * Vector256.Create(KQuantMath.Fp16ToFp32(((BlockQ4_K*)x)->DMin));
                acc += d * Vector256.ConvertToSingle(Vector256.Create(lo, hi));
                acc -= dmin * Vector256.ConvertToSingle(Vector256.Create(summLo, summHi));
            }
            for (int t = 0; t < TT.N; t++) y[(long)t * ys + r] = acc.GetElement(t);
        }
    }

    /// <summary>One Q4_K row's super-block (quants at q, scales and mins in every lane of s) x TT tokens: lane t of
    /// lo / hi = isum of token t / 4 + t, exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowQ4K<TT>(byte* q, Vector512<sbyte> s, byte* p, Vector512<sbyte> c0, Vector512<sbyte> c1, Vector512<sbyte> c2, Vector512<sbyte> c3,
        out Vector128<int> lo, out Vector128<int> hi) where TT : struct, ITileCount
    {
        Vector512<byte> m4 = Vector512.Create((byte)0x0F);
        Vector512<byte> q01 = Vector512.Load(q), q23 = Vector512.Load(q + 64);
        Vector512<byte> u0 = q01 & m4, u1 = Gfni.V512.GaloisFieldAffineTransform(q01, Vector512.Create(VecDotQ4_K.HighNibble).AsByte(), 0);
        Vector512<byte> u2 = q23 & m4, u3 = Gfni.V512.GaloisFieldAffineTransform(q23, Vector512.Create(VecDotQ4_K.HighNibble).AsByte(), 0);
        Vector512<short> s0 = Avx512BW.Shuffle(s, c0).AsInt16(), s1 = Avx512BW.Shuffle(s, c1).AsInt16();
        Vector512<short> s2 = Avx512BW.Shuffle(s, c2).AsInt16(), s3 = Avx512BW.Shuffle(s, c3).AsInt16();
        Vector512<int> h0 = Token(u0, u1, u2, u3, s0, s1, s2, s3, (sbyte*)p);
        Vector512<int> h1 = TT.N > 1 ? Token(u0, u1, u2, u3, s0, s1, s2, s3, (sbyte*)p + 256) : default;
        Vector512<int> h2 = TT.N > 2 ? Token(u0, u1, u2, u3, s0, s1, s2, s3, (sbyte*)p + 512) : default;
        Vector512<int> h3 = TT.N > 3 ? Token(u0, u1, u2, u3, s0, s1, s2, s3, (sbyte*)p + 768) : default;
        lo = KQuantSimd.SumRows4(h0, h1, h2, h3);
        if (TT.N > 4)
        {
            Vector512<int> h4 = Token(u0, u1, u2, u3, s0, s1, s2, s3, (sbyte*)p + 1024);
            Vector512<int> h5 = TT.N > 5 ? Token(u0, u1, u2, u3, s0, s1, s2, s3, (sbyte*)p + 1280) : default;
            Vector512<int> h6 = TT.N > 6 ? Token(u0, u1, u2, u3, s0, s1, s2, s3, (sbyte*)p + 1536) : default;
            Vector512<int> h7 = TT.N > 7 ? Token(u0, u1, u2, u3, s0, s1, s2, s3, (sbyte*)p + 1792) : default;
            hi = KQuantSimd.SumRows4(h4, h5, h6, h7);
        }
        else hi = default;
    }

    /// <summary>Σ_k scale_k · (u_k · a_k) pair sums: 16 exact int32 lanes summing to one row's isum for the token whose
    /// 4 x 64 codes (in the order of u0..u3) are at a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Token(Vector512<byte> u0, Vector512<byte> u1, Vector512<byte> u2, Vector512<byte> u3,
        Vector512<short> s0, Vector512<short> s1, Vector512<short> s2, Vector512<short> s3, sbyte* a) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u0, Vector512.Load(a)), s0)
        + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u1, Vector512.Load(a + 64)), s1)
        + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u2, Vector512.Load(a + 128)), s2)
        + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u3, Vector512.Load(a + 192)), s3);

    /// <summary>Rows [r0, r1) x TT tokens of Q6_K (token t's Q8_K row at acts + t·actStride), one row at a time: rows
    /// outside whole 4-row groups, one token, or FourRows off.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Q6K<TT>(byte* w, long rowBytes, int r0, int r1, byte* acts, int actStride, int nb, float* y, int ys) where TT : struct, ITileCount
    {
        // the tokens' block scales, [nb] x 8 lanes (absent tokens 0)
        float* yds = (float*)ThreadBuffer.Aligned64(ref t_acts, (long)nb * 32);
        for (int i = 0; i < nb; i++)
            for (int t = 0; t < 8; t++)
                yds[i * 8 + t] = t < TT.N ? ((BlockQ8_K*)(acts + (long)t * actStride) + i)->D : 0f;
        Q6K1<TT>(w, rowBytes, r0, r1, acts, actStride, yds, nb, y, ys);
    }

    /// <summary>Whether whole groups of 4 rows take the 4-row kernels (<see cref="Q4K4{TT}"/>, <see cref="Q6K4x16{TA, TB}"/>);
    /// only benchmarks change it.</summary>
    internal static bool FourRows = true;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Q6K1<TT>(byte* w, long rowBytes, int r0, int r1, byte* acts, int actStride, float* yds, int nb, float* y, int ys) where TT : struct, ITileCount
    {
        long ahead = PrefetchAhead;
        for (int r = r0; r < r1; r++)
        {
            byte* wr = w + r * rowBytes;
            Vector256<float> acc = Vector256<float>.Zero;
            for (int i = 0; i < nb; i++)
            {
                var x = (BlockQ6_K*)(wr + (long)i * BlockQ6_K.Size);
                byte* pf = (byte*)x + ahead;
                Sse.Prefetch0(pf); Sse.Prefetch0(pf + 64); Sse.Prefetch0(pf + 128); Sse.Prefetch0(pf + 192);
                RowQ6K<TT>(x, acts + (long)i * BlockQ8_K.Size, actStride, out Vector128<int> lo, out Vector128<int> hi);
                Vector256<float> d = Vector256.Create(KQuantMath.Fp16ToFp32(x->D)) * Vector256.Load(yds + i * 8);
                acc += d * Vector256.ConvertToSingle(Vector256.Create(lo, hi));
            }
            for (int t = 0; t < TT.N; t++) y[(long)t * ys + r] = acc.GetElement(t);
        }
    }

    /// <summary>One Q6_K row's super-block x TT tokens (token t's block at a + t·actStride): lane t of lo / hi = isum of
    /// token t / 4 + t (Σ_g sc_g Σ u·q8 − 32 Σ_g sc_g·bsum_g, exact), the quants unpacked as in VecDotQ6_K.Rows4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowQ6K<TT>(BlockQ6_K* x, byte* a, long actStride, out Vector128<int> lo, out Vector128<int> hi) where TT : struct, ITileCount
    {
        Vector256<short> sc = VecDotQ6_K.Unpack(x, out Vector512<byte> u0, out Vector512<byte> u1, out Vector512<byte> u2, out Vector512<byte> u3,
            out Vector512<short> s0, out Vector512<short> s1, out Vector512<short> s2, out Vector512<short> s3);
        sc <<= 5;   // 32·scale (|.| <= 4096): the −32 offset through the bsums, exact in the int32 pair sums
        Vector512<int> h0 = TokenQ6K(u0, u1, u2, u3, s0, s1, s2, s3, sc, (BlockQ8_K*)a);
        Vector512<int> h1 = TT.N > 1 ? TokenQ6K(u0, u1, u2, u3, s0, s1, s2, s3, sc, (BlockQ8_K*)(a + actStride)) : default;
        Vector512<int> h2 = TT.N > 2 ? TokenQ6K(u0, u1, u2, u3, s0, s1, s2, s3, sc, (BlockQ8_K*)(a + 2 * actStride)) : default;
        Vector512<int> h3 = TT.N > 3 ? TokenQ6K(u0, u1, u2, u3, s0, s1, s2, s3, sc, (BlockQ8_K*)(a + 3 * actStride)) : default;
        lo = KQuantSimd.SumRows4(h0, h1, h2, h3);
        if (TT.N > 4)
        {
            Vector512<int> h4 = TokenQ6K(u0, u1, u2, u3, s0, s1, s2, s3, sc, (BlockQ8_K*)(a + 4 * actStride));
            Vector512<int> h5 = TT.N > 5 ? TokenQ6K(u0, u1, u2, u3, s0, s1, s2, s3, sc, (BlockQ8_K*)(a + 5 * actStride)) : default;
            Vector512<int> h6 = TT.N > 6 ? TokenQ6K(u0, u1, u2, u3, s0, s1, s2, s3, sc, (BlockQ8_K*)(a + 6 * actStride)) : default;
            Vector512<int> h7 = TT.N > 7 ? TokenQ6K(u0, u1, u2, u3, s0, s1, s2, s3, sc, (BlockQ8_K*)(a + 7 * actStride)) : default;
            hi = KQuantSimd.SumRows4(h4, h5, h6, h7);
        }
        else hi = default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> TokenQ6K(Vector512<byte> u0, Vector512<byte> u1, Vector512<byte> u2, Vector512<byte> u3,
        Vector512<short> s0, Vector512<short> s1, Vector512<short> s2, Vector512<short> s3, Vector256<short> sc32, BlockQ8_K* a) =>
        Token(u0, u1, u2, u3, s0, s1, s2, s3, a->Qs) - Avx2.MultiplyAddAdjacent(sc32, Vector256.Load(a->BSums)).ToVector512();
}
