using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Kernels.Quantized;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>
/// Register-blocked matrix product of symmetric 32-element weight blocks (Q4_0, Q8_0) with Q8_0 activations (ggml-cpu's
/// x86 quantizer output, codes in [−127, 127]): Y[t, r] = W[r, :] · x[t, :] for a tile of rows x tokens at once.
/// <para>Arithmetic (the same on every path, so a result is bit-identical whatever the path, tile shape, batch size or
/// thread split; <see cref="Reference{TW}"/> is its scalar statement): for block b, p_b = Σ_j w_j·a_j over its 32
/// elements, exact in int32 (so any order of the integer sums gives the same p_b), s_b = d_w·d_a in fp32 (exact: two
/// 11-bit significands), and acc[L(b mod 16)] = fma(p_b, s_b, acc[L(b mod 16)]) with b ascending, where L is the fixed
/// lane permutation <see cref="LaneOf"/> (L(i) = (i &amp; 8) | ((i &amp; 1) &lt;&lt; 2) | ((i &gt;&gt; 1) &amp; 3), the
/// order in which a transposing reduction of 16 blocks leaves their sums); then h_k = acc_k + acc_{8+k},
/// q_k = h_k + h_{k+4}, result = (q_0 + q_2) + (q_1 + q_3). One fp32 rounding per block: the integer part of a block is
/// reduced completely before it meets floating point, which lets the 512-bit tiles keep their inner loops integer-only.</para>
/// <para>Activations are first packed per token into a panel (<see cref="PanelBytes"/>), per group of 16 blocks
/// (<see cref="GroupBytes"/>, a missing block is zeros): the codes in block order (512 bytes), their negations (512,
/// Q8_0), the codes transposed for the 512-bit tiles (1024: Q4_0 8 chunks of 16 blocks x 4 codes, Q8_0 16 chunks of
/// 16 blocks x 2 codes widened to int16), d_a of each block (16 floats in lane order L) and per-block corrections (16
/// int32 in lane order; Q4_0: −8 · the block's code sum, which turns products of unsigned nibbles into products of
/// w = nibble − 8; Q8_0: zeros).</para>
/// <para>One token (decode) reads the packed weight rows directly, 4 rows at a time, and reduces each group of 16 blocks
/// with a transposing add tree (<see cref="Gemv512{TW}"/>). 2 to <see cref="DirectTokens"/> tokens read them directly too,
/// each group transposed once in registers for all the tokens (<see cref="GemvMulti512{TW}"/>), and up to a crossover per
/// format and row length (<see cref="GroupedTokensFor{TW}"/>) the same in token groups of at most 16 within each row range
/// (<see cref="GemvGroups512{TW}"/>: the range's weights are read from memory once). Past that the path first
/// transposes each weight row the same way as the activations (<see cref="Decode512{TW}"/>), then a tile of up to 4 rows x 4 tokens
/// needs per chunk only one multiply-add per row and token into 16-bit (Q4_0) or 32-bit (Q8_0) block sums, and one fma
/// per 16 blocks; a last group of at most 8 blocks (lanes 0..7: 768 columns are 16 + 8 blocks) runs on 256-bit halves,
/// since the lanes it leaves alone would only add exact zeros (the accumulators never hold −0). Rows of at most 8 groups
/// plus a half (Q4_0) or one group plus a half (Q8_0) keep a tile's 16 fp32 accumulators in registers from the first
/// group to the reduction (<see cref="TileQ4_0Reg{TR, TT}"/>: each group as two passes of 2 rows x 4 tokens); longer rows
/// keep them in a stack buffer between groups, whose 4 x 4 pass loads fewer operands per multiply-add.</para>
/// Stateless, thread-safe, allocation-free.
/// </summary>
internal static unsafe partial class Q8Gemm
{
    /// <summary>Blocks per group (one 512-bit vector of fp32 accumulator lanes).</summary>
    internal const int Group = 16;

    /// <summary>Panel bytes per group of 16 blocks.</summary>
    public const int GroupBytes = 2176;

