using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Float;
using Quanta.Core.Kernels.Float;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>
/// Register-blocked F16 weights x F32 activations (prefill): tiles of up to 4 weight rows x 4 tokens. Each group of
/// 16 weight rows is widened to an F32 panel once per call (a per-thread buffer, allocated once) and the tiles read
/// the panel for every token; each activation slice is loaded once per tile and used for every row.
/// <para>Arithmetic: that of <see cref="F16VecDot"/>'s 512-bit Dot, unchanged, per output: four 16-lane accumulators
/// a_k over 64-element chunks (a_k = MultiplyAddEstimate(w, x, a_k) on elements 64c + 16k .. 64c + 16k + 15, chunks
/// ascending; a chunk holding an inf/NaN weight widened by the exact decode), then
/// Vector512.Sum((a0 + a1) + (a2 + a3)) plus the row tail summed in scalar order. So every tile shape gives the Dot's
/// bits: results do not depend on the batch size, the tile or the thread split, and m = 1 (the Dot) agrees with any
/// batch.</para>
/// <para>The tiles run where that Dot takes its 512-bit path (<see cref="Vector512.IsHardwareAccelerated"/>); elsewhere
/// <see cref="Rows"/> computes each output with the Dot itself.</para>
/// Thread-safe; allocates only its per-thread panels (once per thread and size), never per call.
/// </summary>
internal static unsafe class F16Gemm
{
    private const int TokenBlock = 32;   // tokens whose activation rows stay in L2 (with the row panel) while a row tile sweeps them

    /// <summary>True when <paramref name="kernel"/> is the F16 kernel this GEMM reproduces.</summary>
    public static bool Supports(IVecDotKernel kernel) => kernel is F16VecDot;

    /// <summary>The path <see cref="Rows"/> takes on this machine: V512 for the tiles, else the per-output Dot.</summary>
    public static SimdPath Widest => Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? SimdPath.V512 : SimdPath.Scalar;

    /// <summary>
    /// Y[t, r] for rows [r0, r1) and tokens [0, m): weight row r at w + r·2n bytes (n F16 values), the activation row
    /// of token t (n F32 values, each an F16 value, from <see cref="F16VecDot.QuantizeActivation"/>) at
    /// x + t·xStride floats, output at y[t·yStride + r].
    /// </summary>
    public static void Rows(ushort* w, int n, int r0, int r1, float* x, int xStride, int m, float* y, int yStride)
    {
        SimdPath path = Widest;
        KernelPaths.Record("f16*f16 gemm", path);
        if (path != SimdPath.V512)
        {
            var k = F16VecDot.Instance;
            for (int r = r0; r < r1; r++)
            {
                var wr = new ReadOnlySpan<byte>(w + (long)r * n, 2 * n);
                for (int t = 0; t < m; t++)
                    y[(long)t * yStride + r] = k.Dot(wr, new ReadOnlySpan<byte>(x + (long)t * xStride, 4 * n), n);
            }
            return;
        }
        // rows go in groups of PanelRows: their 64-element chunks are widened to F32 once into a panel (in L2), then
        // the 4 x 4 tiles read the panel instead of widening per tile; the row tail [nc, n) is summed from the F16 row
        int nc = n & ~63;
        int ps = nc + 16;                        // panel row stride: off a 4 KiB multiple, so the rows do not alias in L1
        float* panel = Panel(PanelRows * ps);   // [PanelRows, ps]
        for (int g0 = r0; g0 < r1; g0 += PanelRows)
        {
            int g1 = Math.Min(r1, g0 + PanelRows);
            for (int r = g0; r < g1; r++)
            {
                ushort* wr = w + (long)r * n;
                float* pr = panel + (long)(r - g0) * ps;
                for (int i = 0; i < nc; i += 64)
                {
                    bool sp = Special(wr + i);
                    Widen(wr + i, sp).Store(pr + i);
                    Widen(wr + i + 16, sp).Store(pr + i + 16);
                    Widen(wr + i + 32, sp).Store(pr + i + 32);
                    Widen(wr + i + 48, sp).Store(pr + i + 48);
                }
            }
            for (int tb = 0; tb < m; tb += TokenBlock)
            {
                int te = Math.Min(m, tb + TokenBlock);
                for (int r = g0; r < g1; r += 4)
                {
                    int nr = Math.Min(4, g1 - r);
                    float* pr = panel + (long)(r - g0) * ps;
                    ushort* wr = w + (long)r * n;
                    for (int t = tb; t < te; t += 4)
                    {
                        float* xt = x + (long)t * xStride, yt = y + (long)t * yStride + r;
                        int nt = Math.Min(4, te - t);
                        PanelTile(nr, nt, pr, ps, nc, xt, xStride, yt, yStride);
                        for (int tt = 0; tt < nt; tt++)
                            for (int rr = 0; rr < nr; rr++)
                                yt[(long)tt * yStride + rr] += Tail(wr + (long)rr * n, xt + (long)tt * xStride, nc, n);
                    }
                }
            }
        }
    }

