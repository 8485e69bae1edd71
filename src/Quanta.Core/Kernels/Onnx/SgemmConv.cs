using Quanta.Core.Threading;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// One image (one group) of a float 2-D convolution as a product: Y[m, OH·OW] = W[m, C·KH·KW] · col + bias[m]
/// (then ReLU), with W pre-packed once (<see cref="SgemmPackedOperand.PackA"/> of the [m, C·KH·KW] filter matrix) and
/// col the <see cref="Im2Col"/> patch matrix (the image itself for pointwise convolutions). The patch matrix is never
/// stored: <see cref="Im2ColPanels"/> packs each K×N block of it straight from the image into the kernel's panel layout
/// while the product runs, so no scratch is needed and the image is read from cache instead of a multi-megabyte
/// matrix being written and re-read. Over a pool the output pixels are cut into column blocks handed out dynamically
/// (each packs only its own columns); small images are cut by output channels instead. Results equal the
/// single-threaded ones bit for bit.
/// <para><see cref="ForwardBatch"/> runs a batch of images: when an image has fewer than <see cref="FoldPlane"/> output
/// pixels (ResNet's 14×14 and 7×7 stages) the batch is folded into the product's N dimension: the patch matrices of
/// several images sit side by side in one [C·KH·KW, images·OH·OW] matrix (at most <see cref="MaxPatchFloats"/> floats,
/// aiming at <see cref="TargetColumns"/> columns; also packed on the fly), one product with the packed filters fills
/// [m, images·OH·OW] in scratch, and each image's columns are copied to its own output. A column's reduction does not
/// depend on the other columns, so the folded result equals the per-image one bit for bit.</para>
/// </summary>
public static unsafe class SgemmConv
{
    /// <summary>Images with fewer output pixels than this are folded into one product (see <see cref="ForwardBatch"/>).</summary>
    public const int FoldPlane = 512;
    /// <summary>Columns a folded product aims at (one B block of the product).</summary>
    public const int TargetColumns = Sgemm.NC;
    /// <summary>Upper bound of a folded (virtual) patch matrix, in floats, unless one image alone needs more.</summary>
    public const long MaxPatchFloats = 1 << 21;

    /// <summary>Images per folded product for a batch of <paramref name="batch"/> images (1: no folding).</summary>
    public static int ImagesPerProduct(in Conv2dShape s, int batch)
    {
        s.Validate();
        if (batch <= 1 || s.Plane >= FoldPlane) return 1;
        long perImage = (long)s.Rows * s.Plane;
        int most = (int)Math.Max(1, Math.Min((TargetColumns + s.Plane - 1) / s.Plane, MaxPatchFloats / perImage));
        most = Math.Min(most, batch);
        int products = (batch + most - 1) / most;
        return (batch + products - 1) / products;
    }

    /// <summary>Floats of scratch <see cref="ForwardBatch"/> needs for <paramref name="m"/> output channels and <paramref name="batch"/> images: the folded product's [m, images·OH·OW] output, 0 when nothing is folded.</summary>
    public static long BatchScratchLength(in Conv2dShape s, int m, int batch)
    {
        int nb = ImagesPerProduct(s, batch);
        return nb <= 1 ? 0 : (long)m * nb * s.Plane;
    }

    /// <summary>
    /// y [m, OH·OW] = w · im2col(x) (+ bias) (ReLU); x is one image [C, H, W]; <paramref name="bias"/> is empty or has m values.
    /// </summary>
    public static void Forward(WorkerPool? pool, SgemmPackedOperand w, ReadOnlySpan<float> x, in Conv2dShape s, Span<float> y,
        ReadOnlySpan<float> bias, bool relu)
    {
        ArgumentNullException.ThrowIfNull(w);
        s.Validate();
        if (!w.IsA || w.K != s.Rows) throw new ArgumentException($"filters [{w.Outer}, {w.K}] do not fit {s.Rows} patch rows");
        int m = w.Outer, n = s.Plane, k = s.Rows;
        if (x.Length < (long)s.Channels * s.Height * s.Width) throw new ArgumentException($"image of {x.Length} values for {s}", nameof(x));
        if (y.Length < (long)m * n) throw new ArgumentException($"output of {y.Length} values for [{m}, {n}]", nameof(y));
        if (bias.Length != 0 && bias.Length != m) throw new ArgumentException($"bias of {bias.Length} for {m} channels", nameof(bias));
        if (s.Pointwise)
        {
            SgemmParallel.Multiply(pool, w, n, x, n, false, y, n, bias, relu);
            return;
        }
        int path = w.Path, nr = Sgemm.Nr(path);
        int threads = pool?.ThreadCount ?? 1;
        fixed (float* pw = w.Data) fixed (float* px = x) fixed (float* py = y) fixed (float* pb = bias)
        {
            var ep = new SgemmEpilogue(bias.Length > 0 ? pb : null, null, relu);
            SgemmParallel.Dispatch(pool, path, m, n, k, new PrepackedPanels(pw, w.Padded, w.Width), new Im2ColPanels(px, 0, s, nr), py, n, false, ep,
                preferRows: n < 2 * nr * threads);
        }
    }

