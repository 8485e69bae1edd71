namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// The patch (im2col) matrix of one image: col[(c·KH + ki)·KW + kj, oh·OW + ow] = x[c, oh·SH − padTop + ki·DH,
/// ow·SW − padLeft + kj·DW], 0 outside the image. <see cref="Fill"/> writes the columns of a pixel range, copying runs
/// of each output row at once where the stride is 1; <see cref="FillReference"/> is the element-by-element reference.
/// </summary>
public static class Im2Col
{
    /// <summary>Writes columns [p0, p1) of col [Rows, ldc] for image x [C, H, W].</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Fill(ReadOnlySpan<float> x, in Conv2dShape s, int p0, int p1, Span<float> col, int ldc)
    {
        Check(x.Length, s, p0, p1, col.Length, ldc);
        int r = 0;
        for (int ch = 0; ch < s.Channels; ch++)
            for (int ki = 0; ki < s.KernelH; ki++)
                for (int kj = 0; kj < s.KernelW; kj++, r++)
                {
                    int colShift = kj * s.DilationW - s.PadLeft;
                    // ow with 0 <= ow·SW + colShift < W (stride 1: a contiguous run).
                    int lo = colShift >= 0 ? 0 : (-colShift + s.StrideW - 1) / s.StrideW;
                    int hi = Math.Min(s.OutW, (s.Width - 1 - colShift) / s.StrideW + 1);
                    if (s.Width - 1 - colShift < 0) hi = 0;
                    for (int p = p0; p < p1;)
                    {
                        int oh = p / s.OutW, ow0 = p - oh * s.OutW, ow1 = Math.Min(s.OutW, ow0 + (p1 - p));
                        var dst = col.Slice(r * ldc + p, ow1 - ow0);
                        int ih = oh * s.StrideH - s.PadTop + ki * s.DilationH;
                        if (ih < 0 || ih >= s.Height) dst.Clear();
                        else
                        {
                            var src = x.Slice((ch * s.Height + ih) * s.Width);
                            int a = Math.Clamp(lo, ow0, ow1), b = Math.Clamp(hi, a, ow1);
                            dst[..(a - ow0)].Clear();
                            if (b > a && s.StrideW == 1) src.Slice(a + colShift, b - a).CopyTo(dst[(a - ow0)..]);
                            else for (int ow = a; ow < b; ow++) dst[ow - ow0] = src[ow * s.StrideW + colShift];
                            dst[(b - ow0)..].Clear();
                        }
                        p += ow1 - ow0;
                    }
                }
    }

    /// <summary>Reference: every element computed from its definition.</summary>
    public static void FillReference(ReadOnlySpan<float> x, in Conv2dShape s, int p0, int p1, Span<float> col, int ldc)
    {
        Check(x.Length, s, p0, p1, col.Length, ldc);
        for (int r = 0; r < s.Rows; r++)
        {
            int ch = r / (s.KernelH * s.KernelW), ki = r / s.KernelW % s.KernelH, kj = r % s.KernelW;
            for (int p = p0; p < p1; p++)
            {
                int ih = p / s.OutW * s.StrideH - s.PadTop + ki * s.DilationH, iw = p % s.OutW * s.StrideW - s.PadLeft + kj * s.DilationW;
                col[r * ldc + p] = ih >= 0 && ih < s.Height && iw >= 0 && iw < s.Width ? x[(ch * s.Height + ih) * s.Width + iw] : 0;
            }
        }
    }

    private static void Check(int xLength, in Conv2dShape s, int p0, int p1, int colLength, int ldc)
    {
        s.Validate();
        if (xLength < (long)s.Channels * s.Height * s.Width) throw new ArgumentException($"image of {xLength} values for {s}");
        if (p0 < 0 || p1 > s.Plane || p0 > p1) throw new ArgumentException($"pixel range [{p0}, {p1}) outside {s.Plane} pixels");
        if (ldc < p1 || (p1 > p0 && (long)(s.Rows - 1) * ldc + p1 > colLength)) throw new ArgumentException($"col of {colLength} values with stride {ldc} for {s.Rows} rows");
    }
}