    internal const int CodesOffset = 0;        // [16 blocks][32] sbyte codes in block order
    internal const int NegOffset = 512;        // [16][32] the negated codes (Q8_0)
    internal const int TransOffset = 1024;     // Q4_0: [8 chunks][16 lanes][4] sbyte; Q8_0: [16 pieces][16 lanes][2] int16
    internal const int ScaleOffset = 2048;     // [16 lanes] float d_a
    internal const int CorrOffset = 2112;      // [16 lanes] int32 correction

    private const int ActBlockBytes = 34;   // ggml block_q8_0
    private const int TokenBlock = 32;      // tokens whose panels stay in L2 while a row tile sweeps them

    /// <summary>True when <paramref name="kernel"/> is one this GEMM reproduces the format of (q4_0*q8_0, q8_0*q8_0).</summary>
    public static bool Supports(IVecDotKernel kernel) => kernel is VecDotQ4_0Q8_0 or VecDotQ8_0Q8_0;

    /// <summary>Panel bytes of one token of <paramref name="cols"/> elements (a multiple of 32): one
    /// <see cref="GroupBytes"/> per started group of 16 blocks (a multiple of 64 bytes, so every token's panel keeps the
    /// alignment of the first).</summary>
    public static int PanelBytes(int cols) => checked((cols / 32 + Group - 1) / Group * GroupBytes);

    /// <summary>Accumulator lane of block <paramref name="i"/> (0..15) of a group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int LaneOf(int i) => (i & 8) | ((i & 1) << 2) | ((i >> 1) & 3);

    /// <summary>Block (0..15) of a group whose sum accumulator lane <paramref name="p"/> holds; the inverse of <see cref="LaneOf"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int BlockOf(int p) => (p & 8) | ((p & 3) << 1) | ((p >> 2) & 1);

    /// <summary>The path <see cref="Rows"/> takes on this machine.</summary>
    public static SimdPath Widest
    {
        get
        {
            if (Vector512.IsHardwareAccelerated && Avx512BW.IsSupported) return SimdPath.V512;
            if (Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported) return SimdPath.V256;
            if (Vector128.IsHardwareAccelerated && Ssse3.IsSupported) return SimdPath.V128;
            return SimdPath.Scalar;
        }
    }

    /// <summary>Whether <paramref name="path"/> can run here.</summary>
    internal static bool PathSupported(SimdPath path) => path switch
    {
        SimdPath.V512 => Vector512.IsHardwareAccelerated && Avx512BW.IsSupported,
        SimdPath.V256 => Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported,
        SimdPath.V128 => Vector128.IsHardwareAccelerated && Ssse3.IsSupported,
        _ => true,
    };

    /// <summary>Packs one token's Q8_0 activation row (<paramref name="nb"/> ggml blocks at <paramref name="act"/>) into
    /// its panel (<see cref="PanelBytes"/> bytes at <paramref name="panel"/>) for weights of format <paramref name="kernel"/>.</summary>
    public static void Pack(IVecDotKernel kernel, byte* act, int nb, byte* panel)
    {
        if (kernel is VecDotQ4_0Q8_0) Pack<GemmQ4_0>(act, nb, panel);
        else if (kernel is VecDotQ8_0Q8_0) Pack<GemmQ8_0>(act, nb, panel);
        else throw new NotSupportedException($"no GEMM for {kernel?.Name}");
    }

