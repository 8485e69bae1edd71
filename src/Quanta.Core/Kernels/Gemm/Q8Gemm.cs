using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Kernels.Quantized;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>
/// Register-blocked matrix product of symmetric 32-element weight blocks (Q4_0, Q8_0) with Q8_0 activations (ggml-cpu's
/// x86 quantizer output, codes in [−127, 127]): Y[t, r] = W[r, :] · x[t, :] for a tile of rows x tokens at once, each
/// loaded weight block used for several tokens and each activation block for several rows.
/// <para>Arithmetic (the same on every path, so a result is bit-identical whatever the path, tile shape, batch size or
/// thread split; <see cref="Reference{TW}"/> is its scalar statement): for block b and lane k (0..7),
/// p = Σ_{j=4k..4k+3} w_j·a_j exactly in int32, s = d_w·d_a in fp32, and
/// acc[(b mod 2)·8 + k] = fma(p, s, acc[(b mod 2)·8 + k]) with b ascending; then h_k = acc_k + acc_{8+k},
/// q_k = h_k + h_{k+4}, result = (q_0 + q_2) + (q_1 + q_3).</para>
/// <para>Activations are first packed per token into a panel (<see cref="PanelBytes"/>): per pair of blocks 192 bytes =
/// 64 codes, 16 floats (d_a of each block, 8 times), and 64 bytes of per-lane corrections (Q4_0: −8 · the lane's
/// activation code sum, as int32; Q8_0: the negated codes). A missing odd last block is zeros. The pairs are followed by
/// the scale row: d_a of each block as one float, zeros up to a multiple of 16.</para>
/// <para>From 2 to 7 tokens the 512-bit tiles read the packed weight rows directly; with AVX-512 VBMI a pair of Q4_0
/// blocks' nibbles then come from one 64-byte load and one byte permute (the row's last pairs, where that load would pass
/// the row's end, take the two 16-byte loads). One token (decode) takes its own 512-bit loop, 4 rows at a time: the
/// rows' scale products d_w·d_a are formed first, 16 blocks per step (weight scales gathered with word permutes and
/// widened in registers, times the scale row), then the product loop takes each pair's two scales with one permute.
/// d_w·d_a is exact in fp32 (two 11-bit significands), so forming it earlier changes no bit.</para>
/// Stateless, thread-safe, allocation-free.
/// </summary>
internal static unsafe partial class Q8Gemm
{
    /// <summary>Panel bytes per pair of blocks.</summary>
    public const int PairBytes = 192;

    private const int ActBlockBytes = 34;   // ggml block_q8_0
    private const int TokenBlock = 32;      // tokens whose panels stay in L2 while a row tile sweeps them

    /// <summary>True when <paramref name="kernel"/> is one this GEMM reproduces the format of (q4_0*q8_0, q8_0*q8_0).</summary>
    public static bool Supports(IVecDotKernel kernel) => kernel is VecDotQ4_0Q8_0 or VecDotQ8_0Q8_0;

    /// <summary>Panel bytes of one token of <paramref name="cols"/> elements (a multiple of 32): the block pairs, then the
    /// scale row (a multiple of 64 bytes, so every token's panel keeps the alignment of the first).</summary>
    public static int PanelBytes(int cols) => checked(ScaleRowOffset(cols / 32) + ScaleRowBytes(cols / 32));

    /// <summary>Byte offset of the scale row in a panel of <paramref name="nb"/> blocks.</summary>
    internal static int ScaleRowOffset(int nb) => checked((nb + 1) / 2 * PairBytes);

