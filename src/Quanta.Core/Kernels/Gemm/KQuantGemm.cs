using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Kernels.Quantized;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>
/// Register-blocked K-quant x Q8_K matrix product for prefill (Q4_K, Q6_K; <see cref="IKQuantWeight"/>):
/// Y[t, r] = W[r, :] · x[t, :] for a tile of up to 4 weight rows x 4 tokens at once. Each super-block's quants and
/// scales are unpacked once per row and used for every token of the tile (from 8 tokens, once per call: each 16-row
/// group is unpacked into a per-thread buffer, with the float steps' per-row vectors, and every tile only loads);
/// each activation block is loaded once per tile and used for every row.
/// <para>Arithmetic: that of the format's Dot (<see cref="VecDotQ4_K"/>, <see cref="VecDotQ6_K"/>: ggml's
/// ggml_vec_dot_q4_K_q8_K / _q6_K_q8_K), unchanged. Per super-block the integer sums (Σ scale · Σ quant·code, the
/// min or offset correction from the bsums) are exact in int32 whatever the summation order, and the float steps
/// (Q4_K: acc += d·isum; acc −= dmin·summ; Q6_K: acc += d·isum; no fused multiply-add) run per output in super-block
/// order. So every tile shape gives the bits of <see cref="IVecDotKernel.Dot"/> for that row and token: results do not
/// depend on the batch size, the tile or the thread split, and m = 1 (which <see cref="MatMul"/> leaves to the Dot)
/// agrees with any batch.</para>
/// <para>Tiles: AVX-512 BW with GFNI, 2 to <see cref="KQuantGemvMulti.Tokens"/> tokens run the few-token path
/// (<see cref="KQuantGemvMulti"/>: the one-token 4-row kernels applied to every token), more tokens run it in token
/// groups of at most 16 within each row range (Q6_K at every m, Q4_K to <see cref="Q4KGroupedTokens"/>); past that 4 rows
/// x 4 tokens (1 row x 16 tokens for the first 16 tokens of a batch of 17 to 31 is left for when the groups are off);
/// AVX2, 2 rows x 4 tokens. On other machines <see cref="Rows"/>
/// computes each output with the kernel's <see cref="IVecDotKernel.Dot"/> (128-bit or scalar: the same bits).</para>
/// Stateless, thread-safe, allocation-free.
/// </summary>
internal static unsafe class KQuantGemm
{
    private const int TokenBlock = 32;   // tokens whose Q8_K rows stay in L2 while a row tile sweeps them

    /// <summary>True when <paramref name="kernel"/> is a K-quant kernel this GEMM reproduces (q4_k*q8_k, q6_k*q8_k).</summary>
    public static bool Supports(IVecDotKernel kernel) => kernel is VecDotQ4_K or VecDotQ6_K;

    /// <summary>The path <see cref="Rows"/> takes on this machine: V512 or V256 for the tiles, else the per-output Dot.</summary>
    public static SimdPath Widest => Q8KActivation.Path;

    /// <summary>
    /// Y[t, r] for rows [r0, r1) and tokens [0, m): weight row r at w + r·rowBytes (nb super-blocks of
    /// <paramref name="kernel"/>'s format), the Q8_K activation row of token t at acts + t·actStride, output at
    /// y[t·yStride + r].
    /// </summary>
    public static void Rows(IVecDotKernel kernel, byte* w, long rowBytes, int r0, int r1, byte* acts, int actStride, int m, int nb, float* y, int yStride) =>
        Rows(kernel, w, rowBytes, r0, r1, acts, actStride, m, nb, y, yStride, null);

    /// <summary><see cref="Rows(IVecDotKernel, byte*, long, int, int, byte*, int, int, int, float*, int)"/> with the
    /// activations also laid out by <see cref="Prepare"/> (or null), so that calls over many row ranges of one product do
    /// not each redo it.</summary>
    internal static void Rows(IVecDotKernel kernel, byte* w, long rowBytes, int r0, int r1, byte* acts, int actStride, int m, int nb, float* y, int yStride, byte* prepared)
    {
        SimdPath path = Widest;
        if (kernel is VecDotQ4_K)
        {
            KernelPaths.Record("q4_k*q8_k gemm", path);
            Rows<KGemmQ4_K>(w, rowBytes, r0, r1, acts, actStride, m, nb, y, yStride, path);
        }
        else if (kernel is VecDotQ6_K)
        {
            KernelPaths.Record("q6_k*q8_k gemm", path);
            Rows<KGemmQ6_K>(w, rowBytes, r0, r1, acts, actStride, m, nb, y, yStride, path, prepared);
        }
        else throw new NotSupportedException($"no K-quant GEMM for {kernel?.Name}");
    }

