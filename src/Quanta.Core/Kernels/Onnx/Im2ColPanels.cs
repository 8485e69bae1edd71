using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// The right operand of a convolution product packed straight from the images (implicit im2col): the patch matrix of
/// <see cref="Im2Col"/> is never written out; <see cref="Sgemm"/> asks for one K×N block at a time and gets it in its
/// panel layout [⌈count/NR⌉ panels][kc][NR] (zero-padded columns), the same values <see cref="Im2Col.Fill"/> followed
/// by the kernel's own packing would give, so products are bit-for-bit unchanged while the multi-megabyte patch
/// matrix (and its write and re-read) disappears. Columns may run over several images: column q is pixel q mod Plane
/// of image q / Plane, image i at x + i·xStride (how <see cref="SgemmConv.ForwardBatch"/> folds small images).
/// <see cref="FillReference"/> is the element-by-element reference.
/// </summary>
internal readonly unsafe struct Im2ColPanels(float* x, int xStride, Conv2dShape s, int nr) : ISgemmPanels
{
    public bool Prepacked => false;

    public float* Panels(int start, int count, int p0, int kc, float* scratch)
    {
        Fill(x, xStride, s, start, count, p0, kc, nr, scratch);
        return scratch;
    }

    /// <summary>
    /// Writes columns [start, start + count) and patch rows [p0, p0 + kc) as [⌈count/nr⌉][kc][nr] floats at dst.
    /// Panel by panel, so the writes are sequential: a panel's columns are first cut into runs that stay on one output
    /// row of one image (at most nr runs), then every patch row copies (or, for stride 2, picks) each run from its image row.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void Fill(float* x, int xStride, in Conv2dShape s, int start, int count, int p0, int kc, int nr, float* dst)
    {
        KernelPaths.Record("Im2ColPanels", RunPath);
        int plane = s.Plane, kk = s.KernelH * s.KernelW;
        // One run of a panel: [first lane, lanes, image, output row, first output column].
        int* runs = stackalloc int[5 * nr];
        for (int jj = 0; jj < count; jj += nr)
        {
            int cols = Math.Min(nr, count - jj), nRuns = 0;
            for (int lane = 0; lane < cols;)
            {
                int q = start + jj + lane, img = q / plane, p = q - img * plane, oh = p / s.OutW, ow0 = p - oh * s.OutW;
                int len = Math.Min(cols - lane, s.OutW - ow0);
                int* run = runs + 5 * nRuns++;
                run[0] = lane; run[1] = len; run[2] = img; run[3] = oh; run[4] = ow0;
                lane += len;
            }
            int ch = p0 / kk, ki = p0 % kk / s.KernelW, kj = p0 % s.KernelW;
            for (int t = 0; t < kc; t++)
            {
                float* row = dst + (long)t * nr;
                int colShift = kj * s.DilationW - s.PadLeft;
                // ow with 0 <= ow·SW + colShift < W.
                int lo = colShift >= 0 ? 0 : (-colShift + s.StrideW - 1) / s.StrideW;
                int hi = s.Width - 1 - colShift < 0 ? 0 : Math.Min(s.OutW, (s.Width - 1 - colShift) / s.StrideW + 1);
                int rowShift = ki * s.DilationH - s.PadTop;
                for (int u = 0; u < nRuns; u++)
                {
                    int* run = runs + 5 * u;
                    int lane = run[0], len = run[1], oh = run[3], ow0 = run[4], ow1 = ow0 + len;
                    float* d = row + lane;
                    int ih = oh * s.StrideH + rowShift;
                    if (ih < 0 || ih >= s.Height)
                    {
                        Zero(d, len);
                        continue;
                    }
                    float* src = x + (long)run[2] * xStride + ((long)ch * s.Height + ih) * s.Width;
                    int a = Math.Clamp(lo, ow0, ow1), b = Math.Clamp(hi, a, ow1);
                    if (a > ow0) Zero(d, a - ow0);
                    if (b > a)
                    {
                        if (s.StrideW == 1) Copy(src + a + colShift, d + (a - ow0), b - a);
                        else if (s.StrideW == 2) Im2Col.CopyStride2(new ReadOnlySpan<float>(src + a * 2 + colShift, 2 * (b - a) - 1), new Span<float>(d + (a - ow0), b - a));
                        else for (int ow = a; ow < b; ow++) d[ow - ow0] = src[ow * s.StrideW + colShift];
                    }
                    if (ow1 > b) Zero(d + (b - ow0), ow1 - b);
                }
                if (cols < nr) Zero(row + cols, nr - cols);
                if (++kj == s.KernelW) { kj = 0; if (++ki == s.KernelH) { ki = 0; ch++; } }
            }
            dst += (long)kc * nr;
        }
    }

    private static SimdPath RunPath =>
        Vector512.IsHardwareAccelerated ? SimdPath.V512 : Vector256.IsHardwareAccelerated ? SimdPath.V256 : Vector128.IsHardwareAccelerated ? SimdPath.V128 : SimdPath.Scalar;

    // A run is at most one panel wide (≤ 32 floats): inline vector moves instead of a memmove/memset call per run.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Copy(float* src, float* dst, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated) for (; i + 16 <= n; i += 16) Vector512.Store(Vector512.Load(src + i), dst + i);
        if (Vector256.IsHardwareAccelerated) for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.Load(src + i), dst + i);
        if (Vector128.IsHardwareAccelerated) for (; i + 4 <= n; i += 4) Vector128.Store(Vector128.Load(src + i), dst + i);
        for (; i < n; i++) dst[i] = src[i];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Zero(float* dst, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated) for (; i + 16 <= n; i += 16) Vector512.Store(Vector512<float>.Zero, dst + i);
        if (Vector256.IsHardwareAccelerated) for (; i + 8 <= n; i += 8) Vector256.Store(Vector256<float>.Zero, dst + i);
        if (Vector128.IsHardwareAccelerated) for (; i + 4 <= n; i += 4) Vector128.Store(Vector128<float>.Zero, dst + i);
        for (; i < n; i++) dst[i] = 0;
    }

    /// <summary>Reference: each element of the panels from the convolution's definition.</summary>
    internal static void FillReference(ReadOnlySpan<float> x, int xStride, in Conv2dShape s, int start, int count, int p0, int kc, int nr, Span<float> dst)
    {
        int panels = (count + nr - 1) / nr;
        for (int panel = 0; panel < panels; panel++)
            for (int t = 0; t < kc; t++)
                for (int lane = 0; lane < nr; lane++)
                {
                    int j = panel * nr + lane;
                    float v = 0;
                    if (j < count)
                    {
                        int q = start + j, img = q / s.Plane, p = q % s.Plane, r = p0 + t;
                        int ch = r / (s.KernelH * s.KernelW), ki = r / s.KernelW % s.KernelH, kj = r % s.KernelW;
                        int ih = p / s.OutW * s.StrideH - s.PadTop + ki * s.DilationH, iw = p % s.OutW * s.StrideW - s.PadLeft + kj * s.DilationW;
                        if (ih >= 0 && ih < s.Height && iw >= 0 && iw < s.Width) v = x[img * xStride + (ch * s.Height + ih) * s.Width + iw];
                    }
                    dst[(panel * kc + t) * nr + lane] = v;
                }
    }
}
