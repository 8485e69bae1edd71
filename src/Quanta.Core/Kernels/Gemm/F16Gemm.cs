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
/// the panel for every token; each activation slice is loaded once per tile and used for every row. Panel and
/// activation rows (<see cref="Prepare"/>) hold each 64-element chunk's four 16-element slices in accumulator order,
/// so each accumulator's pass reads contiguous memory.
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
    /// Rearranges the activation rows in place for <see cref="Rows"/>: x: [m] rows of n floats at stride xStride. Where
    /// the tiles run (<see cref="Widest"/> = V512) each row's first nc = n &amp; ~63 elements go from chunk order
    /// (element 64c + 16k + j) to accumulator order (position k·nc/4 + 16c + j), so the pass of accumulator k reads one
    /// contiguous run; the tail [nc, n) stays. Elsewhere it does nothing. Call it once per batch, before any Rows.
    /// </summary>
    public static void Prepare(float* x, int xStride, int m, int n)
    {
        if (Widest != SimdPath.V512) return;
        int nc = n & ~63;
        if (nc == 0) return;
        float* tmp = Pinned(ref t_row, nc);   // [nc] one row in chunk order
        for (int t = 0; t < m; t++)
        {
            float* xr = x + (long)t * xStride;
            Buffer.MemoryCopy(xr, tmp, (long)nc * sizeof(float), (long)nc * sizeof(float));
            Permute(tmp, xr, nc);
        }
    }

    /// <summary>dst[k·nc/4 + 16c + j] = src[64c + 16k + j] for 64c + 16k + j &lt; nc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Permute(float* src, float* dst, int nc)
    {
        int q = nc >> 2;
        for (int c = 0, i = 0; i < nc; c += 16, i += 64)
        {
            Vector512.Load(src + i).Store(dst + c);
            Vector512.Load(src + i + 16).Store(dst + q + c);
            Vector512.Load(src + i + 32).Store(dst + 2 * q + c);
            Vector512.Load(src + i + 48).Store(dst + 3 * q + c);
        }
    }

    /// <summary>
    /// Y[t, r] for rows [r0, r1) and tokens [0, m): weight row r at w + r·2n bytes (n F16 values), the activation row
    /// of token t (n F32 values, each an F16 value, from <see cref="F16VecDot.QuantizeActivation"/>, then rearranged by
    /// <see cref="Prepare"/>) at x + t·xStride floats, output at y[t·yStride + r].
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
        // rows go in groups of PanelRows: their 64-element chunks are widened to F32 once into a panel (in L2), in the
        // accumulator order of Prepare, then the 4 x 4 tiles read the panel instead of widening per tile; the row tail
        // [nc, n) is summed from the F16 row
        int nc = n & ~63, q = nc >> 2;
        int ps = nc + 16;                        // panel row stride: off a 4 KiB multiple, so the rows do not alias in L1
        float* panel = Panel(PanelRows * ps);   // [PanelRows, ps]
        for (int g0 = r0; g0 < r1; g0 += PanelRows)
        {
            int g1 = Math.Min(r1, g0 + PanelRows);
            for (int r = g0; r < g1; r++)
            {
                ushort* wr = w + (long)r * n;
                float* pr = panel + (long)(r - g0) * ps;
                for (int i = 0, c = 0; i < nc; i += 64, c += 16)
                {
                    bool sp = Special(wr + i);
                    Widen(wr + i, sp).Store(pr + c);
                    Widen(wr + i + 16, sp).Store(pr + q + c);
                    Widen(wr + i + 32, sp).Store(pr + 2 * q + c);
                    Widen(wr + i + 48, sp).Store(pr + 3 * q + c);
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
                        if (nc < n)
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
    /// adds the row tail). pw: [nr] F32 weight rows of stride ps; x: [nt] F32 rows of stride xs; both in the
    /// accumulator order of <see cref="Prepare"/>.
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

    [ThreadStatic] private static float[]? t_panel;
    [ThreadStatic] private static float[]? t_row;

    /// <summary>This thread's pinned weight panel of at least <paramref name="floats"/> floats (allocated once per thread and size).</summary>
    private static float* Panel(int floats) => Pinned(ref t_panel, floats);

    /// <summary>A pinned per-thread buffer of at least <paramref name="floats"/> floats, 64-byte aligned (so no 512-bit
    /// load of a panel row splits a cache line).</summary>
    private static float* Pinned(ref float[]? slot, int floats)
    {
        float[]? p = slot;
        if (p == null || p.Length < floats + 16)
            slot = p = GC.AllocateUninitializedArray<float>(floats + 16, pinned: true);
        return (float*)(((nint)Unsafe.AsPointer(ref p[0]) + 63) & ~(nint)63);
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
    /// Up to 4 rows x 4 tokens. The Dot's accumulator a_k only ever sees elements 64c + 16k .. 64c + 16k + 15, which
    /// <see cref="Prepare"/> and the panel put at k·nc/4 + 16c: the tile runs one contiguous pass per k with a single
    /// accumulator per output (16 live registers, no spills), keeps the four results and sums them as the Dot does.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining), SkipLocalsInit]
    private static void Tile512<TR, TT>(float* pw, int ps, int nc, float* x, int xs, float* y, int ys)
        where TR : struct, ITileCount where TT : struct, ITileCount
    {
        // pw: [TR.N] rows of stride ps, widened to F32 (the Dot's exact values) in accumulator order; part: [k][r·4 + t]
        Vector512<float>* part = stackalloc Vector512<float>[64];
        float* p0 = pw, p1 = TR.N > 1 ? pw + ps : pw, p2 = TR.N > 2 ? pw + 2L * ps : pw, p3 = TR.N > 3 ? pw + 3L * ps : pw;
        float* x0 = x, x1 = TT.N > 1 ? x + xs : x, x2 = TT.N > 2 ? x + 2L * xs : x, x3 = TT.N > 3 ? x + 3L * xs : x;
        int q = nc >> 2;
        for (int k = 0; k < 4; k++)
        {
            Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
            Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
            Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
            Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
            for (int i = k * q, e = i + q; i < e; i += 16)
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
            Vector512<float>* pk = part + 16 * k;
            pk[0] = c00; pk[1] = c01; pk[2] = c02; pk[3] = c03;
            pk[4] = c10; pk[5] = c11; pk[6] = c12; pk[7] = c13;
            pk[8] = c20; pk[9] = c21; pk[10] = c22; pk[11] = c23;
            pk[12] = c30; pk[13] = c31; pk[14] = c32; pk[15] = c33;
        }
        // the 16 outputs' (a0 + a1) + (a2 + a3), then their Vector512.Sum side by side (lane r·4 + t)
        Vector512<float>* h = stackalloc Vector512<float>[16];
        for (int o = 0; o < 16; o++) h[o] = (part[o] + part[16 + o]) + (part[32 + o] + part[48 + o]);
        float* res = stackalloc float[16];
        Sum16(h).Store(res);
        for (int t = 0; t < TT.N; t++)
            for (int r = 0; r < TR.N; r++)
                y[(long)t * ys + r] = res[r * 4 + t];
    }

    /// <summary>
    /// Lane j = Vector512.Sum(v[j]) for 16 vectors, bit for bit: the JIT sums a 512-bit vector as
    /// ((S0 + S1) + (S2 + S3)) over its 128-bit quarters with S_i = (x_4i + x_4i+1) + (x_4i+2 + x_4i+3), and four
    /// levels of adjacent-lane pair sums (<see cref="LanePairs.Sum16"/>) form exactly those sums for all 16 vectors at once.
    /// (The F16 tests compare the tiles with the Dot bit for bit, so a different lowering of Sum would show.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Sum16(Vector512<float>* v) => LanePairs.Sum16(ref *(float*)v);

    /// <summary>The row tail [from, n) in scalar order, as the Dot sums it.</summary>
    private static float Tail(ushort* w, float* x, int from, int n)
    {
        float s = 0;
        for (int i = from; i < n; i++) s += F16Conversion.ToSingle(w[i]) * x[i];
        return s;
    }
}