    /// <summary>Bytes <see cref="Prepare"/> writes for m tokens of cols columns of kernel's format (0: nothing to prepare).</summary>
    internal static long PreparedBytes(IVecDotKernel kernel, int m, int cols)
    {
        if (kernel is not VecDotQ6_K) return 0;
        // past 16 tokens one layout per token group, one after the other (the bytes grow with m, so scratch for m tokens
        // fits every smaller batch; nb·m·256 is ~0.9x the Q8_K activation rows themselves)
        int nb = cols / 256;
        return (long)TokenGroups(m) * nb * 64 + (long)nb * m * 256;
    }

    /// <summary>The activations of m tokens (Q8_K rows at acts + t·actStride) laid out at dst (64-byte aligned,
    /// <see cref="PreparedBytes"/>) for the few-token path when it reads them so; returns dst, or null when it does not.</summary>
    internal static byte* Prepare(IVecDotKernel kernel, byte* acts, int actStride, int m, int nb, byte* dst)
    {
        if (kernel is not VecDotQ6_K || Widest != SimdPath.V512) return null;
        if (m <= KQuantGemvMulti.TokensMax)
        {
            if (!KQuantGemvMulti.TakesPreparedQ6K(m)) return null;
            KQuantGemvMulti.PrepareQ6K(acts, actStride, m, nb, dst);
            return dst;
        }
        if (!TakesGroups(m, q6: true)) return null;
        int groups = TokenGroups(m);
        byte* d = dst;
        for (int i = 0, t0 = 0; i < groups; i++)
        {
            int t1 = GroupEnd(m, groups, i, even: true);
            if (!KQuantGemvMulti.TakesPreparedQ6K(t1 - t0)) return null;
            KQuantGemvMulti.PrepareQ6K(acts + (long)t0 * actStride, actStride, t1 - t0, nb, d);
            d += KQuantGemvMulti.PreparedQ6KBytes(t1 - t0, nb);
            t0 = t1;
        }
        return dst;
    }