    /// <summary>
    /// y[t·ys + r] = Vector512.Sum((a0 + a1) + (a2 + a3)) for nr ≤ 4 panel rows x nt ≤ 4 activation rows, where a_k
    /// = MultiplyAddEstimate(w, x, a_k) over elements 64c + 16k .. 64c + 16k + 15 of [0, nc), c ascending (the caller
    /// adds the row tail). pw: [nr] F32 weight rows of stride ps; x: [nt] F32 rows of stride xs.
    /// </summary>
    private static void PanelTile(int nr, int nt, float* pw, int ps, int nc, float* x, int xs, float* y, int ys)
    {
        switch (nr)
        {
            case 4: TileR<Tile4>(nt, pw, ps, nc, x, xs, y, ys); break;
            case 3: TileR<Tile3>(nt, pw, ps, nc, x, xs, y, ys); break;
            case 2: TileR<Tile2>(nt, pw, ps, nc, x, xs, y, ys); break;
            default: TileR<Tile1>(nt, pw, ps, nc, x, xs, y, ys); break;
        }
    }

    private static void TileR<TR>(int nt, float* pw, int ps, int nc, float* x, int xs, float* y, int ys) where TR : struct, ITileCount
    {
        switch (nt)
        {
            case 4: Tile512<TR, Tile4>(pw, ps, nc, x, xs, y, ys); break;
            case 3: Tile512<TR, Tile3>(pw, ps, nc, x, xs, y, ys); break;
            case 2: Tile512<TR, Tile2>(pw, ps, nc, x, xs, y, ys); break;
            default: Tile512<TR, Tile1>(pw, ps, nc, x, xs, y, ys); break;
        }
    }

    private const int PanelRows = 16;
    private const int ColBlock = 512;   // floats per column block of a tile (a multiple of 64)

    [ThreadStatic] private static float[]? t_panel;

    /// <summary>This thread's pinned weight panel of at least <paramref name="floats"/> floats (allocated once per thread and size).</summary>
    private static float* Panel(int floats) => Pinned(ref t_panel, floats);

