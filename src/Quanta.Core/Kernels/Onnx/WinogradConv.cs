using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;
using Quanta.Core.Threading;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// 3×3, stride-1, undilated 2-D convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray, 2016): each
/// 2×2 block of output pixels is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for the 4×4 input tile d under it, so the 36 multiply-adds per
/// output block and input channel of the direct form become 16, done as 16 independent products
/// M_ξ[M, tiles] = U_ξ[M, C] · V_ξ[C, tiles] (ξ = one of the 4×4 transformed positions) on <see cref="Sgemm"/> with the
/// transformed filters U_ξ packed once (<see cref="WinogradFilters"/>). The transforms use only ±1 and ½, so the result
/// stays within a few float roundings of the direct convolution (not bit-identical to it).
/// <para>Work items are runs of tile rows (across images of a batch), handed out over the pool; each transforms its
/// input tiles into per-thread buffers, runs the 16 products on its own thread and writes its output blocks with the
/// bias and ReLU applied, so the result does not depend on the thread count. The transforms are vectorized over the
/// tiles of a row (Vector512 → Vector256 → Vector128 → scalar); <see cref="Reference"/> is the scalar reference of the
/// whole convolution.</para>
/// </summary>
public static unsafe class WinogradConv
{
    /// <summary>Target tiles (output 2×2 blocks) per work item.</summary>
    private const int TargetTiles = 224;

    [ThreadStatic] private static float[]? t_v;
    [ThreadStatic] private static float[]? t_m;
    [ThreadStatic] private static float[]? t_rows;

    /// <summary>Fewest tiles per work item: below this the 16 products are too narrow to beat the direct product.</summary>
    private const int MinTiles = 48;

    /// <summary>Whether <see cref="ForwardBatch"/> takes this geometry: a 3×3 kernel, stride 1, dilation 1, at least 8 input channels.</summary>
    public static bool Applies(in Conv2dShape s) =>
        s.KernelH == 3 && s.KernelW == 3 && s.StrideH == 1 && s.StrideW == 1 && s.DilationH == 1 && s.DilationW == 1 && s.Channels >= 8;

    /// <summary>
    /// Whether the graph's Conv takes the Winograd form: <see cref="Applies"/> and at least 16 output channels. It
    /// depends on the geometry alone, never on the batch or the thread count, so a batch gives the same bits as its
    /// images run one at a time.
    /// </summary>
    public static bool Preferred(in Conv2dShape s, int outputs) => Applies(s) && outputs >= 16;

    // Work items for a batch: runs of rowsPerItem tile rows (about TargetTiles tiles, at least MinTiles where the batch
    // has them, and two items per participant where that leaves each at least MinTiles).
    private static int ItemCount(in Conv2dShape s, int batch, int threads, out int rowsPerItem)
    {
        int th = (s.OutH + 1) / 2, tw = (s.OutW + 1) / 2;
        long totalRows = (long)batch * th;
        rowsPerItem = Math.Max(1, (TargetTiles + tw - 1) / tw);
        if (threads > 1) rowsPerItem = (int)Math.Max(1, Math.Min(rowsPerItem, totalRows / (2L * threads)));
        rowsPerItem = (int)Math.Min(totalRows, Math.Max(rowsPerItem, (MinTiles + tw - 1) / tw));
        return (int)((totalRows + rowsPerItem - 1) / rowsPerItem);
    }

    /// <summary>Tiles (2×2 output blocks) of one image: ⌈OH/2⌉·⌈OW/2⌉.</summary>
    public static long Tiles(in Conv2dShape s) => (long)((s.OutH + 1) / 2) * ((s.OutW + 1) / 2);