    /// <summary><see cref="Rows"/> on a named path: V512 and V256 (must be supported) run the tiles; Scalar the
    /// format's reference; V128 the format's Dot.</summary>
    internal static void Rows<TK>(byte* w, long rowBytes, int r0, int r1, byte* acts, int actStride, int m, int nb, float* y, int yStride, SimdPath path, byte* prepared = null)
        where TK : struct, IKQuantWeight
    {
        if (path == SimdPath.V256)
        {
            for (int tb = 0; tb < m; tb += TokenBlock)
            {
                int te = Math.Min(m, tb + TokenBlock);
                for (int r = r0; r < r1; r += 2)
                {
                    bool two = r + 1 < r1;
                    for (int t = tb; t < te; t += 4)
                    {
                        int nt = Math.Min(4, te - t);
                        byte* wr = w + r * rowBytes, at = acts + (long)t * actStride;
                        float* yt = y + (long)t * yStride + r;
                        switch (nt)
                        {
                            case 4: if (two) Tile256<TK, Tile2, Tile4>(wr, rowBytes, at, actStride, nb, yt, yStride); else Tile256<TK, Tile1, Tile4>(wr, rowBytes, at, actStride, nb, yt, yStride); break;
                            case 3: if (two) Tile256<TK, Tile2, Tile3>(wr, rowBytes, at, actStride, nb, yt, yStride); else Tile256<TK, Tile1, Tile3>(wr, rowBytes, at, actStride, nb, yt, yStride); break;
                            case 2: if (two) Tile256<TK, Tile2, Tile2>(wr, rowBytes, at, actStride, nb, yt, yStride); else Tile256<TK, Tile1, Tile2>(wr, rowBytes, at, actStride, nb, yt, yStride); break;
                            default: if (two) Tile256<TK, Tile2, Tile1>(wr, rowBytes, at, actStride, nb, yt, yStride); else Tile256<TK, Tile1, Tile1>(wr, rowBytes, at, actStride, nb, yt, yStride); break;
                        }
                    }
                }
            }
            return;
        }
        if (path != SimdPath.V512)
        {
            KQuantVecDotKernel k = TK.Bytes == BlockQ4_K.Size ? VecDotQ4_K.Instance : VecDotQ6_K.Instance;
            int rb = nb * TK.Bytes, ab = nb * BlockQ8_K.Size, n = nb * 256;
            for (int r = r0; r < r1; r++)
            {
                var wr = new ReadOnlySpan<byte>(w + r * rowBytes, rb);
                for (int t = 0; t < m; t++)
                {
                    var a = new ReadOnlySpan<byte>(acts + (long)t * actStride, ab);
                    y[(long)t * yStride + r] = path == SimdPath.Scalar ? k.DotReference(wr, a, n) : k.Dot(wr, a, n);
                }
            }
            return;
        }
        if (m <= KQuantGemvMulti.Tokens && KQuantGemvMulti.Supported)
        {
            KQuantGemvMulti.Rows<TK>(w, rowBytes, r0, r1, acts, actStride, m, nb, y, yStride, path == SimdPath.V512 ? prepared : null);
            return;
        }
        if (TakesGroups(m, q6: TK.Bytes != BlockQ4_K.Size))
        {
            // the few-token path over token groups of at most 16: the row range's weights come in once for the first group
            // and from cache for the others; each output is that path's, so the bits too. Q6_K groups as even as they go
            // (its rate rises with the tokens up to 12), Q4_K whole 16s first (8 and 16 tokens run fastest: 2048 columns,
            // 136-138 GOP/s against 110-126 at 9-14)
            int groups = TokenGroups(m);
            for (int i = 0, t0 = 0; i < groups; i++)
            {
                int t1 = GroupEnd(m, groups, i, even: TK.Bytes != BlockQ4_K.Size);
                KQuantGemvMulti.Rows<TK>(w, rowBytes, r0, r1, acts + (long)t0 * actStride, actStride, t1 - t0, nb, y + (long)t0 * yStride, yStride, prepared);
                if (prepared != null) prepared += KQuantGemvMulti.PreparedQ6KBytes(t1 - t0, nb);
                t0 = t1;
            }
            return;
        }
        if (m >= RowTokens && m < 2 * RowTokens)
        {
            RowsOf16<TK>(w, rowBytes, r0, r1, acts, actStride, m, nb, y, yStride, path);
            return;
        }
        if (m >= PredecodeTokens)
        {
            // Unpack each row's super-blocks once (quants, spread scales, meta) into [rows][nb] x DecodedBlockBytes, then
            // every tile reads them as plain loads; the integer sums and float steps are unchanged, so the bits are too.
            long drb = (long)nb * DecodedBlockBytes;
            for (int rs = r0; rs < r1; rs += DecodeRows)
            {
                int re = Math.Min(r1, rs + DecodeRows);
                // [re - rs] unpacked rows, then per 4-row group and block the rows' d and dmin in tile lanes (r·4 + t)
                byte* dec = DecodeBuffer((re - rs) * drb + (long)DecodeRows / 4 * nb * 128);
                byte* lanes = dec + (re - rs) * drb;
                for (int r = rs; r < re; r++) Decode<TK>(w + r * rowBytes, nb, dec + (r - rs) * drb);
                for (int g = rs; g < re; g += 4)
                    for (int i = 0; i < nb; i++)
                    {
                        float* l = (float*)(lanes + ((long)(g - rs) / 4 * nb + i) * 128);
                        for (int rr = 0; rr < 4; rr++)
                        {
                            byte* x = w + Math.Min(g + rr, re - 1) * rowBytes + (long)i * TK.Bytes;   // absent rows repeat the last
                            float dv = TK.D(x), dm = TK.DMin(x);
                            for (int t = 0; t < 4; t++) { l[rr * 4 + t] = dv; l[16 + rr * 4 + t] = dm; }
                        }
                    }
                for (int tb = 0; tb < m; tb += TokenBlock)
                {
                    int te = Math.Min(m, tb + TokenBlock);
                    for (int r = rs; r < re; r += 4)
                    {
                        int nr = Math.Min(4, re - r);
                        for (int t = tb; t < te; t += 4)
                            Tile512<TK, Decoded>(nr, Math.Min(4, te - t), w + r * rowBytes, rowBytes, dec + (r - rs) * drb, drb,
                                lanes + (long)(r - rs) / 4 * nb * 128, acts + (long)t * actStride, actStride, nb, y + (long)t * yStride + r, yStride);
                    }
                }
            }
            return;
        }
        for (int tb = 0; tb < m; tb += TokenBlock)
        {
            int te = Math.Min(m, tb + TokenBlock);
            for (int r = r0; r < r1; r += 4)
            {
                int nr = Math.Min(4, r1 - r);
                for (int t = tb; t < te; t += 4)
                    Tile512<TK, Raw>(nr, Math.Min(4, te - t), w + r * rowBytes, rowBytes, null, 0, null, acts + (long)t * actStride, actStride, nb,
                        y + (long)t * yStride + r, yStride);
            }
        }
    }

    /// <summary>Most tokens that run <see cref="KQuantGemvMulti"/> in token groups (past <see cref="KQuantGemvMulti.TokensMax"/>;
    /// Q4_K stops earlier, at <see cref="Q4KGroupedTokens"/>); only tests and benchmarks change it (16: no groups).</summary>
    internal static int GroupedTokens = int.MaxValue;