    private static float* Pinned(ref float[]? slot, int floats)
    {
        float[]? p = slot;
        if (p == null || p.Length < floats)
            slot = p = GC.AllocateUninitializedArray<float>(Math.Max(floats, 16), pinned: true);
        return (float*)Unsafe.AsPointer(ref p[0]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen(ushort* w, bool special) =>
        special ? F16Conversion.DecodeExact512(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)w)))
                : F16Conversion.DecodeFinite512(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)w)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Special(ushort* w)
    {
        Vector512<short> e = Vector512.Create((short)0x7C00);
        var r0 = Vector512.Load((short*)w) & e;
        var r1 = Vector512.Load((short*)w + 32) & e;
        return Vector512.EqualsAny(Vector512.Max(r0.AsUInt16(), r1.AsUInt16()), e.AsUInt16());
    }

    /// <summary>
    /// Up to 4 rows x 4 tokens. The Dot's accumulator a_k only ever sees elements 64c + 16k .. 64c + 16k + 15, so the
    /// tile runs one pass per k with a single accumulator per output (16 live registers, no spills), keeps the four
    /// results and sums them as the Dot does.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tile512<TR, TT>(float* pw, int ps, int nc, float* x, int xs, float* y, int ys)
        where TR : struct, ITileCount where TT : struct, ITileCount
    {
        // pw: [TR.N] rows of stride ps, the rows' 64-element chunks widened to F32 (the Dot's exact values); part: [k][r·4 + t]
        Vector512<float>* part = stackalloc Vector512<float>[64];
        for (int j = 0; j < 64; j++) part[j] = Vector512<float>.Zero;
        float* p0 = pw, p1 = TR.N > 1 ? pw + ps : pw, p2 = TR.N > 2 ? pw + 2L * ps : pw, p3 = TR.N > 3 ? pw + 3L * ps : pw;
        float* x0 = x, x1 = TT.N > 1 ? x + xs : x, x2 = TT.N > 2 ? x + 2L * xs : x, x3 = TT.N > 3 ? x + 3L * xs : x;
        // columns in blocks of ColBlock so the tile's 4 + 4 rows stay in L1 across the four passes; each accumulator
        // is carried across blocks, so its chunk order is unchanged
        for (int cb = 0; cb < nc; cb += ColBlock)
        {
        int ce = Math.Min(nc, cb + ColBlock);
        for (int k = 0; k < 4; k++)
        {
            Vector512<float>* pk = part + 16 * k;
            Vector512<float> c00 = pk[0], c01 = pk[1], c02 = pk[2], c03 = pk[3];
            Vector512<float> c10 = pk[4], c11 = pk[5], c12 = pk[6], c13 = pk[7];
            Vector512<float> c20 = pk[8], c21 = pk[9], c22 = pk[10], c23 = pk[11];
            Vector512<float> c30 = pk[12], c31 = pk[13], c32 = pk[14], c33 = pk[15];
            for (int i = cb + 16 * k; i < ce; i += 64)
            {
                Vector512<float> w0 = Vector512.Load(p0 + i);
                Vector512<float> w1 = TR.N > 1 ? Vector512.Load(p1 + i) : default;
                Vector512<float> w2 = TR.N > 2 ? Vector512.Load(p2 + i) : default;
                Vector512<float> w3 = TR.N > 3 ? Vector512.Load(p3 + i) : default;
                Vector512<float> xa = Vector512.Load(x0 + i);
                c00 = Vector512.MultiplyAddEstimate(w0, xa, c00);
                if (TR.N > 1) c10 = Vector512.MultiplyAddEstimate(w1, xa, c10);
                if (TR.N > 2) c20 = Vector512.MultiplyAddEstimate(w2, xa, c20);
                if (TR.N > 3) c30 = Vector512.MultiplyAddEstimate(w3, xa, c30);
                if (TT.N > 1)
                {
                    Vector512<float> xb = Vector512.Load(x1 + i);
                    c01 = Vector512.MultiplyAddEstimate(w0, xb, c01);
                    if (TR.N > 1) c11 = Vector512.MultiplyAddEstimate(w1, xb, c11);
                    if (TR.N > 2) c21 = Vector512.MultiplyAddEstimate(w2, xb, c21);
                    if (TR.N > 3) c31 = Vector512.MultiplyAddEstimate(w3, xb, c31);
                }
                if (TT.N > 2)
                {
                    Vector512<float> xc = Vector512.Load(x2 + i);
                    c02 = Vector512.MultiplyAddEstimate(w0, xc, c02);
                    if (TR.N > 1) c12 = Vector512.MultiplyAddEstimate(w1, xc, c12);
                    if (TR.N > 2) c22 = Vector512.MultiplyAddEstimate(w2, xc, c22);
                    if (TR.N > 3) c32 = Vector512.MultiplyAddEstimate(w3, xc, c32);
                }
                if (TT.N > 3)
                {
                    Vector512<float> xd = Vector512.Load(x3 + i);
                    c03 = Vector512.MultiplyAddEstimate(w0, xd, c03);
                    if (TR.N > 1) c13 = Vector512.MultiplyAddEstimate(w1, xd, c13);
                    if (TR.N > 2) c23 = Vector512.MultiplyAddEstimate(w2, xd, c23);
                    if (TR.N > 3) c33 = Vector512.MultiplyAddEstimate(w3, xd, c33);
                }
            }
            pk[0] = c00; pk[1] = c01; pk[2] = c02; pk[3] = c03;
            pk[4] = c10; pk[5] = c11; pk[6] = c12; pk[7] = c13;
            pk[8] = c20; pk[9] = c21; pk[10] = c22; pk[11] = c23;
            pk[12] = c30; pk[13] = c31; pk[14] = c32; pk[15] = c33;
        }
        }
        for (int t = 0; t < TT.N; t++)
            for (int r = 0; r < TR.N; r++)
            {
                int o = r * 4 + t;
                y[(long)t * ys + r] = Vector512.Sum((part[o] + part[16 + o]) + (part[32 + o] + part[48 + o]));
            }
    }

    /// <summary>The row tail [from, n) in scalar order, as the Dot sums it.</summary>
    private static float Tail(ushort* w, float* x, int from, int n)
    {
        float s = 0;
        for (int i = from; i < n; i++) s += F16Conversion.ToSingle(w[i]) * x[i];
        return s;
    }
}
