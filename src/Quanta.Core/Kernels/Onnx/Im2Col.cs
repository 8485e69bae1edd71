using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// The patch (im2col) matrix of one image: col[(c·KH + ki)·KW + kj, oh·OW + ow] = x[c, oh·SH − padTop + ki·DH,
/// ow·SW − padLeft + kj·DW], 0 outside the image. <see cref="Fill"/> writes the columns of a pixel range, copying runs
/// of each output row at once where the stride is 1 and picking every other element with vector narrowing where it is 2
/// (ResNet's stem and downsampling layers); <see cref="FillReference"/> is the element-by-element reference.
/// </summary>
public static class Im2Col
{
    /// <summary>Writes columns [p0, p1) of col [Rows, ldc] for image x [C, H, W].</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Fill(ReadOnlySpan<float> x, in Conv2dShape s, int p0, int p1, Span<float> col, int ldc)
    {
        Check(x.Length, s, p0, p1, col.Length, ldc);
        if (s.StrideW == 2) KernelPaths.Record("Im2ColStride2", Stride2Path);
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
                            else if (b > a && s.StrideW == 2) CopyStride2(src.Slice(a * 2 + colShift, 2 * (b - a) - 1), dst[(a - ow0)..(b - ow0)]);
                            else for (int ow = a; ow < b; ow++) dst[ow - ow0] = src[ow * s.StrideW + colShift];
                            dst[(b - ow0)..].Clear();
                        }
                        p += ow1 - ow0;
                    }
                }
    }

    private static SimdPath Stride2Path =>
        Vector512.IsHardwareAccelerated ? SimdPath.V512 : Vector256.IsHardwareAccelerated ? SimdPath.V256 : Vector128.IsHardwareAccelerated ? SimdPath.V128 : SimdPath.Scalar;

    /// <summary>dst[i] = src[2·i] for i in [0, dst.Length); src holds 2·dst.Length − 1 values (so no read past its end).</summary>
    internal static void CopyStride2(ReadOnlySpan<float> src, Span<float> dst)
    {
        int n = dst.Length, i = 0;
        if (src.Length < 2 * n - 1) throw new ArgumentException($"{src.Length} source values for {n} stride-2 picks", nameof(src));
        ref float s0 = ref MemoryMarshal.GetReference(src);
        ref float d0 = ref MemoryMarshal.GetReference(dst);
        // A vector of V picks reads 2·V values; the last pick (index n − 1) stays scalar so reads end at src[2·n − 3] + 2·V − 1 < 2·n − 1.
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n - 1; i += 16)
            {
                var lo = Vector512.LoadUnsafe(ref s0, (nuint)(2 * i)).AsUInt64();
                var hi = Vector512.LoadUnsafe(ref s0, (nuint)(2 * i + 16)).AsUInt64();
                Vector512.Narrow(lo, hi).AsSingle().StoreUnsafe(ref d0, (nuint)i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n - 1; i += 8)
            {
                var lo = Vector256.LoadUnsafe(ref s0, (nuint)(2 * i)).AsUInt64();
                var hi = Vector256.LoadUnsafe(ref s0, (nuint)(2 * i + 8)).AsUInt64();
                Vector256.Narrow(lo, hi).AsSingle().StoreUnsafe(ref d0, (nuint)i);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i + 4 <= n - 1; i += 4)
            {
                var lo = Vector128.LoadUnsafe(ref s0, (nuint)(2 * i)).AsUInt64();
                var hi = Vector128.LoadUnsafe(ref s0, (nuint)(2 * i + 4)).AsUInt64();
                Vector128.Narrow(lo, hi).AsSingle().StoreUnsafe(ref d0, (nuint)i);
            }
        for (; i < n; i++) dst[i] = src[2 * i];
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