    /// <summary>Q4_K's crossover to the tiles (1 thread, Zen 4, weights from DRAM and cached: groups 1.05-1.22x at 17-48
    /// tokens, 1.0x at 64; the tiles 145-149 GOP/s at 128-256 against the groups' ~140). Q6_K has none: its groups ran
    /// 1.2-1.7x the tiles at every m measured, 512 included (165-174 against 132-145 GOP/s).</summary>
    private const int Q4KGroupedTokens = 64;

    /// <summary>Token groups of at most <see cref="KQuantGemvMulti.TokensMax"/> for m tokens (1 for m = 0).</summary>
    private static int TokenGroups(int m) => Math.Max(1, (m + KQuantGemvMulti.TokensMax - 1) / KQuantGemvMulti.TokensMax);

    /// <summary>End of token group i of m tokens in <paramref name="groups"/> groups: as even as they go, or whole groups of
    /// <see cref="KQuantGemvMulti.TokensMax"/> before the rest.</summary>
    private static int GroupEnd(int m, int groups, int i, bool even) =>
        even ? (int)((long)m * (i + 1) / groups) : Math.Min(m, (i + 1) * KQuantGemvMulti.TokensMax);

    /// <summary>Whether m tokens (past the few-token path's own) run it in token groups: up to <see cref="GroupedTokens"/>,
    /// while that path takes its full 16 (tests may lower its crossover).</summary>
    private static bool TakesGroups(int m, bool q6) => m > KQuantGemvMulti.TokensMax && m <= (q6 ? GroupedTokens : Math.Min(GroupedTokens, Q4KGroupedTokens))
        && KQuantGemvMulti.Tokens == KQuantGemvMulti.TokensMax && KQuantGemvMulti.Supported;

    private const int RowTokens = 16;        // Row16's tokens; batches of 17 to 31 take it for their first 16 (16 and fewer: KQuantGemvMulti)
    private const int PredecodeTokens = 8;   // batches from this size unpack weight rows once per row tile
    private const int DecodeRows = 16;

    /// <summary>Bytes of one unpacked super-block: 4 chunks x (64 quants, 32 int16 pair-sum scales), the 16-byte meta
    /// (padded to 64), then the format's <see cref="IKQuantWeight.Correction"/> vector.</summary>
    private const int DecodedBlockBytes = 4 * 128 + 64 + 64;

    [ThreadStatic] private static byte[]? t_decode;

    /// <summary>This thread's unpacking buffer, at least <paramref name="bytes"/>, 64-byte aligned (<see cref="ThreadBuffer"/>).</summary>
    private static byte* DecodeBuffer(long bytes) => ThreadBuffer.Aligned64(ref t_decode, bytes);

    /// <summary>One weight row of <paramref name="nb"/> super-blocks into [nb] x <see cref="DecodedBlockBytes"/>: chunk k's
    /// quants at 128k, its pair-sum scales at 128k + 64, the meta at 512, the correction vector at 576.</summary>
    private static void Decode<TK>(byte* w, int nb, byte* dst) where TK : struct, IKQuantWeight
    {
        for (int i = 0; i < nb; i++, dst += DecodedBlockBytes)
        {
            byte* x = w + (long)i * TK.Bytes;
            Vector128<byte> meta = TK.Meta(x);
            Vector512<short> s = TK.Scales(meta);
            for (int k = 0; k < 4; k++)
            {
                TK.Chunk(x, k).Store(dst + 128 * k);
                TK.ChunkScales(s, k).Store((short*)(dst + 128 * k + 64));
            }
            meta.Store(dst + 512);
            TK.Correction(meta).Store((short*)(dst + 576));
        }
    }

    /// <summary>Where a 512-bit tile reads its weights from: the packed rows, or rows unpacked by <see cref="Decode{TK}"/>.</summary>
    private interface IWeightSource
    {
        static abstract bool Unpacked { get; }
    }

    private readonly struct Raw : IWeightSource { public static bool Unpacked => false; }
    private readonly struct Decoded : IWeightSource { public static bool Unpacked => true; }

    private static void Tile512<TK, TS>(int nr, int nt, byte* w, long rowBytes, byte* dec, long decRowBytes, byte* lanes, byte* a, int actStride, int nb, float* y, int ys)
        where TK : struct, IKQuantWeight where TS : struct, IWeightSource
    {
        switch (nr)
        {
            case 4: Tile512R<TK, TS, Tile4>(nt, w, rowBytes, dec, decRowBytes, lanes, a, actStride, nb, y, ys); break;
            case 3: Tile512R<TK, TS, Tile3>(nt, w, rowBytes, dec, decRowBytes, lanes, a, actStride, nb, y, ys); break;
            case 2: Tile512R<TK, TS, Tile2>(nt, w, rowBytes, dec, decRowBytes, lanes, a, actStride, nb, y, ys); break;
            default: Tile512R<TK, TS, Tile1>(nt, w, rowBytes, dec, decRowBytes, lanes, a, actStride, nb, y, ys); break;
        }
    }