    internal static void Pack<TW>(byte* act, int nb, byte* panel) where TW : struct, IGemmWeight
    {
        bool v512 = PathSupported(SimdPath.V512), v256 = !v512 && PathSupported(SimdPath.V256);
        for (int g = 0; g * Group < nb; g++)
        {
            byte* pg = panel + (nint)g * GroupBytes;
            float* sc = (float*)(pg + ScaleOffset);
            int* corr = (int*)(pg + CorrOffset);
            for (int i = 0; i < Group; i++)
            {
                int ib = g * Group + i, lane = LaneOf(i);
                sbyte* codes = (sbyte*)(pg + CodesOffset + 32 * i);
                if (ib >= nb)
                {
                    new Span<byte>(codes, 32).Clear();
                    if (!TW.Nibble) new Span<byte>(pg + NegOffset + 32 * i, 32).Clear();
                    sc[lane] = 0f;
                    corr[lane] = 0;
                    continue;
                }
                byte* ab = act + (nint)ib * ActBlockBytes;
                sbyte* q = (sbyte*)(ab + 2);
                sc[lane] = Fp16Table.Load(ab);
                if (Vector256.IsHardwareAccelerated)
                {
                    Vector256<sbyte> v = Vector256.Load(q);
                    v.Store(codes);
                    if (!TW.Nibble) (-v).Store((sbyte*)(pg + NegOffset + 32 * i));
                    else if (Avx2.IsSupported)
                    {
                        // the code sum, exact: (1 x code) pairs, then pairs of pairs
                        Vector256<int> s4 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.Create((byte)1), v), Vector256.Create((short)1));
                        corr[lane] = -8 * Vector128.Sum(s4.GetLower() + s4.GetUpper());
                        continue;
                    }
                }
                else
                {
                    for (int e = 0; e < 32; e++) codes[e] = q[e];
                    if (!TW.Nibble) for (int e = 0; e < 32; e++) ((sbyte*)(pg + NegOffset + 32 * i))[e] = (sbyte)-q[e];
                }
                int sum = 0;
                if (TW.Nibble) for (int e = 0; e < 32; e++) sum += q[e];
                corr[lane] = -8 * sum;
            }
            // the transposed codes the 512- and 256-bit tiles read
            if (v512) Transpose<TW>(pg + CodesOffset, pg + TransOffset);
            else if (v256) Transpose256<TW>(pg + CodesOffset, pg + TransOffset);
        }
    }

    /// <summary>The 16 blocks x 32 codes at <paramref name="src"/> (block order) as the tiles read them at
    /// <paramref name="dst"/>: chunk k lane p = codes 4k..4k+3 of block <see cref="BlockOf"/>(p) (Q4_0: 8 chunks of 64
    /// bytes), or for Q8_0 each chunk widened to int16 as two pieces, codes (4k, 4k+2) and (4k+1, 4k+3) of the block.</summary>
    private static void Transpose<TW>(byte* src, byte* dst) where TW : struct, IGemmWeight
    {
        Transpose8(Vector512.Load((int*)src), Vector512.Load((int*)(src + 64)), Vector512.Load((int*)(src + 128)), Vector512.Load((int*)(src + 192)),
            Vector512.Load((int*)(src + 256)), Vector512.Load((int*)(src + 320)), Vector512.Load((int*)(src + 384)), Vector512.Load((int*)(src + 448)),
            out var t0, out var t1, out var t2, out var t3, out var t4, out var t5, out var t6, out var t7);
        StoreChunk<TW>(dst, 0, t0); StoreChunk<TW>(dst, 1, t1); StoreChunk<TW>(dst, 2, t2); StoreChunk<TW>(dst, 3, t3);
        StoreChunk<TW>(dst, 4, t4); StoreChunk<TW>(dst, 5, t5); StoreChunk<TW>(dst, 6, t6); StoreChunk<TW>(dst, 7, t7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreChunk<TW>(byte* dst, int k, Vector512<int> t) where TW : struct, IGemmWeight
    {
        if (TW.Nibble) { t.Store((int*)(dst + 64 * k)); return; }
        Vector512<short> s = t.AsInt16();
        ((s << 8) >> 8).Store((short*)(dst + 128 * k));   // bytes 0 and 2 of each lane, sign-extended
        (s >> 8).Store((short*)(dst + 128 * k + 64));     // bytes 1 and 3
    }

    /// <summary>
    /// Transposes 8 vectors n_j holding blocks 2j (dwords 0..7) and 2j+1 (dwords 8..15) of 8 dword chunks each into
    /// t_k: dword p = chunk k of block <see cref="BlockOf"/>(p). Three levels of interleaves (24 shuffles).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8(Vector512<int> n0, Vector512<int> n1, Vector512<int> n2, Vector512<int> n3,
        Vector512<int> n4, Vector512<int> n5, Vector512<int> n6, Vector512<int> n7,
        out Vector512<int> t0, out Vector512<int> t1, out Vector512<int> t2, out Vector512<int> t3,
        out Vector512<int> t4, out Vector512<int> t5, out Vector512<int> t6, out Vector512<int> t7)
    {
        // 128-bit lane L of n_j: chunks 4(L & 1) + 0..3 of block 2j + (L >> 1)
        Vector512<long> l0 = Avx512F.UnpackLow(n0, n1).AsInt64(), h0 = Avx512F.UnpackHigh(n0, n1).AsInt64();
        Vector512<long> l1 = Avx512F.UnpackLow(n2, n3).AsInt64(), h1 = Avx512F.UnpackHigh(n2, n3).AsInt64();
        Vector512<long> l2 = Avx512F.UnpackLow(n4, n5).AsInt64(), h2 = Avx512F.UnpackHigh(n4, n5).AsInt64();
        Vector512<long> l3 = Avx512F.UnpackLow(n6, n7).AsInt64(), h3 = Avx512F.UnpackHigh(n6, n7).AsInt64();
        // q_{u,e} lane L dword d: chunk 4(L & 1) + e of block 2(4u + d) + (L >> 1)
        Vector512<int> q00 = Avx512F.UnpackLow(l0, l1).AsInt32(), q01 = Avx512F.UnpackHigh(l0, l1).AsInt32();
        Vector512<int> q02 = Avx512F.UnpackLow(h0, h1).AsInt32(), q03 = Avx512F.UnpackHigh(h0, h1).AsInt32();
        Vector512<int> q10 = Avx512F.UnpackLow(l2, l3).AsInt32(), q11 = Avx512F.UnpackHigh(l2, l3).AsInt32();
        Vector512<int> q12 = Avx512F.UnpackLow(h2, h3).AsInt32(), q13 = Avx512F.UnpackHigh(h2, h3).AsInt32();
        t0 = Avx512F.Shuffle4x128(q00, q10, 0x88); t4 = Avx512F.Shuffle4x128(q00, q10, 0xDD);
        t1 = Avx512F.Shuffle4x128(q01, q11, 0x88); t5 = Avx512F.Shuffle4x128(q01, q11, 0xDD);
        t2 = Avx512F.Shuffle4x128(q02, q12, 0x88); t6 = Avx512F.Shuffle4x128(q02, q12, 0xDD);
        t3 = Avx512F.Shuffle4x128(q03, q13, 0x88); t7 = Avx512F.Shuffle4x128(q03, q13, 0xDD);
    }

    /// <summary>
    /// Y[t, r] for rows [r0, r1) and tokens [0, m): weight row r at w + r·rowBytes (nb blocks), the ggml activation row of
    /// token t at acts + t·actStride, its panel at panels + t·panelStride, output at y[t·yStride + r].
    /// </summary>
    public static void Rows(IVecDotKernel kernel, byte* w, long rowBytes, int r0, int r1, byte* acts, int actStride,
        byte* panels, int panelStride, int m, int nb, float* y, int yStride)
    {
        SimdPath path = Widest;
        if (kernel is VecDotQ4_0Q8_0)
        {
            KernelPaths.Record("q4_0*q8_0 gemm", path);
            Rows<GemmQ4_0>(w, rowBytes, r0, r1, acts, actStride, panels, panelStride, m, nb, y, yStride, path);
        }
        else if (kernel is VecDotQ8_0Q8_0)
        {
            KernelPaths.Record("q8_0*q8_0 gemm", path);
            Rows<GemmQ8_0>(w, rowBytes, r0, r1, acts, actStride, panels, panelStride, m, nb, y, yStride, path);
        }
        else throw new NotSupportedException($"no GEMM for {kernel?.Name}");
    }

    /// <summary><see cref="Rows"/> on a named path (tests cover every path on one machine); the path must be supported.</summary>
    internal static void Rows<TW>(byte* w, long rowBytes, int r0, int r1, byte* acts, int actStride,
        byte* panels, int panelStride, int m, int nb, float* y, int yStride, SimdPath path) where TW : struct, IGemmWeight
    {
        if (path == SimdPath.V256)
        {
            Rows256<TW>(w, rowBytes, r0, r1, panels, panelStride, m, nb, y, yStride);
            return;
        }
        if (path != SimdPath.V512)
        {
            for (int t = 0; t < m; t++)
                for (int r = r0; r < r1; r++)
                    y[(long)t * yStride + r] = path == SimdPath.Scalar
                        ? Reference<TW>(w + r * rowBytes, acts + (long)t * actStride, nb)
                        : DotLanes<TW>(w + r * rowBytes, panels + (long)t * panelStride, nb);
            return;
        }
        if (m == 1)
        {
            Gemv512<TW>(w, rowBytes, r0, r1, panels, nb, y);
            return;
        }
        if (m <= DirectTokens)
        {
            GemvMulti512<TW>(w, rowBytes, r0, r1, panels, panelStride, m, nb, y, yStride);
            return;
        }
        // (m <= 16 past a lowered DirectTokens takes the tiles, as the benchmarks that lower it ask)
        if (m > DirectTokensMax && m <= GroupedTokensFor<TW>(nb))
        {
            GemvGroups512<TW>(w, rowBytes, r0, r1, panels, panelStride, m, nb, y, yStride);
            return;
        }
        // Transpose the weight rows once into [rows][groups] x DecodedGroupBytes, then every tile reads them as plain loads.
        int ng = (nb + Group - 1) / Group, dgb = DecodedGroupBytes<TW>();
        long drb = (long)ng * dgb;
        Vector512<float>* acc = stackalloc Vector512<float>[16];   // a tile's fp32 accumulators [row * 4 + token]
        int whole = WholeGroups(nb), span = TW.Nibble ? int.MaxValue : Q8Span;
        Vector512<float>* accs = whole <= span ? null
            : (Vector512<float>*)ThreadBuffer.Aligned64(ref t_accs, (long)((DecodeRows + 3) / 4) * ((TokenBlock + 3) / 4) * 16 * 64);
        for (int rs = r0; rs < r1; rs += DecodeRows)
        {
            int re = Math.Min(r1, rs + DecodeRows);
            byte* dec = DecodeBuffer((re - rs) * drb);
            for (int r = rs; r < re; r++) Decode512<TW>(w + r * rowBytes, nb, dec + (r - rs) * drb);
            for (int tb = 0; tb < m; tb += TokenBlock)
            {
                int te = Math.Min(m, tb + TokenBlock);
                if (whole <= span)
                {
                    for (int r = rs; r < re; r += 4)
                    {
                        int nr = Math.Min(4, re - r);
                        for (int t = tb; t < te; t += 4)
                            Tile512<TW>(nr, Math.Min(4, te - t), dec + (r - rs) * drb, drb,
                                panels + (long)t * panelStride, panelStride, nb, y + (long)t * yStride + r, yStride, acc);
                    }
                    continue;
                }
                // long rows in column spans: every tile of the block takes the span's groups before the next span, so
                // a tile's operands come from a working set of the span's width (each tile's groups still ascend)
                for (int gs = 0; gs < whole; gs += span)
                    for (int r = rs, i = 0; r < re; r += 4)
                    {
                        int nr = Math.Min(4, re - r);
                        for (int t = tb; t < te; t += 4, i++)
                            Tile512<TW>(nr, Math.Min(4, te - t), dec + (r - rs) * drb, drb, panels + (long)t * panelStride,
                                panelStride, nb, y + (long)t * yStride + r, yStride, accs + 16 * i, gs, gs + span);
                    }
            }
        }
    }

    private const int DecodeRows = 16;

    [ThreadStatic] private static byte[]? t_decode;
    [ThreadStatic] private static byte[]? t_accs;

    /// <summary>Whole groups per column span of a long Q8_0 row (2048 columns): a 4 x 4 tile's operands over a span are
    /// ~35 KB, as for the 2048-column products, where a whole 8192-column row's are ~140 KB (2048 x 8192 at m = 512:
    /// ~13% less thread time than without spans; 2 groups measured slower, 8 the same; Q4_0, half the bytes per
    /// group, gained nothing).</summary>
    private const int Q8Span = 4;

    /// <summary>This thread's unpacking buffer, at least <paramref name="bytes"/>, 64-byte aligned (<see cref="ThreadBuffer"/>).</summary>
    private static byte* DecodeBuffer(long bytes) => ThreadBuffer.Aligned64(ref t_decode, bytes);

    // ------------------------------------------------------------------ scalar reference

    /// <summary>The defining arithmetic for one weight row and one ggml Q8_0 activation row of <paramref name="nb"/> blocks.</summary>
    internal static float Reference<TW>(byte* w, byte* a, int nb) where TW : struct, IGemmWeight
    {
        float* acc = stackalloc float[16];
        for (int i = 0; i < 16; i++) acc[i] = 0f;
        for (int ib = 0; ib < nb; ib++)
        {
            byte* wb = w + (nint)ib * TW.Bytes;
            byte* ab = a + (nint)ib * ActBlockBytes;
            sbyte* q = (sbyte*)(ab + 2);
            int p = 0;
            for (int e = 0; e < 32; e++) p += TW.Code(wb, e) * q[e];
            int lane = LaneOf(ib & 15);
            acc[lane] = MathF.FusedMultiplyAdd(p, Fp16Table.Load(wb) * Fp16Table.Load(ab), acc[lane]);
        }
        return Reduce16(acc);
    }

    /// <summary>h_k = acc_k + acc_{8+k}, q_k = h_k + h_{k+4}, (q_0 + q_2) + (q_1 + q_3).</summary>
    private static float Reduce16(float* acc)
    {
        float q0 = (acc[0] + acc[8]) + (acc[4] + acc[12]);
        float q1 = (acc[1] + acc[9]) + (acc[5] + acc[13]);
        float q2 = (acc[2] + acc[10]) + (acc[6] + acc[14]);
        float q3 = (acc[3] + acc[11]) + (acc[7] + acc[15]);
        return (q0 + q2) + (q1 + q3);
    }

    // ------------------------------------------------------------------ 128-bit (SSSE3), one row x one token

    /// <summary>One row times one panel: each block's integer sum with 128-bit multiply-adds, then the defining fp32 lane update.</summary>
    private static float DotLanes<TW>(byte* w, byte* panel, int nb) where TW : struct, IGemmWeight
    {
        float* acc = stackalloc float[16];
        for (int i = 0; i < 16; i++) acc[i] = 0f;
        for (int ib = 0; ib < nb; ib++)
        {
            byte* wb = w + (nint)ib * TW.Bytes;
            byte* pg = panel + (nint)(ib >> 4) * GroupBytes;
            int lane = LaneOf(ib & 15);
            sbyte* a = (sbyte*)(pg + CodesOffset + 32 * (ib & 15));
            int p = BlockSum128<TW>(wb, a) + ((int*)(pg + CorrOffset))[lane];
            acc[lane] = MathF.FusedMultiplyAdd(p, Fp16Table.Load(wb) * ((float*)(pg + ScaleOffset))[lane], acc[lane]);
        }
        return Reduce16(acc);
    }

    /// <summary>Σ c_j·a_j of one block with c the unsigned nibbles (Q4_0; the caller adds the correction) or the signed codes (Q8_0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BlockSum128<TW>(byte* wb, sbyte* a) where TW : struct, IGemmWeight
    {
        Vector128<sbyte> aLo = Vector128.Load(a), aHi = Vector128.Load(a + 16);
        Vector128<short> ones = Vector128.Create((short)1);
        Vector128<short> s;
        if (TW.Nibble)
        {
            Vector128<byte> v = Vector128.Load(wb + 2), mask = Vector128.Create((byte)0x0F);
            s = Ssse3.MultiplyAddAdjacent(v & mask, aLo) + Ssse3.MultiplyAddAdjacent(Vector128.ShiftRightLogical(v, 4) & mask, aHi);
            return Vector128.Sum(Sse2.MultiplyAddAdjacent(s, ones));
        }
        Vector128<sbyte> wLo = Vector128.Load((sbyte*)(wb + 2)), wHi = Vector128.Load((sbyte*)(wb + 18));
        return Vector128.Sum(Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(Ssse3.Abs(wLo), Ssse3.Sign(aLo, wLo)), ones)
            + Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(Ssse3.Abs(wHi), Ssse3.Sign(aHi, wHi)), ones));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce512(Vector512<float> acc) => Reduce256(acc.GetLower(), acc.GetUpper());
}