    /// <summary>
    /// For each of <paramref name="batch"/> images (image i at x[i·xStride..], [C, H, W]; output at y[i·yStride..],
    /// [M, OH·OW]): the convolution with the transformed filters <paramref name="u"/> (+ bias) (ReLU).
    /// Requires <see cref="Applies"/>; <paramref name="bias"/> is empty or has M values.
    /// </summary>
    public static void ForwardBatch(WorkerPool? pool, WinogradFilters u, ReadOnlySpan<float> x, int xStride, int batch, in Conv2dShape s,
        Span<float> y, int yStride, ReadOnlySpan<float> bias, bool relu)
    {
        ArgumentNullException.ThrowIfNull(u);
        s.Validate();
        if (!Applies(s)) throw new ArgumentException($"Winograd F(2x2, 3x3) does not take {s}");
        if (u.Channels != s.Channels) throw new ArgumentException($"filters for {u.Channels} input channels, image has {s.Channels}");
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch));
        if (batch == 0) return;
        int m = u.Outputs, plane = s.Plane, image = s.Channels * s.Height * s.Width;
        if (xStride < image || yStride < (long)m * plane) throw new ArgumentException($"image strides {xStride}/{yStride} below one image ({image}/{(long)m * plane} values)");
        if (x.Length < (long)(batch - 1) * xStride + image) throw new ArgumentException($"input of {x.Length} values for {batch} images of {s}", nameof(x));
        if (y.Length < (long)(batch - 1) * yStride + (long)m * plane) throw new ArgumentException($"output of {y.Length} values for {batch} images of [{m}, {plane}]", nameof(y));
        if (bias.Length != 0 && bias.Length != m) throw new ArgumentException($"bias of {bias.Length} for {m} channels", nameof(bias));
        KernelPaths.Record("WinogradConv", Sgemm.PathName(u.Path));
        int th = (s.OutH + 1) / 2, tw = (s.OutW + 1) / 2, threads = pool?.ThreadCount ?? 1;
        long totalRows = (long)batch * th;
        if (totalRows > int.MaxValue) throw new ArgumentException($"{batch} images of {th} tile rows");
        int items = ItemCount(s, batch, threads, out int rowsPerItem);
        fixed (float* px = x) fixed (float* py = y) fixed (float* pb = bias)
        {
            var body = new Items
            {
                U = u, X = px, XStride = xStride, Y = py, YStride = yStride, Bias = bias.Length > 0 ? pb : null, Relu = relu, S = s,
                Th = th, Tw = tw, RowsPerItem = rowsPerItem, TotalRows = (int)totalRows, M = m,
            };
            if (threads > 1 && items > 1) { pool!.ForChunked(items, 1, body); return; }
            if (threads <= 1 || items > 1 || (long)m * s.Channels * tw * th * batch < SgemmParallel.MinWork)
            {
                for (int i = 0; i < items; i++) body.Execute(i);
                return;
            }
            // One item for the whole batch (few tiles): its three phases are shared out instead, input channels, then
            // the 16 products, then output channels, over this thread's buffers. Same arithmetic as body.Execute(0).
            int c = s.Channels, tc = (int)totalRows * tw;
            float* pv = Buffer(ref t_v, 16L * c * tc), pm = Buffer(ref t_m, 16L * m * tc);
            var phase = new Phase { Body = body, Pv = pv, Pm = pm, Tc = tc };
            phase.Step = 0; pool!.ForChunked(c, Math.Max(1, c / (4 * threads)), phase);
            phase.Step = 1; pool.ForChunked(16, 1, phase);
            phase.Step = 2; pool.ForChunked(m, Math.Max(1, m / (4 * threads)), phase);
        }
    }

    // A per-thread buffer of at least n floats (pinned, so its address stays valid for the call).
    private static float* Buffer(ref float[]? slot, long n)
    {
        if (slot is null || slot.Length < n) slot = GC.AllocateUninitializedArray<float>(checked((int)Math.Max(n, 1)), pinned: true);
        return (float*)Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(slot));
    }

    // One phase of the single whole-batch item, split over the pool: Step 0 input channel i, 1 product ξ = i, 2 output channel i.
    private struct Phase : IParallelBody
    {
        public Items Body;
        public float* Pv, Pm;
        public int Tc, Step;

        public readonly void Execute(int i)
        {
            switch (Step)
            {
                case 0: Body.Inputs(0, Body.TotalRows, i, i + 1, Pv, Tc); break;
                case 1: Body.Product(i, Tc, Pv, Pm); break;
                default: Body.Outputs(0, Body.TotalRows, i, i + 1, Pm, Tc); break;
            }
        }
    }

    private struct Items : IParallelBody
    {
        public WinogradFilters U;
        public float* X, Y, Bias;
        public int XStride, YStride, Th, Tw, RowsPerItem, TotalRows, M;
        public bool Relu;
        public Conv2dShape S;

        // Tile rows [g0, g1) of the batch (tc = (g1 − g0)·Tw tiles): transform, 16 products, inverse transform.
        public readonly void Execute(int item)
        {
            int g0 = item * RowsPerItem, g1 = Math.Min(TotalRows, g0 + RowsPerItem), tc = (g1 - g0) * Tw;
            float* pv = Buffer(ref t_v, 16L * S.Channels * tc), pm = Buffer(ref t_m, 16L * M * tc);
            Inputs(g0, g1, 0, S.Channels, pv, tc);
            for (int xi = 0; xi < 16; xi++) Product(xi, tc, pv, pm);
            Outputs(g0, g1, 0, M, pm, tc);
        }

        // V_ξ [C, tc] (ξ in 0..15 at pv + ξ·C·tc), input channels [ch0, ch1).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Inputs(int g0, int g1, int ch0, int ch1, float* pv, int tc)
        {
            int tw = Tw, c = S.Channels, rowLen = tw + 1 + 16;
            float* rows = Buffer(ref t_rows, 12L * rowLen);
            for (int ch = ch0; ch < ch1; ch++)
                for (int g = g0; g < g1; g++)
                {
                    int img = g / Th, ty = g - img * Th;
                    InputRow(X + (long)img * XStride + (long)ch * S.Height * S.Width, S, ty, tw, rows, rowLen, pv + (long)ch * tc + (long)(g - g0) * tw, (long)c * tc,
                        reuse: g > g0 && ty > 0);
                }
        }

        // M_ξ [M, tc] = U_ξ [M, C] · V_ξ [C, tc] at pm + ξ·M·tc.
        public readonly void Product(int xi, int tc, float* pv, float* pm)
        {
            int path = U.Path, c = S.Channels;
            var a = U.Panels(xi);
            var b = new RawB(pv + (long)xi * c * tc, tc, false, Sgemm.Nr(path));
            Sgemm.Run(path, 0, M, 0, tc, c, ref a, ref b, pm + (long)xi * M * tc, tc, false, default);
        }

        // Output channels [o0, o1) of tile rows [g0, g1) from the products.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Outputs(int g0, int g1, int o0, int o1, float* pm, int tc)
        {
            int tw = Tw;
            float* q = Buffer(ref t_rows, 12L * (tw + 1 + 16));
            for (int o = o0; o < o1; o++)
            {
                float bias = Bias != null ? Bias[o] : 0f;
                for (int g = g0; g < g1; g++)
                {
                    int img = g / Th, ty = g - img * Th;
                    OutputRow(pm + (long)o * tc + (long)(g - g0) * tw, (long)M * tc, tw, bias, Relu, q,
                        Y + (long)img * YStride + (long)o * S.OutH * S.OutW, S.OutH, S.OutW, ty);
                }
            }
        }
    }

    // Input tiles (ty, 0..tw−1) of one channel plane: rows 2ty..2ty+3 of the zero-padded plane, split into even and odd
    // columns (e_i[t] = P[2ty+i][2t], o_i[t] = P[2ty+i][2t+1]), then V = Bᵀ d B per tile; V_ξ of tile tx at v + ξ·xs + tx.
    // reuse: the previous call was tile row ty − 1 of the same plane with the same row buffers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputRow(float* plane, in Conv2dShape s, int ty, int tw, float* rows, int rowLen, float* v, long xs, bool reuse)
    {
        // Padded row pr lives in slot pr mod 4, so the next tile row (reuse) finds its first two rows built already.
        for (int i = reuse ? 2 : 0; i < 4; i++)
        {
            int pr = 2 * ty + i;
            float* e = rows + 2 * (pr & 3) * rowLen, od = e + rowLen;
            int r = pr - s.PadTop;
            if (r < 0 || r >= s.Height)
            {
                new Span<float>(e, tw + 1).Clear();
                new Span<float>(od, tw + 1).Clear();
                continue;
            }
            float* src = plane + (long)r * s.Width;
            Stride2(e, tw + 1, src, s.Width, -s.PadLeft);
            Stride2(od, tw + 1, src, s.Width, 1 - s.PadLeft);
        }
        float* e0 = rows + 2 * ((2 * ty) & 3) * rowLen, o0 = e0 + rowLen, e1 = rows + 2 * ((2 * ty + 1) & 3) * rowLen, o1 = e1 + rowLen;
        float* e2 = rows + 2 * ((2 * ty + 2) & 3) * rowLen, o2 = e2 + rowLen, e3 = rows + 2 * ((2 * ty + 3) & 3) * rowLen, o3 = e3 + rowLen;
        int tx = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; tx + 16 <= tw; tx += 16)
                {
                    var d00 = Vector512.Load(e0 + tx); var d01 = Vector512.Load(o0 + tx); var d02 = Vector512.Load(e0 + tx + 1); var d03 = Vector512.Load(o0 + tx + 1);
                    var d10 = Vector512.Load(e1 + tx); var d11 = Vector512.Load(o1 + tx); var d12 = Vector512.Load(e1 + tx + 1); var d13 = Vector512.Load(o1 + tx + 1);
                    var d20 = Vector512.Load(e2 + tx); var d21 = Vector512.Load(o2 + tx); var d22 = Vector512.Load(e2 + tx + 1); var d23 = Vector512.Load(o2 + tx + 1);
                    var d30 = Vector512.Load(e3 + tx); var d31 = Vector512.Load(o3 + tx); var d32 = Vector512.Load(e3 + tx + 1); var d33 = Vector512.Load(o3 + tx + 1);
                    // Bᵀ·d (rows), then ·B (columns): (a, b, c, d) → (a − c, b + c, c − b, b − d).
                    var r00 = d00 - d20; var r01 = d01 - d21; var r02 = d02 - d22; var r03 = d03 - d23;
                    var r10 = d10 + d20; var r11 = d11 + d21; var r12 = d12 + d22; var r13 = d13 + d23;
                    var r20 = d20 - d10; var r21 = d21 - d11; var r22 = d22 - d12; var r23 = d23 - d13;
                    var r30 = d10 - d30; var r31 = d11 - d31; var r32 = d12 - d32; var r33 = d13 - d33;
                    Vector512.Store(r00 - r02, v + tx); Vector512.Store(r01 + r02, v + xs + tx); Vector512.Store(r02 - r01, v + 2 * xs + tx); Vector512.Store(r01 - r03, v + 3 * xs + tx);
                    Vector512.Store(r10 - r12, v + 4 * xs + tx); Vector512.Store(r11 + r12, v + 5 * xs + tx); Vector512.Store(r12 - r11, v + 6 * xs + tx); Vector512.Store(r11 - r13, v + 7 * xs + tx);
                    Vector512.Store(r20 - r22, v + 8 * xs + tx); Vector512.Store(r21 + r22, v + 9 * xs + tx); Vector512.Store(r22 - r21, v + 10 * xs + tx); Vector512.Store(r21 - r23, v + 11 * xs + tx);
                    Vector512.Store(r30 - r32, v + 12 * xs + tx); Vector512.Store(r31 + r32, v + 13 * xs + tx); Vector512.Store(r32 - r31, v + 14 * xs + tx); Vector512.Store(r31 - r33, v + 15 * xs + tx);
                }
            if (Vector256.IsHardwareAccelerated)
                for (; tx + 8 <= tw; tx += 8)
                {
                    var d00 = Vector256.Load(e0 + tx); var d01 = Vector256.Load(o0 + tx); var d02 = Vector256.Load(e0 + tx + 1); var d03 = Vector256.Load(o0 + tx + 1);
                    var d10 = Vector256.Load(e1 + tx); var d11 = Vector256.Load(o1 + tx); var d12 = Vector256.Load(e1 + tx + 1); var d13 = Vector256.Load(o1 + tx + 1);
                    var d20 = Vector256.Load(e2 + tx); var d21 = Vector256.Load(o2 + tx); var d22 = Vector256.Load(e2 + tx + 1); var d23 = Vector256.Load(o2 + tx + 1);
                    var d30 = Vector256.Load(e3 + tx); var d31 = Vector256.Load(o3 + tx); var d32 = Vector256.Load(e3 + tx + 1); var d33 = Vector256.Load(o3 + tx + 1);
                    // Bᵀ·d (rows), then ·B (columns): (a, b, c, d) → (a − c, b + c, c − b, b − d).
                    var r00 = d00 - d20; var r01 = d01 - d21; var r02 = d02 - d22; var r03 = d03 - d23;
                    var r10 = d10 + d20; var r11 = d11 + d21; var r12 = d12 + d22; var r13 = d13 + d23;
                    var r20 = d20 - d10; var r21 = d21 - d11; var r22 = d22 - d12; var r23 = d23 - d13;
                    var r30 = d10 - d30; var r31 = d11 - d31; var r32 = d12 - d32; var r33 = d13 - d33;
                    Vector256.Store(r00 - r02, v + tx); Vector256.Store(r01 + r02, v + xs + tx); Vector256.Store(r02 - r01, v + 2 * xs + tx); Vector256.Store(r01 - r03, v + 3 * xs + tx);
                    Vector256.Store(r10 - r12, v + 4 * xs + tx); Vector256.Store(r11 + r12, v + 5 * xs + tx); Vector256.Store(r12 - r11, v + 6 * xs + tx); Vector256.Store(r11 - r13, v + 7 * xs + tx);
                    Vector256.Store(r20 - r22, v + 8 * xs + tx); Vector256.Store(r21 + r22, v + 9 * xs + tx); Vector256.Store(r22 - r21, v + 10 * xs + tx); Vector256.Store(r21 - r23, v + 11 * xs + tx);
                    Vector256.Store(r30 - r32, v + 12 * xs + tx); Vector256.Store(r31 + r32, v + 13 * xs + tx); Vector256.Store(r32 - r31, v + 14 * xs + tx); Vector256.Store(r31 - r33, v + 15 * xs + tx);
                }
            if (Vector128.IsHardwareAccelerated)
                for (; tx + 4 <= tw; tx += 4)
                {
                    var d00 = Vector128.Load(e0 + tx); var d01 = Vector128.Load(o0 + tx); var d02 = Vector128.Load(e0 + tx + 1); var d03 = Vector128.Load(o0 + tx + 1);
                    var d10 = Vector128.Load(e1 + tx); var d11 = Vector128.Load(o1 + tx); var d12 = Vector128.Load(e1 + tx + 1); var d13 = Vector128.Load(o1 + tx + 1);
                    var d20 = Vector128.Load(e2 + tx); var d21 = Vector128.Load(o2 + tx); var d22 = Vector128.Load(e2 + tx + 1); var d23 = Vector128.Load(o2 + tx + 1);
                    var d30 = Vector128.Load(e3 + tx); var d31 = Vector128.Load(o3 + tx); var d32 = Vector128.Load(e3 + tx + 1); var d33 = Vector128.Load(o3 + tx + 1);
                    // Bᵀ·d (rows), then ·B (columns): (a, b, c, d) → (a − c, b + c, c − b, b − d).
                    var r00 = d00 - d20; var r01 = d01 - d21; var r02 = d02 - d22; var r03 = d03 - d23;
                    var r10 = d10 + d20; var r11 = d11 + d21; var r12 = d12 + d22; var r13 = d13 + d23;
                    var r20 = d20 - d10; var r21 = d21 - d11; var r22 = d22 - d12; var r23 = d23 - d13;
                    var r30 = d10 - d30; var r31 = d11 - d31; var r32 = d12 - d32; var r33 = d13 - d33;
                    Vector128.Store(r00 - r02, v + tx); Vector128.Store(r01 + r02, v + xs + tx); Vector128.Store(r02 - r01, v + 2 * xs + tx); Vector128.Store(r01 - r03, v + 3 * xs + tx);
                    Vector128.Store(r10 - r12, v + 4 * xs + tx); Vector128.Store(r11 + r12, v + 5 * xs + tx); Vector128.Store(r12 - r11, v + 6 * xs + tx); Vector128.Store(r11 - r13, v + 7 * xs + tx);
                    Vector128.Store(r20 - r22, v + 8 * xs + tx); Vector128.Store(r21 + r22, v + 9 * xs + tx); Vector128.Store(r22 - r21, v + 10 * xs + tx); Vector128.Store(r21 - r23, v + 11 * xs + tx);
                    Vector128.Store(r30 - r32, v + 12 * xs + tx); Vector128.Store(r31 + r32, v + 13 * xs + tx); Vector128.Store(r32 - r31, v + 14 * xs + tx); Vector128.Store(r31 - r33, v + 15 * xs + tx);
                }
        for (; tx < tw; tx++)
        {
            float d00 = e0[tx], d01 = o0[tx], d02 = e0[tx + 1], d03 = o0[tx + 1];
            float d10 = e1[tx], d11 = o1[tx], d12 = e1[tx + 1], d13 = o1[tx + 1];
            float d20 = e2[tx], d21 = o2[tx], d22 = e2[tx + 1], d23 = o2[tx + 1];
            float d30 = e3[tx], d31 = o3[tx], d32 = e3[tx + 1], d33 = o3[tx + 1];
            float r00 = d00 - d20, r01 = d01 - d21, r02 = d02 - d22, r03 = d03 - d23;
            float r10 = d10 + d20, r11 = d11 + d21, r12 = d12 + d22, r13 = d13 + d23;
            float r20 = d20 - d10, r21 = d21 - d11, r22 = d22 - d12, r23 = d23 - d13;
            float r30 = d10 - d30, r31 = d11 - d31, r32 = d12 - d32, r33 = d13 - d33;
            v[tx] = r00 - r02; v[xs + tx] = r01 + r02; v[2 * xs + tx] = r02 - r01; v[3 * xs + tx] = r01 - r03;
            v[4 * xs + tx] = r10 - r12; v[5 * xs + tx] = r11 + r12; v[6 * xs + tx] = r12 - r11; v[7 * xs + tx] = r11 - r13;
            v[8 * xs + tx] = r20 - r22; v[9 * xs + tx] = r21 + r22; v[10 * xs + tx] = r22 - r21; v[11 * xs + tx] = r21 - r23;
            v[12 * xs + tx] = r30 - r32; v[13 * xs + tx] = r31 + r32; v[14 * xs + tx] = r32 - r31; v[15 * xs + tx] = r31 - r33;
        }
    }

    // dst[t] = src[first + 2t] where that lies in [0, w), else 0, for t in [0, count).
    private static void Stride2(float* dst, int count, float* src, int w, int first)
    {
        int lo = first >= 0 ? 0 : (1 - first) / 2;
        int hi = w - 1 - first < 0 ? 0 : Math.Min(count, (w - 1 - first) / 2 + 1);
        lo = Math.Min(lo, count);
        if (hi < lo) hi = lo;
        for (int t = 0; t < lo; t++) dst[t] = 0;
        if (hi > lo) Im2Col.CopyStride2(new ReadOnlySpan<float>(src + first + 2 * lo, 2 * (hi - lo) - 1), new Span<float>(dst + lo, hi - lo));
        for (int t = hi; t < count; t++) dst[t] = 0;
    }

    // Output blocks (ty, 0..tw−1) of one output channel from M_ξ (tile tx at mb + ξ·xs + tx): Y = Aᵀ M A + bias (ReLU),
    // first into four rows of tw values at q (y00, y01, y10, y11), then to the 2×2 pixels that lie inside the image.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputRow(float* mb, long xs, int tw, float b, bool relu, float* q, float* y, int oh, int ow, int ty)
    {
        int tx = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; tx + 16 <= tw; tx += 16)
                {
                    var m00 = Vector512.Load(mb + tx); var m01 = Vector512.Load(mb + xs + tx); var m02 = Vector512.Load(mb + 2 * xs + tx); var m03 = Vector512.Load(mb + 3 * xs + tx);
                    var m10 = Vector512.Load(mb + 4 * xs + tx); var m11 = Vector512.Load(mb + 5 * xs + tx); var m12 = Vector512.Load(mb + 6 * xs + tx); var m13 = Vector512.Load(mb + 7 * xs + tx);
                    var m20 = Vector512.Load(mb + 8 * xs + tx); var m21 = Vector512.Load(mb + 9 * xs + tx); var m22 = Vector512.Load(mb + 10 * xs + tx); var m23 = Vector512.Load(mb + 11 * xs + tx);
                    var m30 = Vector512.Load(mb + 12 * xs + tx); var m31 = Vector512.Load(mb + 13 * xs + tx); var m32 = Vector512.Load(mb + 14 * xs + tx); var m33 = Vector512.Load(mb + 15 * xs + tx);
                    // Aᵀ·m (rows), then ·A (columns): (a, b, c, d) → (a + b + c, b − c − d).
                    var s0 = m00 + m10 + m20; var s1 = m01 + m11 + m21; var s2 = m02 + m12 + m22; var s3 = m03 + m13 + m23;
                    var t0 = m10 - m20 - m30; var t1 = m11 - m21 - m31; var t2 = m12 - m22 - m32; var t3 = m13 - m23 - m33;
                    var vb = Vector512.Create(b);
                    var y00 = s0 + s1 + s2 + vb; var y01 = s1 - s2 - s3 + vb; var y10 = t0 + t1 + t2 + vb; var y11 = t1 - t2 - t3 + vb;
                    if (relu) { y00 = Vector512.Max(y00, Vector512<float>.Zero); y01 = Vector512.Max(y01, Vector512<float>.Zero); y10 = Vector512.Max(y10, Vector512<float>.Zero); y11 = Vector512.Max(y11, Vector512<float>.Zero); }
                    Vector512.Store(y00, q + tx); Vector512.Store(y01, q + tw + tx); Vector512.Store(y10, q + 2 * tw + tx); Vector512.Store(y11, q + 3 * tw + tx);
                }
            if (Vector256.IsHardwareAccelerated)
                for (; tx + 8 <= tw; tx += 8)
                {
                    var m00 = Vector256.Load(mb + tx); var m01 = Vector256.Load(mb + xs + tx); var m02 = Vector256.Load(mb + 2 * xs + tx); var m03 = Vector256.Load(mb + 3 * xs + tx);
                    var m10 = Vector256.Load(mb + 4 * xs + tx); var m11 = Vector256.Load(mb + 5 * xs + tx); var m12 = Vector256.Load(mb + 6 * xs + tx); var m13 = Vector256.Load(mb + 7 * xs + tx);
                    var m20 = Vector256.Load(mb + 8 * xs + tx); var m21 = Vector256.Load(mb + 9 * xs + tx); var m22 = Vector256.Load(mb + 10 * xs + tx); var m23 = Vector256.Load(mb + 11 * xs + tx);
                    var m30 = Vector256.Load(mb + 12 * xs + tx); var m31 = Vector256.Load(mb + 13 * xs + tx); var m32 = Vector256.Load(mb + 14 * xs + tx); var m33 = Vector256.Load(mb + 15 * xs + tx);
                    // Aᵀ·m (rows), then ·A (columns): (a, b, c, d) → (a + b + c, b − c − d).
                    var s0 = m00 + m10 + m20; var s1 = m01 + m11 + m21; var s2 = m02 + m12 + m22; var s3 = m03 + m13 + m23;
                    var t0 = m10 - m20 - m30; var t1 = m11 - m21 - m31; var t2 = m12 - m22 - m32; var t3 = m13 - m23 - m33;
                    var vb = Vector256.Create(b);
                    var y00 = s0 + s1 + s2 + vb; var y01 = s1 - s2 - s3 + vb; var y10 = t0 + t1 + t2 + vb; var y11 = t1 - t2 - t3 + vb;
                    if (relu) { y00 = Vector256.Max(y00, Vector256<float>.Zero); y01 = Vector256.Max(y01, Vector256<float>.Zero); y10 = Vector256.Max(y10, Vector256<float>.Zero); y11 = Vector256.Max(y11, Vector256<float>.Zero); }
                    Vector256.Store(y00, q + tx); Vector256.Store(y01, q + tw + tx); Vector256.Store(y10, q + 2 * tw + tx); Vector256.Store(y11, q + 3 * tw + tx);
                }
            if (Vector128.IsHardwareAccelerated)
                for (; tx + 4 <= tw; tx += 4)
                {
                    var m00 = Vector128.Load(mb + tx); var m01 = Vector128.Load(mb + xs + tx); var m02 = Vector128.Load(mb + 2 * xs + tx); var m03 = Vector128.Load(mb + 3 * xs + tx);
                    var m10 = Vector128.Load(mb + 4 * xs + tx); var m11 = Vector128.Load(mb + 5 * xs + tx); var m12 = Vector128.Load(mb + 6 * xs + tx); var m13 = Vector128.Load(mb + 7 * xs + tx);
                    var m20 = Vector128.Load(mb + 8 * xs + tx); var m21 = Vector128.Load(mb + 9 * xs + tx); var m22 = Vector128.Load(mb + 10 * xs + tx); var m23 = Vector128.Load(mb + 11 * xs + tx);
                    var m30 = Vector128.Load(mb + 12 * xs + tx); var m31 = Vector128.Load(mb + 13 * xs + tx); var m32 = Vector128.Load(mb + 14 * xs + tx); var m33 = Vector128.Load(mb + 15 * xs + tx);
                    // Aᵀ·m (rows), then ·A (columns): (a, b, c, d) → (a + b + c, b − c − d).
                    var s0 = m00 + m10 + m20; var s1 = m01 + m11 + m21; var s2 = m02 + m12 + m22; var s3 = m03 + m13 + m23;
                    var t0 = m10 - m20 - m30; var t1 = m11 - m21 - m31; var t2 = m12 - m22 - m32; var t3 = m13 - m23 - m33;
                    var vb = Vector128.Create(b);
                    var y00 = s0 + s1 + s2 + vb; var y01 = s1 - s2 - s3 + vb; var y10 = t0 + t1 + t2 + vb; var y11 = t1 - t2 - t3 + vb;
                    if (relu) { y00 = Vector128.Max(y00, Vector128<float>.Zero); y01 = Vector128.Max(y01, Vector128<float>.Zero); y10 = Vector128.Max(y10, Vector128<float>.Zero); y11 = Vector128.Max(y11, Vector128<float>.Zero); }
                    Vector128.Store(y00, q + tx); Vector128.Store(y01, q + tw + tx); Vector128.Store(y10, q + 2 * tw + tx); Vector128.Store(y11, q + 3 * tw + tx);
                }
        for (; tx < tw; tx++)
        {
            float m00 = mb[tx], m01 = mb[xs + tx], m02 = mb[2 * xs + tx], m03 = mb[3 * xs + tx];
            float m10 = mb[4 * xs + tx], m11 = mb[5 * xs + tx], m12 = mb[6 * xs + tx], m13 = mb[7 * xs + tx];
            float m20 = mb[8 * xs + tx], m21 = mb[9 * xs + tx], m22 = mb[10 * xs + tx], m23 = mb[11 * xs + tx];
            float m30 = mb[12 * xs + tx], m31 = mb[13 * xs + tx], m32 = mb[14 * xs + tx], m33 = mb[15 * xs + tx];
            float s0 = m00 + m10 + m20, s1 = m01 + m11 + m21, s2 = m02 + m12 + m22, s3 = m03 + m13 + m23;
            float t0 = m10 - m20 - m30, t1 = m11 - m21 - m31, t2 = m12 - m22 - m32, t3 = m13 - m23 - m33;
            float y00 = s0 + s1 + s2 + b, y01 = s1 - s2 - s3 + b, y10 = t0 + t1 + t2 + b, y11 = t1 - t2 - t3 + b;
            if (relu) { y00 = MathF.Max(y00, 0); y01 = MathF.Max(y01, 0); y10 = MathF.Max(y10, 0); y11 = MathF.Max(y11, 0); }
            q[tx] = y00; q[tw + tx] = y01; q[2 * tw + tx] = y10; q[3 * tw + tx] = y11;
        }
        int r0 = 2 * ty;
        float* y0 = y + (long)r0 * ow;
        int full = ow / 2;
        for (tx = 0; tx < full; tx++) { y0[2 * tx] = q[tx]; y0[2 * tx + 1] = q[tw + tx]; }
        if (ow % 2 == 1) y0[2 * full] = q[full];
        if (r0 + 1 < oh)
        {
            float* y1 = y0 + ow;
            for (tx = 0; tx < full; tx++) { y1[2 * tx] = q[2 * tw + tx]; y1[2 * tx + 1] = q[3 * tw + tx]; }
            if (ow % 2 == 1) y1[2 * full] = q[2 * tw + full];
        }
    }

    /// <summary>Scalar reference from the convolution's definition (double accumulation): y [M, OH·OW] for one image x [C, H, W] and filters [M, C, KH, KW].</summary>
    public static void Reference(ReadOnlySpan<float> x, ReadOnlySpan<float> filters, int m, in Conv2dShape s, ReadOnlySpan<float> bias, bool relu, Span<float> y)
    {
        for (int o = 0; o < m; o++)
            for (int oh = 0; oh < s.OutH; oh++)
                for (int ow = 0; ow < s.OutW; ow++)
                {
                    double acc = bias.Length > 0 ? bias[o] : 0;
                    for (int c = 0; c < s.Channels; c++)
                        for (int ki = 0; ki < s.KernelH; ki++)
                            for (int kj = 0; kj < s.KernelW; kj++)
                            {
                                int ih = oh * s.StrideH - s.PadTop + ki * s.DilationH, iw = ow * s.StrideW - s.PadLeft + kj * s.DilationW;
                                if (ih < 0 || ih >= s.Height || iw < 0 || iw >= s.Width) continue;
                                acc += (double)filters[((o * s.Channels + c) * s.KernelH + ki) * s.KernelW + kj] * x[(c * s.Height + ih) * s.Width + iw];
                            }
                    y[(o * s.OutH + oh) * s.OutW + ow] = relu && acc < 0 ? 0 : (float)acc;
                }
    }
}