    private static void Tile512R<TK, TS, TR>(int nt, byte* w, long rowBytes, byte* dec, long decRowBytes, byte* lanes, byte* a, int actStride, int nb, float* y, int ys)
        where TK : struct, IKQuantWeight where TS : struct, IWeightSource where TR : struct, ITileCount
    {
        switch (nt)
        {
            case 4: Tile512<TK, TS, TR, Tile4>(w, rowBytes, dec, decRowBytes, lanes, a, actStride, nb, y, ys); break;
            case 3: Tile512<TK, TS, TR, Tile3>(w, rowBytes, dec, decRowBytes, lanes, a, actStride, nb, y, ys); break;
            case 2: Tile512<TK, TS, TR, Tile2>(w, rowBytes, dec, decRowBytes, lanes, a, actStride, nb, y, ys); break;
            default: Tile512<TK, TS, TR, Tile1>(w, rowBytes, dec, decRowBytes, lanes, a, actStride, nb, y, ys); break;
        }
    }

    /// <summary>Tile of TR rows x TT tokens; with <typeparamref name="TS"/> = Decoded everything comes from the unpacked
    /// rows at <paramref name="dec"/> (row stride <paramref name="decRowBytes"/>) and the rows' d / dmin lanes at
    /// <paramref name="lanes"/> ([nb] x 128 bytes), not from the packed rows.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tile512<TK, TS, TR, TT>(byte* w, long rowBytes, byte* dec, long decRowBytes, byte* lanes, byte* a, int actStride, int nb, float* y, int ys)
        where TK : struct, IKQuantWeight where TS : struct, IWeightSource where TR : struct, ITileCount where TT : struct, ITileCount
    {
        // acc lane r * 4 + t: the running float result of row r, token t (the Dot's acc)
        Vector512<float> acc = Vector512<float>.Zero;
        for (int i = 0; i < nb; i++)
        {
            long bo = (long)i * TK.Bytes;
            byte* x0 = w + bo, x1 = (TR.N > 1 ? w + rowBytes : w) + bo, x2 = (TR.N > 2 ? w + 2 * rowBytes : w) + bo, x3 = (TR.N > 3 ? w + 3 * rowBytes : w) + bo;
            var y0 = (BlockQ8_K*)a + i;
            var y1 = (BlockQ8_K*)(TT.N > 1 ? a + actStride : a) + i;
            var y2 = (BlockQ8_K*)(TT.N > 2 ? a + 2L * actStride : a) + i;
            var y3 = (BlockQ8_K*)(TT.N > 3 ? a + 3L * actStride : a) + i;
            long dbo = (long)i * DecodedBlockBytes;
            byte* d0 = dec + dbo, d1 = (TR.N > 1 ? dec + decRowBytes : dec) + dbo;
            byte* d2 = (TR.N > 2 ? dec + 2 * decRowBytes : dec) + dbo, d3 = (TR.N > 3 ? dec + 3 * decRowBytes : dec) + dbo;
            Vector128<byte> sm0 = TS.Unpacked ? Vector128.Load(d0 + 512) : TK.Meta(x0);
            Vector128<byte> sm1 = TR.N > 1 ? (TS.Unpacked ? Vector128.Load(d1 + 512) : TK.Meta(x1)) : sm0;
            Vector128<byte> sm2 = TR.N > 2 ? (TS.Unpacked ? Vector128.Load(d2 + 512) : TK.Meta(x2)) : sm0;
            Vector128<byte> sm3 = TR.N > 3 ? (TS.Unpacked ? Vector128.Load(d3 + 512) : TK.Meta(x3)) : sm0;
            Vector512<short> s0 = TS.Unpacked ? default : TK.Scales(sm0);
            Vector512<short> s1 = TR.N > 1 && !TS.Unpacked ? TK.Scales(sm1) : default;
            Vector512<short> s2 = TR.N > 2 && !TS.Unpacked ? TK.Scales(sm2) : default;
            Vector512<short> s3 = TR.N > 3 && !TS.Unpacked ? TK.Scales(sm3) : default;
            Vector512<int> i00 = default, i01 = default, i02 = default, i03 = default;
            Vector512<int> i10 = default, i11 = default, i12 = default, i13 = default;
            Vector512<int> i20 = default, i21 = default, i22 = default, i23 = default;
            Vector512<int> i30 = default, i31 = default, i32 = default, i33 = default;
            for (int k = 0; k < 4; k++)
            {
                // row r's 64 quants of chunk k and their scales spread over the pair sums
                Vector512<byte> u0, u1 = default, u2 = default, u3 = default;
                Vector512<short> c0, c1 = default, c2 = default, c3 = default;
                if (TS.Unpacked)
                {
                    int o = 128 * k;
                    u0 = Vector512.Load(d0 + o); c0 = Vector512.Load((short*)(d0 + o + 64));
                    if (TR.N > 1) { u1 = Vector512.Load(d1 + o); c1 = Vector512.Load((short*)(d1 + o + 64)); }
                    if (TR.N > 2) { u2 = Vector512.Load(d2 + o); c2 = Vector512.Load((short*)(d2 + o + 64)); }
                    if (TR.N > 3) { u3 = Vector512.Load(d3 + o); c3 = Vector512.Load((short*)(d3 + o + 64)); }
                }
                else
                {
                    u0 = TK.Chunk(x0, k); c0 = TK.ChunkScales(s0, k);
                    if (TR.N > 1) { u1 = TK.Chunk(x1, k); c1 = TK.ChunkScales(s1, k); }
                    if (TR.N > 2) { u2 = TK.Chunk(x2, k); c2 = TK.ChunkScales(s2, k); }
                    if (TR.N > 3) { u3 = TK.Chunk(x3, k); c3 = TK.ChunkScales(s3, k); }
                }
                {
                    Vector512<sbyte> q = Vector512.Load(y0->Qs + 64 * k);
                    i00 += Mac(u0, q, c0);
                    if (TR.N > 1) i10 += Mac(u1, q, c1);
                    if (TR.N > 2) i20 += Mac(u2, q, c2);
                    if (TR.N > 3) i30 += Mac(u3, q, c3);
                }
                if (TT.N > 1)
                {
                    Vector512<sbyte> q = Vector512.Load(y1->Qs + 64 * k);
                    i01 += Mac(u0, q, c0);
                    if (TR.N > 1) i11 += Mac(u1, q, c1);
                    if (TR.N > 2) i21 += Mac(u2, q, c2);
                    if (TR.N > 3) i31 += Mac(u3, q, c3);
                }
                if (TT.N > 2)
                {
                    Vector512<sbyte> q = Vector512.Load(y2->Qs + 64 * k);
                    i02 += Mac(u0, q, c0);
                    if (TR.N > 1) i12 += Mac(u1, q, c1);
                    if (TR.N > 2) i22 += Mac(u2, q, c2);
                    if (TR.N > 3) i32 += Mac(u3, q, c3);
                }
                if (TT.N > 3)
                {
                    Vector512<sbyte> q = Vector512.Load(y3->Qs + 64 * k);
                    i03 += Mac(u0, q, c0);
                    if (TR.N > 1) i13 += Mac(u1, q, c1);
                    if (TR.N > 2) i23 += Mac(u2, q, c2);
                    if (TR.N > 3) i33 += Mac(u3, q, c3);
                }
            }
            // all 16 outputs' super-block steps at once, lane r·4 + t (absent rows/tokens alias row/token 0)
            Vector512<int> sums = Reduce16(i00, i01, i02, i03, i10, i11, i12, i13, i20, i21, i22, i23, i30, i31, i32, i33);
            if (TS.Unpacked)
            {
                float* l = (float*)(lanes + (long)i * 128);
                acc = TK.Finish16Unpacked(acc, sums, Vector512.Load((short*)(d0 + 576)), Vector512.Load((short*)(d1 + 576)),
                    Vector512.Load((short*)(d2 + 576)), Vector512.Load((short*)(d3 + 576)), Vector512.Load(l), Vector512.Load(l + 16), y0, y1, y2, y3);
            }
            else acc = TK.Finish16(acc, sums, x0, x1, x2, x3, sm0, sm1, sm2, sm3, y0, y1, y2, y3);
        }
        float* res = stackalloc float[16];
        acc.Store(res);
        for (int t = 0; t < TT.N; t++)
            for (int r = 0; r < TR.N; r++)
                y[(long)t * ys + r] = res[r * 4 + t];
    }