    /// <summary>Bytes of the scale row: <paramref name="nb"/> floats rounded up to a multiple of 16 (64 bytes).</summary>
    private static int ScaleRowBytes(int nb) => checked((nb + 15) / 16 * 64);

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
        float* scaleRow = (float*)(panel + ScaleRowOffset(nb));   // [nb rounded up to 16]: d_a of each block, then zeros
        for (int j = 0; 2 * j < nb; j++)
        {
            byte* p = panel + (nint)j * PairBytes;
            for (int h = 0; h < 2; h++)
            {
                int ib = 2 * j + h;
                sbyte* codes = (sbyte*)(p + 32 * h);
                float* sc = (float*)(p + 64) + 8 * h;
                byte* x = p + 128 + 32 * h;
                if (ib >= nb)
                {
                    new Span<byte>(codes, 32).Clear();
                    new Span<byte>(sc, 32).Clear();
                    new Span<byte>(x, 32).Clear();
                    continue;
                }
                byte* ab = act + (nint)ib * ActBlockBytes;
                sbyte* q = (sbyte*)(ab + 2);
                Vector256<sbyte> v = Vector256.Load(q);
                v.Store(codes);
                float d = Fp16Table.Load(ab);
                scaleRow[ib] = d;
                Vector256.Create(d).Store(sc);
                if (!TW.Nibble)
                    (-v).Store((sbyte*)x);
                else if (Avx2.IsSupported)
                {
                    // lane sums of 4 codes, exact: (1 x code) pairs, then pairs of pairs
                    Vector256<int> s4 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.Create((byte)1), v), Vector256.Create((short)1));
                    (-(s4 << 3)).Store((int*)x);
                }
                else
                    for (int k = 0; k < 8; k++) ((int*)x)[k] = -8 * (q[4 * k] + q[4 * k + 1] + q[4 * k + 2] + q[4 * k + 3]);
            }
        }
        for (int ib = nb; ib < (nb + 15) / 16 * 16; ib++) scaleRow[ib] = 0f;
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
        if (path is SimdPath.Scalar or SimdPath.V128)
        {
            for (int t = 0; t < m; t++)
                for (int r = r0; r < r1; r++)
                    y[(long)t * yStride + r] = path == SimdPath.Scalar
                        ? Reference<TW>(w + r * rowBytes, acts + (long)t * actStride, nb)
                        : Dot128<TW>(w + r * rowBytes, panels + (long)t * panelStride, nb);
            return;
        }
        if (path == SimdPath.V512 && m == 1)
        {
            Gemv512<TW>(w, rowBytes, r0, r1, panels, nb, y);
            return;
        }
        int rb = path == SimdPath.V512 ? 4 : 2;
        if (path == SimdPath.V512 && m >= PredecodeTokens)
        {
            // Unpack the weight rows once into [rows][pairs] x DecodedPairBytes (codes, scales, Q8_0's sign mask), then
            // every tile reads them as plain loads; the arithmetic is unchanged, so results are identical either way.
            int np = (nb + 1) >> 1, dpb = DecodedPairBytes<TW>();
            for (int rs = r0; rs < r1; rs += DecodeRows)
            {
                int re = Math.Min(r1, rs + DecodeRows);
                byte* dec = DecodeBuffer((long)(re - rs) * np * dpb);
                for (int r = rs; r < re; r++) Decode512<TW>(w + r * rowBytes, nb, dec + (long)(r - rs) * np * dpb);
                for (int tb = 0; tb < m; tb += TokenBlock)
                {
                    int te = Math.Min(m, tb + TokenBlock);
                    for (int r = rs; r < re; r += 4)
                    {
                        int nr = Math.Min(4, re - r);
                        for (int t = tb; t < te; t += 4)
                            Tile512<TW, Decoded>(nr, Math.Min(4, te - t), dec + (long)(r - rs) * np * dpb, (long)np * dpb,
                                panels + (long)t * panelStride, panelStride, nb, y + (long)t * yStride + r, yStride);
                    }
                }
            }
            return;
        }
        for (int tb = 0; tb < m; tb += TokenBlock)
        {
            int te = Math.Min(m, tb + TokenBlock);
            for (int r = r0; r < r1; r += rb)
            {
                int nr = Math.Min(rb, r1 - r);
                for (int t = tb; t < te; t += 4)
                {
                    int nt = Math.Min(4, te - t);
                    byte* wr = w + r * rowBytes, pt = panels + (long)t * panelStride;
                    float* yt = y + (long)t * yStride + r;
                    if (path == SimdPath.V512) Tile512<TW, Raw>(nr, nt, wr, rowBytes, pt, panelStride, nb, yt, yStride);
                    else Tile256<TW>(nr, nt, wr, rowBytes, pt, panelStride, nb, yt, yStride);
                }
            }
        }
    }

    private const int PredecodeTokens = 8;   // batches from this size unpack weight rows once per row tile
    private const int DecodeRows = 16;

    [ThreadStatic] private static byte[]? t_decode;

    /// <summary>This thread's unpacking buffer, at least <paramref name="bytes"/>, 64-byte aligned (<see cref="ThreadBuffer"/>).</summary>
    private static byte* DecodeBuffer(long bytes) => ThreadBuffer.Aligned64(ref t_decode, bytes);

    private static int DecodedPairBytes<TW>() where TW : struct, IGemmWeight => TW.Nibble ? 128 : 192;

    /// <summary>One weight row into [pairs] x (64 code bytes, 16 float scales[, 64 sign-mask bytes]).</summary>
    private static void Decode512<TW>(byte* w, int nb, byte* dst) where TW : struct, IGemmWeight
    {
        Vector512<ushort> shifts = Shifts512();
        int np = (nb + 1) >> 1, dpb = DecodedPairBytes<TW>();
        for (int j = 0; j < np; j++, dst += dpb)
        {
            W512<TW>(w + 2L * j * TW.Bytes, 2 * j + 1 < nb, shifts, out Vector512<byte> c, out Vector512<sbyte> n, out Vector512<float> s);
            c.Store(dst);
            s.Store((float*)(dst + 64));
            if (!TW.Nibble) n.Store((sbyte*)(dst + 128));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ushort> Shifts512() => Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4,
                                                                     0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4).AsUInt16();

    /// <summary>Where a 512-bit tile reads its weights from: the packed rows, or rows unpacked by <see cref="Decode512{TW}"/>.</summary>
    private interface IWeightSource
    {
        static abstract bool Unpacked { get; }
    }

    private readonly struct Raw : IWeightSource { public static bool Unpacked => false; }
    private readonly struct Decoded : IWeightSource { public static bool Unpacked => true; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadW512<TW, TS>(byte* rowBase, int j, int nb, int wideLoads, Vector512<ushort> shifts, out Vector512<byte> c, out Vector512<sbyte> n, out Vector512<float> s)
        where TW : struct, IGemmWeight where TS : struct, IWeightSource
    {
        if (TS.Unpacked)
        {
            byte* d = rowBase + (nint)j * DecodedPairBytes<TW>();
            c = Vector512.Load(d);
            s = Vector512.Load((float*)(d + 64));
            n = TW.Nibble ? default : Vector512.Load((sbyte*)(d + 128));
        }
        else W512<TW>(rowBase + 2L * j * TW.Bytes, 2 * j + 1 < nb, shifts, out c, out n, out s, j < wideLoads);
    }

    /// <summary>Pairs of Q4_0 blocks (from the first) whose nibbles <see cref="W512{TW}"/> may read with one 64-byte load:
    /// those with 36·j + 64 &lt;= 18·nb, so the load stays inside the row; 0 without AVX-512 VBMI or for Q8_0.</summary>
    private static int WideLoads<TW>(int nb) where TW : struct, IGemmWeight =>
        TW.Nibble && Avx512Vbmi.IsSupported && TW.Bytes * nb >= 64 ? Math.Min((TW.Bytes * nb - 64) / (2 * TW.Bytes) + 1, (nb + 1) >> 1) : 0;

    /// <summary>Bytes 2..17 of a pair (block 0's nibbles) twice, then bytes 20..35 (block 1's) twice.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> PairNibbleIndex() => Vector512.Create(
        (byte)2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
        20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35);

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
            float s = Fp16Table.Load(wb) * Fp16Table.Load(ab);
            int o = (ib & 1) * 8;
            for (int k = 0; k < 8; k++)
            {
                int p = 0;
                for (int e = 4 * k; e < 4 * k + 4; e++) p += TW.Code(wb, e) * q[e];
                acc[o + k] = MathF.FusedMultiplyAdd(p, s, acc[o + k]);
            }
        }
        float q0 = (acc[0] + acc[8]) + (acc[4] + acc[12]);
        float q1 = (acc[1] + acc[9]) + (acc[5] + acc[13]);
        float q2 = (acc[2] + acc[10]) + (acc[6] + acc[14]);
        float q3 = (acc[3] + acc[11]) + (acc[7] + acc[15]);
        return (q0 + q2) + (q1 + q3);
    }

    // ------------------------------------------------------------------ 128-bit (SSSE3), one row x one token

    private static float Dot128<TW>(byte* w, byte* panel, int nb) where TW : struct, IGemmWeight
    {
        Vector128<float> eLo = default, eHi = default, oLo = default, oHi = default;
        Vector128<short> ones = Vector128.Create((short)1);
        for (int ib = 0; ib < nb; ib++)
        {
            byte* wb = w + (nint)ib * TW.Bytes;
            byte* pp = panel + (nint)(ib >> 1) * PairBytes;
            int h = (ib & 1) * 32;
            Vector128<sbyte> aLo = Vector128.Load((sbyte*)(pp + h)), aHi = Vector128.Load((sbyte*)(pp + h + 16));
            Vector128<int> pLo, pHi;
            if (TW.Nibble)
            {
                Vector128<byte> v = Vector128.Load(wb + 2), mask = Vector128.Create((byte)0x0F);
                pLo = Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(v & mask, aLo), ones) + Vector128.Load((int*)(pp + 128 + h));
                pHi = Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(Vector128.ShiftRightLogical(v, 4) & mask, aHi), ones) + Vector128.Load((int*)(pp + 144 + h));
            }
            else
            {
                Vector128<sbyte> wLo = Vector128.Load((sbyte*)(wb + 2)), wHi = Vector128.Load((sbyte*)(wb + 18));
                pLo = Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(Ssse3.Abs(wLo), Ssse3.Sign(aLo, wLo)), ones);
                pHi = Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(Ssse3.Abs(wHi), Ssse3.Sign(aHi, wHi)), ones);
            }
            Vector128<float> s = Vector128.Create(Fp16Table.Load(wb)) * Vector128.Load((float*)(pp + 64 + h));
            if ((ib & 1) == 0)
            {
                eLo = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(pLo), s, eLo);
                eHi = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(pHi), s, eHi);
            }
            else
            {
                oLo = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(pLo), s, oLo);
                oHi = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(pHi), s, oHi);
            }
        }
        return Reduce128(eLo + oLo, eHi + oHi);
    }

    /// <summary>h lanes 0..3 and 4..7 -> (q0 + q2) + (q1 + q3) with q_k = h_k + h_{k+4}.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce128(Vector128<float> hLo, Vector128<float> hHi)
    {
        Vector128<float> q = hLo + hHi;
        return (q.GetElement(0) + q.GetElement(2)) + (q.GetElement(1) + q.GetElement(3));
    }

    // ------------------------------------------------------------------ 256-bit (AVX2 + FMA): up to 2 rows x 4 tokens

    private static void Tile256<TW>(int nr, int nt, byte* w, long rowBytes, byte* p, int ps, int nb, float* y, int ys) where TW : struct, IGemmWeight
    {
        if (nr == 2)
        {
            switch (nt)
            {
                case 4: Tile256<TW, Tile2, Tile4>(w, rowBytes, p, ps, nb, y, ys); break;
                case 3: Tile256<TW, Tile2, Tile3>(w, rowBytes, p, ps, nb, y, ys); break;
                case 2: Tile256<TW, Tile2, Tile2>(w, rowBytes, p, ps, nb, y, ys); break;
                default: Tile256<TW, Tile2, Tile1>(w, rowBytes, p, ps, nb, y, ys); break;
            }
        }
        else
        {
            switch (nt)
            {
                case 4: Tile256<TW, Tile1, Tile4>(w, rowBytes, p, ps, nb, y, ys); break;
                case 3: Tile256<TW, Tile1, Tile3>(w, rowBytes, p, ps, nb, y, ys); break;
                case 2: Tile256<TW, Tile1, Tile2>(w, rowBytes, p, ps, nb, y, ys); break;
                default: Tile256<TW, Tile1, Tile1>(w, rowBytes, p, ps, nb, y, ys); break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tile256<TW, TR, TT>(byte* w, long rowBytes, byte* p, int ps, int nb, float* y, int ys)
        where TW : struct, IGemmWeight where TR : struct, ITileCount where TT : struct, ITileCount
    {
        // Even blocks feed lanes 0..7 and odd blocks lanes 8..15 of the defining accumulator: one pass per parity.
        Vector256<float>* even = stackalloc Vector256<float>[8];
        Pass256<TW, TR, TT>(w, rowBytes, p, ps, nb, 0, even);
        Vector256<float>* odd = stackalloc Vector256<float>[8];
        Pass256<TW, TR, TT>(w, rowBytes, p, ps, nb, 1, odd);
        for (int t = 0; t < TT.N; t++)
            for (int r = 0; r < TR.N; r++)
            {
                Vector256<float> h = even[t * 2 + r] + odd[t * 2 + r];
                y[(long)t * ys + r] = Reduce128(h.GetLower(), h.GetUpper());
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pass256<TW, TR, TT>(byte* w, long rowBytes, byte* p, int ps, int nb, int parity, Vector256<float>* res)
        where TW : struct, IGemmWeight where TR : struct, ITileCount where TT : struct, ITileCount
    {
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector256<short> ones = Vector256.Create((short)1);
        byte* w0 = w, w1 = TR.N > 1 ? w + rowBytes : w;
        byte* p0 = p, p1 = TT.N > 1 ? p + ps : p, p2 = TT.N > 2 ? p + 2 * ps : p, p3 = TT.N > 3 ? p + 3 * ps : p;
        int h = parity * 32;
        for (int ib = parity; ib < nb; ib += 2)
        {
            long wo = (long)ib * TW.Bytes;
            W256<TW>(w0 + wo, out Vector256<byte> c0, out Vector256<sbyte> v0, out Vector256<float> s0);
            Vector256<byte> c1 = default; Vector256<sbyte> v1 = default; Vector256<float> s1 = default;
            if (TR.N > 1) W256<TW>(w1 + wo, out c1, out v1, out s1);
            nint po = (nint)(ib >> 1) * PairBytes + h;
            {
                byte* q = p0 + po;
                Vector256<sbyte> a = Vector256.Load((sbyte*)q); Vector256<float> sa = Vector256.Load((float*)(q + 64)); Vector256<int> x = Vector256.Load((int*)(q + 128));
                a00 = Step256<TW>(c0, v0, s0, a, sa, x, ones, a00);
                if (TR.N > 1) a10 = Step256<TW>(c1, v1, s1, a, sa, x, ones, a10);
            }
            if (TT.N > 1)
            {
                byte* q = p1 + po;
                Vector256<sbyte> a = Vector256.Load((sbyte*)q); Vector256<float> sa = Vector256.Load((float*)(q + 64)); Vector256<int> x = Vector256.Load((int*)(q + 128));
                a01 = Step256<TW>(c0, v0, s0, a, sa, x, ones, a01);
                if (TR.N > 1) a11 = Step256<TW>(c1, v1, s1, a, sa, x, ones, a11);
            }
            if (TT.N > 2)
            {
                byte* q = p2 + po;
                Vector256<sbyte> a = Vector256.Load((sbyte*)q); Vector256<float> sa = Vector256.Load((float*)(q + 64)); Vector256<int> x = Vector256.Load((int*)(q + 128));
                a02 = Step256<TW>(c0, v0, s0, a, sa, x, ones, a02);
                if (TR.N > 1) a12 = Step256<TW>(c1, v1, s1, a, sa, x, ones, a12);
            }
            if (TT.N > 3)
            {
                byte* q = p3 + po;
                Vector256<sbyte> a = Vector256.Load((sbyte*)q); Vector256<float> sa = Vector256.Load((float*)(q + 64)); Vector256<int> x = Vector256.Load((int*)(q + 128));
                a03 = Step256<TW>(c0, v0, s0, a, sa, x, ones, a03);
                if (TR.N > 1) a13 = Step256<TW>(c1, v1, s1, a, sa, x, ones, a13);
            }
        }
        res[0] = a00; res[1] = a10; res[2] = a01; res[3] = a11; res[4] = a02; res[5] = a12; res[6] = a03; res[7] = a13;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void W256<TW>(byte* b, out Vector256<byte> c, out Vector256<sbyte> v, out Vector256<float> s) where TW : struct, IGemmWeight
    {
        if (TW.Nibble)
        {
            Vector128<byte> q = Vector128.Load(b + 2), mask = Vector128.Create((byte)0x0F);
            c = Vector256.Create(q & mask, Vector128.ShiftRightLogical(q, 4) & mask);
            v = default;
        }
        else
        {
            v = Vector256.Load((sbyte*)(b + 2));
            c = Avx2.Abs(v);
        }
        s = Vector256.Create(Fp16Table.Load(b));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Step256<TW>(Vector256<byte> c, Vector256<sbyte> v, Vector256<float> s, Vector256<sbyte> a,
        Vector256<float> sa, Vector256<int> x, Vector256<short> ones, Vector256<float> acc) where TW : struct, IGemmWeight
    {
        Vector256<int> p32 = TW.Nibble
            ? Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c, a), ones) + x
            : Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c, Avx2.Sign(a, v)), ones);
        return Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(p32), s * sa, acc);
    }

    // ------------------------------------------------------------------ 512-bit (AVX-512 BW): up to 4 rows x 4 tokens, 2 blocks per step

    private static void Tile512<TW, TS>(int nr, int nt, byte* w, long rowBytes, byte* p, int ps, int nb, float* y, int ys)
        where TW : struct, IGemmWeight where TS : struct, IWeightSource
    {
        switch (nr)
        {
            case 4: Tile512R<TW, TS, Tile4>(nt, w, rowBytes, p, ps, nb, y, ys); break;
            case 3: Tile512R<TW, TS, Tile3>(nt, w, rowBytes, p, ps, nb, y, ys); break;
            case 2: Tile512R<TW, TS, Tile2>(nt, w, rowBytes, p, ps, nb, y, ys); break;
            default: Tile512R<TW, TS, Tile1>(nt, w, rowBytes, p, ps, nb, y, ys); break;
        }
    }

    private static void Tile512R<TW, TS, TR>(int nt, byte* w, long rowBytes, byte* p, int ps, int nb, float* y, int ys)
        where TW : struct, IGemmWeight where TS : struct, IWeightSource where TR : struct, ITileCount
    {
        switch (nt)
        {
            case 4: Tile512<TW, TS, TR, Tile4>(w, rowBytes, p, ps, nb, y, ys); break;
            case 3: Tile512<TW, TS, TR, Tile3>(w, rowBytes, p, ps, nb, y, ys); break;
            case 2: Tile512<TW, TS, TR, Tile2>(w, rowBytes, p, ps, nb, y, ys); break;
            default: Tile512<TW, TS, TR, Tile1>(w, rowBytes, p, ps, nb, y, ys); break;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tile512<TW, TS, TR, TT>(byte* w, long rowBytes, byte* p, int ps, int nb, float* y, int ys)
        where TW : struct, IGemmWeight where TS : struct, IWeightSource where TR : struct, ITileCount where TT : struct, ITileCount
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        Vector512<short> ones = Vector512.Create((short)1);
        Vector512<ushort> shifts = Shifts512();
        byte* w0 = w, w1 = TR.N > 1 ? w + rowBytes : w, w2 = TR.N > 2 ? w + 2 * rowBytes : w, w3 = TR.N > 3 ? w + 3 * rowBytes : w;
        byte* p0 = p, p1 = TT.N > 1 ? p + ps : p, p2 = TT.N > 2 ? p + 2 * ps : p, p3 = TT.N > 3 ? p + 3 * ps : p;
        int np = (nb + 1) >> 1, wideLoads = TS.Unpacked ? 0 : WideLoads<TW>(nb);
        for (int j = 0; j < np; j++)
        {
            LoadW512<TW, TS>(w0, j, nb, wideLoads, shifts, out Vector512<byte> c0, out Vector512<sbyte> n0, out Vector512<float> s0);
            Vector512<byte> c1 = default, c2 = default, c3 = default;
            Vector512<sbyte> n1 = default, n2 = default, n3 = default;
            Vector512<float> s1 = default, s2 = default, s3 = default;
            if (TR.N > 1) LoadW512<TW, TS>(w1, j, nb, wideLoads, shifts, out c1, out n1, out s1);
            if (TR.N > 2) LoadW512<TW, TS>(w2, j, nb, wideLoads, shifts, out c2, out n2, out s2);
            if (TR.N > 3) LoadW512<TW, TS>(w3, j, nb, wideLoads, shifts, out c3, out n3, out s3);
            nint po = (nint)j * PairBytes;
            {
                byte* q = p0 + po;
                Vector512<sbyte> a = Vector512.Load((sbyte*)q); Vector512<float> sa = Vector512.Load((float*)(q + 64)); Vector512<int> x = Vector512.Load((int*)(q + 128));
                a00 = Step512<TW>(c0, n0, s0, a, sa, x, ones, a00);
                if (TR.N > 1) a10 = Step512<TW>(c1, n1, s1, a, sa, x, ones, a10);
                if (TR.N > 2) a20 = Step512<TW>(c2, n2, s2, a, sa, x, ones, a20);
                if (TR.N > 3) a30 = Step512<TW>(c3, n3, s3, a, sa, x, ones, a30);
            }
            if (TT.N > 1)
            {
                byte* q = p1 + po;
                Vector512<sbyte> a = Vector512.Load((sbyte*)q); Vector512<float> sa = Vector512.Load((float*)(q + 64)); Vector512<int> x = Vector512.Load((int*)(q + 128));
                a01 = Step512<TW>(c0, n0, s0, a, sa, x, ones, a01);
                if (TR.N > 1) a11 = Step512<TW>(c1, n1, s1, a, sa, x, ones, a11);
                if (TR.N > 2) a21 = Step512<TW>(c2, n2, s2, a, sa, x, ones, a21);
                if (TR.N > 3) a31 = Step512<TW>(c3, n3, s3, a, sa, x, ones, a31);
            }
            if (TT.N > 2)
            {
                byte* q = p2 + po;
                Vector512<sbyte> a = Vector512.Load((sbyte*)q); Vector512<float> sa = Vector512.Load((float*)(q + 64)); Vector512<int> x = Vector512.Load((int*)(q + 128));
                a02 = Step512<TW>(c0, n0, s0, a, sa, x, ones, a02);
                if (TR.N > 1) a12 = Step512<TW>(c1, n1, s1, a, sa, x, ones, a12);
                if (TR.N > 2) a22 = Step512<TW>(c2, n2, s2, a, sa, x, ones, a22);
                if (TR.N > 3) a32 = Step512<TW>(c3, n3, s3, a, sa, x, ones, a32);
            }
            if (TT.N > 3)
            {
                byte* q = p3 + po;
                Vector512<sbyte> a = Vector512.Load((sbyte*)q); Vector512<float> sa = Vector512.Load((float*)(q + 64)); Vector512<int> x = Vector512.Load((int*)(q + 128));
                a03 = Step512<TW>(c0, n0, s0, a, sa, x, ones, a03);
                if (TR.N > 1) a13 = Step512<TW>(c1, n1, s1, a, sa, x, ones, a13);
                if (TR.N > 2) a23 = Step512<TW>(c2, n2, s2, a, sa, x, ones, a23);
                if (TR.N > 3) a33 = Step512<TW>(c3, n3, s3, a, sa, x, ones, a33);
            }
        }
        float* y0 = y, y1 = y + ys, y2 = y + 2L * ys, y3 = y + 3L * ys;
        y0[0] = Reduce512(a00);
        if (TR.N > 1) y0[1] = Reduce512(a10);
        if (TR.N > 2) y0[2] = Reduce512(a20);
        if (TR.N > 3) y0[3] = Reduce512(a30);
        if (TT.N > 1)
        {
            y1[0] = Reduce512(a01);
            if (TR.N > 1) y1[1] = Reduce512(a11);
            if (TR.N > 2) y1[2] = Reduce512(a21);
            if (TR.N > 3) y1[3] = Reduce512(a31);
        }
        if (TT.N > 2)
        {
            y2[0] = Reduce512(a02);
            if (TR.N > 1) y2[1] = Reduce512(a12);
            if (TR.N > 2) y2[2] = Reduce512(a22);
            if (TR.N > 3) y2[3] = Reduce512(a32);
        }
        if (TT.N > 3)
        {
            y3[0] = Reduce512(a03);
            if (TR.N > 1) y3[1] = Reduce512(a13);
            if (TR.N > 2) y3[2] = Reduce512(a23);
            if (TR.N > 3) y3[3] = Reduce512(a33);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce512(Vector512<float> acc)
    {
        Vector256<float> h = acc.GetLower() + acc.GetUpper();
        return Reduce128(h.GetLower(), h.GetUpper());
    }

    /// <summary>Two weight blocks (the second zero when <paramref name="full"/> is false): unsigned codes (Q4_0: nibbles,
    /// Q8_0: |w|), Q8_0's negative mask, and the scales (d of block 0 in lanes 0..7, block 1 in 8..15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void W512<TW>(byte* b, bool full, Vector512<ushort> shifts, out Vector512<byte> c, out Vector512<sbyte> neg, out Vector512<float> s, bool wide = false)
        where TW : struct, IGemmWeight
    {
        float d0 = Fp16Table.Load(b), d1 = 0f;
        if (TW.Nibble && wide)
        {
            // both blocks' nibbles from one 64-byte load (the caller checked it stays inside the row): one byte permute
            // gives the layout below directly
            d1 = Fp16Table.Load(b + TW.Bytes);
            c = Avx512BW.ShiftRightLogicalVariable(Avx512Vbmi.PermuteVar64x8(Vector512.Load(b), PairNibbleIndex()).AsUInt16(), shifts).AsByte()
                & Vector512.Create((byte)0x0F);
            neg = default;
        }
        else if (TW.Nibble)
        {
            Vector128<byte> v0 = Vector128.Load(b + 2), v1 = default;
            if (full) { v1 = Vector128.Load(b + TW.Bytes + 2); d1 = Fp16Table.Load(b + TW.Bytes); }
            // [v0, v1, -, -] -> [v0, v0, v1, v1] (128-bit lanes), then low nibbles in lanes 0 and 2, high nibbles in 1 and 3
            Vector512<uint> x = Avx512F.InsertVector128(v0.ToVector256Unsafe().ToVector512Unsafe().AsUInt32(), v1.AsUInt32(), 1);
            x = Avx512F.Shuffle4x128(x, x, 0x50);
            c = Avx512BW.ShiftRightLogicalVariable(x.AsUInt16(), shifts).AsByte() & Vector512.Create((byte)0x0F);
            neg = default;
        }
        else
        {
            Vector256<sbyte> v0 = Vector256.Load((sbyte*)(b + 2)), v1 = default;
            if (full) { v1 = Vector256.Load((sbyte*)(b + TW.Bytes + 2)); d1 = Fp16Table.Load(b + TW.Bytes); }
            Vector512<sbyte> v = Vector512.Create(v0, v1);
            c = Avx512BW.Abs(v);
            neg = Vector512.LessThan(v, Vector512<sbyte>.Zero);
        }
        s = Avx512F.PermuteVar16x32(Vector128.CreateScalarUnsafe(d0).WithElement(1, d1).ToVector256Unsafe().ToVector512Unsafe(),
            Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step512<TW>(Vector512<byte> c, Vector512<sbyte> neg, Vector512<float> s, Vector512<sbyte> a,
        Vector512<float> sa, Vector512<int> x, Vector512<short> ones, Vector512<float> acc) where TW : struct, IGemmWeight
    {
        Vector512<int> p32 = TW.Nibble
            ? Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c, a), ones) + x
            : Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c, Vector512.ConditionalSelect(neg, x.AsSByte(), a)), ones);
        return Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(p32), s * sa, acc);
    }
}