    /// <summary>
    /// For each of <paramref name="batch"/> images, image i at x[i·xStride..] ([C, H, W]) and its output at
    /// y[i·yStride..] ([m, OH·OW]): the same result as <see cref="Forward"/> per image (bit for bit), with small images
    /// folded into shared products (see the type's remarks). <paramref name="scratch"/> holds at least
    /// <see cref="BatchScratchLength"/> floats.
    /// </summary>
    public static void ForwardBatch(WorkerPool? pool, SgemmPackedOperand w, ReadOnlySpan<float> x, int xStride, int batch, in Conv2dShape s,
        Span<float> y, int yStride, ReadOnlySpan<float> bias, bool relu, Span<float> scratch)
    {
        ArgumentNullException.ThrowIfNull(w);
        s.Validate();
        if (!w.IsA || w.K != s.Rows) throw new ArgumentException($"filters [{w.Outer}, {w.K}] do not fit {s.Rows} patch rows");
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch));
        if (batch == 0) return;
        int m = w.Outer, plane = s.Plane, k = s.Rows, image = s.Channels * s.Height * s.Width;
        if (xStride < image || yStride < m * plane) throw new ArgumentException($"image strides {xStride}/{yStride} below one image ({image}/{m * plane} values)");
        if (x.Length < (long)(batch - 1) * xStride + image) throw new ArgumentException($"input of {x.Length} values for {batch} images of {s}", nameof(x));
        if (y.Length < (long)(batch - 1) * yStride + (long)m * plane) throw new ArgumentException($"output of {y.Length} values for {batch} images of [{m}, {plane}]", nameof(y));
        if (bias.Length != 0 && bias.Length != m) throw new ArgumentException($"bias of {bias.Length} for {m} channels", nameof(bias));
        int nb = ImagesPerProduct(s, batch);
        if (nb <= 1)
        {
            for (int i = 0; i < batch; i++)
                Forward(pool, w, x.Slice(i * xStride, image), s, y.Slice(i * yStride, m * plane), bias, relu);
            return;
        }
        if (scratch.Length < BatchScratchLength(s, m, batch)) throw new ArgumentException($"scratch of {scratch.Length} for {BatchScratchLength(s, m, batch)} values", nameof(scratch));
        int path = w.Path, nr = Sgemm.Nr(path), threads = pool?.ThreadCount ?? 1;
        fixed (float* pw = w.Data) fixed (float* px = x) fixed (float* py = y) fixed (float* pb = bias) fixed (float* buf = scratch)
        {
            var ep = new SgemmEpilogue(bias.Length > 0 ? pb : null, null, relu);
            for (int i0 = 0; i0 < batch; i0 += nb)
            {
                int count = Math.Min(nb, batch - i0), cols = count * plane;
                // The (virtual) patch matrix [k, cols] holds image j's patches in columns [j·plane, (j+1)·plane); out [m, cols] likewise.
                float* outp = buf;
                // Columns are split between participants (each packs only its own), unless too few to share.
                SgemmParallel.Dispatch(pool, path, m, cols, k, new PrepackedPanels(pw, w.Padded, w.Width), new Im2ColPanels(px + (long)i0 * xStride, xStride, s, nr),
                    outp, cols, false, ep, preferRows: cols < 2 * nr * threads);
                var chunk = new Scatter { Y = py + (long)i0 * yStride, YStride = yStride, Out = outp, Cols = cols, Plane = plane, M = m };
                if (threads > 1 && count > 1 && (long)m * cols >= 1 << 16) pool!.ForChunked(count, 1, chunk);
                else for (int j = 0; j < count; j++) chunk.Execute(j);
            }
        }
    }

    // One image of a folded product: copies its columns of the product to its own output.
    private struct Scatter : IParallelBody
    {
        public float* Y, Out;
        public int YStride, Cols, Plane, M;

        public readonly void Execute(int j)
        {
            for (int r = 0; r < M; r++)
                new ReadOnlySpan<float>(Out + (long)r * Cols + (long)j * Plane, Plane).CopyTo(new Span<float>(Y + (long)j * YStride + (long)r * Plane, Plane));
        }
    }
}