    /// <summary>A decode batch of 16 to 31 tokens: the first 16 one weight row at a time (<see cref="Row16"/>), each
    /// super-block unpacked once into registers and used for all 16 tokens, so no unpacked copy is written and read
    /// back; the rest (fewer than 16) through <see cref="Rows{TK}"/>. Per output the same integer sums and float steps,
    /// so the same bits.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RowsOf16<TK>(byte* w, long rowBytes, int r0, int r1, byte* acts, int actStride, int m, int nb, float* y, int yStride, SimdPath path)
        where TK : struct, IKQuantWeight
    {
        float* ad = (float*)DecodeBuffer((long)nb * RowTokens * sizeof(float));
        for (int i = 0; i < nb; i++)
            for (int t = 0; t < RowTokens; t++)
                ad[i * RowTokens + t] = ((BlockQ8_K*)(acts + (long)t * actStride) + i)->D;
        for (int r = r0; r < r1; r++) Row16<TK>(w + r * rowBytes, acts, actStride, nb, ad, y + r, yStride);
        if (m > RowTokens)
            Rows<TK>(w, rowBytes, r0, r1, acts + (long)RowTokens * actStride, actStride, m - RowTokens, nb, y + (long)RowTokens * yStride, yStride, path);
    }

    /// <summary>One weight row x 16 tokens (token t's Q8_K row at a + t·actStride, its block i's scale at
    /// ad[16i + t]; output t at y[t·ys]): per super-block the row's 4 chunks are unpacked once and multiplied with all
    /// 16 tokens' codes (16 int32 accumulators), then <see cref="IKQuantWeight.FinishRow16"/> applies the format Dot's
    /// float steps to the 16 outputs at once, lane t = token t.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Row16<TK>(byte* w, byte* a, int actStride, int nb, float* ad, float* y, int ys) where TK : struct, IKQuantWeight
    {
        Vector512<float> acc = Vector512<float>.Zero;
        long s1 = actStride;
        for (int i = 0; i < nb; i++)
        {
            byte* x = w + (long)i * TK.Bytes;
            byte* ai = a + (long)i * BlockQ8_K.Size;
            Vector128<byte> meta = TK.Meta(x);
            Vector512<short> sc = TK.Scales(meta);
            Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default, i4 = default, i5 = default, i6 = default, i7 = default;
            Vector512<int> i8 = default, i9 = default, i10 = default, i11 = default, i12 = default, i13 = default, i14 = default, i15 = default;
            for (int k = 0; k < 4; k++)
            {
                Vector512<byte> u = TK.Chunk(x, k);
                Vector512<short> c = TK.ChunkScales(sc, k);
                sbyte* q = ((BlockQ8_K*)ai)->Qs + 64 * k;
                i0 += Mac(u, Vector512.Load(q), c);
                i1 += Mac(u, Vector512.Load(q + s1), c);
                i2 += Mac(u, Vector512.Load(q + 2 * s1), c);
                i3 += Mac(u, Vector512.Load(q + 3 * s1), c);
                i4 += Mac(u, Vector512.Load(q + 4 * s1), c);
                i5 += Mac(u, Vector512.Load(q + 5 * s1), c);
                i6 += Mac(u, Vector512.Load(q + 6 * s1), c);
                i7 += Mac(u, Vector512.Load(q + 7 * s1), c);
                i8 += Mac(u, Vector512.Load(q + 8 * s1), c);
                i9 += Mac(u, Vector512.Load(q + 9 * s1), c);
                i10 += Mac(u, Vector512.Load(q + 10 * s1), c);
                i11 += Mac(u, Vector512.Load(q + 11 * s1), c);
                i12 += Mac(u, Vector512.Load(q + 12 * s1), c);
                i13 += Mac(u, Vector512.Load(q + 13 * s1), c);
                i14 += Mac(u, Vector512.Load(q + 14 * s1), c);
                i15 += Mac(u, Vector512.Load(q + 15 * s1), c);
            }
            Vector512<int> sums = Reduce16(i0, i1, i2, i3, i4, i5, i6, i7, i8, i9, i10, i11, i12, i13, i14, i15);
            acc = TK.FinishRow16(acc, sums, x, meta, (BlockQ8_K*)ai, actStride, Vector512.Load(ad + (long)i * RowTokens));
        }
        float* res = stackalloc float[16];
        acc.Store(res);
        for (int t = 0; t < 16; t++) y[(long)t * ys] = res[t];
    }

    /// <summary>Lane j = the exact int32 sum of vector j's 16 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Reduce16(Vector512<int> a0, Vector512<int> a1, Vector512<int> a2, Vector512<int> a3,
        Vector512<int> a4, Vector512<int> a5, Vector512<int> a6, Vector512<int> a7, Vector512<int> a8, Vector512<int> a9,
        Vector512<int> a10, Vector512<int> a11, Vector512<int> a12, Vector512<int> a13, Vector512<int> a14, Vector512<int> a15)
    {
        Vector512<int> l0 = Pair(a0, a1), l1 = Pair(a2, a3), l2 = Pair(a4, a5), l3 = Pair(a6, a7);
        Vector512<int> l4 = Pair(a8, a9), l5 = Pair(a10, a11), l6 = Pair(a12, a13), l7 = Pair(a14, a15);
        Vector512<int> m0 = Pair(l0, l1), m1 = Pair(l2, l3), m2 = Pair(l4, l5), m3 = Pair(l6, l7);
        return Pair(Pair(m0, m1), Pair(m2, m3));
    }

    /// <summary>Adjacent-lane sums of a (lanes 0..7) then b (lanes 8..15): <see cref="LanePairs.Pair(Vector512{int}, Vector512{int})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<int> Pair(Vector512<int> a, Vector512<int> b) => LanePairs.Pair(a, b);

    /// <summary>Σ scale · (quant·code pair sums) over one chunk, exact in int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Mac(Vector512<byte> u, Vector512<sbyte> q, Vector512<short> sc) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, q), sc);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tile256<TK, TR, TT>(byte* w, long rowBytes, byte* a, int actStride, int nb, float* y, int ys)
        where TK : struct, IKQuantWeight where TR : struct, ITileCount where TT : struct, ITileCount
    {
        // acc[r * 4 + t]: the running float result of row r, token t (the Dot's acc); sc: [2][16] int16 block scales
        float* acc = stackalloc float[8];
        for (int i = 0; i < 8; i++) acc[i] = 0f;
        short* sc = stackalloc short[32];
        Vector256<short> ones = Vector256.Create((short)1);
        for (int i = 0; i < nb; i++)
        {
            long bo = (long)i * TK.Bytes;
            byte* x0 = w + bo, x1 = (TR.N > 1 ? w + rowBytes : w) + bo;
            var y0 = (BlockQ8_K*)a + i;
            var y1 = (BlockQ8_K*)(TT.N > 1 ? a + actStride : a) + i;
            var y2 = (BlockQ8_K*)(TT.N > 2 ? a + 2L * actStride : a) + i;
            var y3 = (BlockQ8_K*)(TT.N > 3 ? a + 3L * actStride : a) + i;
            Vector128<byte> sm0 = TK.Meta(x0), sm1 = TR.N > 1 ? TK.Meta(x1) : default;
            TK.Scales256(sm0).Store(sc);
            if (TR.N > 1) TK.Scales256(sm1).Store(sc + 16);
            Vector256<int> i00 = default, i01 = default, i02 = default, i03 = default;
            Vector256<int> i10 = default, i11 = default, i12 = default, i13 = default;
            for (int k = 0; k < 4; k++)
                for (int h = 0; h < 2; h++)
                {
                    Vector256<byte> u0 = TK.Chunk256(x0, k, h), u1 = TR.N > 1 ? TK.Chunk256(x1, k, h) : default;
                    Vector256<short> c0 = TK.HalfScales256(sc, k, h), c1 = TR.N > 1 ? TK.HalfScales256(sc + 16, k, h) : default;
                    int qo = 64 * k + 32 * h;
                    {
                        Vector256<sbyte> q = Vector256.Load(y0->Qs + qo);
                        i00 += Mac256(u0, q, c0);
                        if (TR.N > 1) i10 += Mac256(u1, q, c1);
                    }
                    if (TT.N > 1)
                    {
                        Vector256<sbyte> q = Vector256.Load(y1->Qs + qo);
                        i01 += Mac256(u0, q, c0);
                        if (TR.N > 1) i11 += Mac256(u1, q, c1);
                    }
                    if (TT.N > 2)
                    {
                        Vector256<sbyte> q = Vector256.Load(y2->Qs + qo);
                        i02 += Mac256(u0, q, c0);
                        if (TR.N > 1) i12 += Mac256(u1, q, c1);
                    }
                    if (TT.N > 3)
                    {
                        Vector256<sbyte> q = Vector256.Load(y3->Qs + qo);
                        i03 += Mac256(u0, q, c0);
                        if (TR.N > 1) i13 += Mac256(u1, q, c1);
                    }
                }
            acc[0] = TK.Finish(acc[0], x0, sm0, y0, KQuantSimd.Sum(i00));
            if (TR.N > 1) acc[4] = TK.Finish(acc[4], x1, sm1, y0, KQuantSimd.Sum(i10));
            if (TT.N > 1)
            {
                acc[1] = TK.Finish(acc[1], x0, sm0, y1, KQuantSimd.Sum(i01));
                if (TR.N > 1) acc[5] = TK.Finish(acc[5], x1, sm1, y1, KQuantSimd.Sum(i11));
            }
            if (TT.N > 2)
            {
                acc[2] = TK.Finish(acc[2], x0, sm0, y2, KQuantSimd.Sum(i02));
                if (TR.N > 1) acc[6] = TK.Finish(acc[6], x1, sm1, y2, KQuantSimd.Sum(i12));
            }
            if (TT.N > 3)
            {
                acc[3] = TK.Finish(acc[3], x0, sm0, y3, KQuantSimd.Sum(i03));
                if (TR.N > 1) acc[7] = TK.Finish(acc[7], x1, sm1, y3, KQuantSimd.Sum(i13));
            }
        }
        for (int t = 0; t < TT.N; t++)
            for (int r = 0; r < TR.N; r++)
                y[(long)t * ys + r] = acc[r * 4 + t];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Mac256(Vector256<byte> u, Vector256<sbyte> q, Vector256<short> sc) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, q), sc);

}
