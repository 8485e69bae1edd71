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
/// several images sit side by side in one [C·KH·KW, images·OH·OW] matrix (at most <see cref="MaxFoldColumns"/>
/// columns per product; also packed on the fly), one product with the packed filters fills [m, images·OH·OW] in
/// scratch, and each image's columns are copied to its own output. Over a pool the folded columns are cut into one
/// block of whole panels per participant, so the filters are streamed once per participant instead of once per small
/// block. Larger images of a batch (a multiple of the pool's size, or at least four per participant) go one whole
/// image per participant. A column's reduction does not depend on the other columns or on how they are cut, so every
/// batched result equals the per-image, single-threaded one bit for bit.</para>
/// </summary>
public static unsafe class SgemmConv
{
    /// <summary>Images with fewer output pixels than this are folded into one product (see <see cref="ForwardBatch"/>).</summary>
    public const int FoldPlane = 512;
    /// <summary>Most columns of one folded product (four B blocks of the product), unless one image alone has more.</summary>
    public const int MaxFoldColumns = 4 * Sgemm.NC;

    /// <summary>Images per folded product for a batch of <paramref name="batch"/> images (1: no folding).</summary>
    public static int ImagesPerProduct(in Conv2dShape s, int batch)
    {
        s.Validate();
        if (batch <= 1 || s.Plane >= FoldPlane) return 1;
        int most = Math.Clamp(MaxFoldColumns / s.Plane, 1, batch);
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
        int nb = ImagesPerProduct(s, batch), threads = pool?.ThreadCount ?? 1;
        if (nb <= 1)
        {
            if (threads > 1 && (batch % threads == 0 || batch >= 4 * threads) && (long)m * plane * k >= SgemmParallel.MinWork)
            {
                // Whole images per participant: no hand-over point inside an image and no partial column blocks.
                fixed (float* pw = w.Data) fixed (float* px = x) fixed (float* py = y) fixed (float* pb = bias)
                    pool!.ForChunked(batch, 1, new PerImage
                    {
                        W = pw, WPadded = w.Padded, Path = w.Path, M = m, K = k, X = px, XStride = xStride, Y = py, YStride = yStride, S = s,
                        Ep = new SgemmEpilogue(bias.Length > 0 ? pb : null, null, relu),
                    });
                return;
            }
            for (int i = 0; i < batch; i++)
                Forward(pool, w, x.Slice(i * xStride, image), s, y.Slice(i * yStride, m * plane), bias, relu);
            return;
        }
        if (scratch.Length < BatchScratchLength(s, m, batch)) throw new ArgumentException($"scratch of {scratch.Length} for {BatchScratchLength(s, m, batch)} values", nameof(scratch));
        int path = w.Path, nr = Sgemm.Nr(path);
        fixed (float* pw = w.Data) fixed (float* px = x) fixed (float* py = y) fixed (float* pb = bias) fixed (float* buf = scratch)
        {
            var ep = new SgemmEpilogue(bias.Length > 0 ? pb : null, null, relu);
            for (int i0 = 0; i0 < batch; i0 += nb)
            {
                int count = Math.Min(nb, batch - i0), cols = count * plane;
                // The (virtual) patch matrix [k, cols] holds image j's patches in columns [j·plane, (j+1)·plane); out [m, cols] likewise.
                float* outp = buf;
                var fold = new Folded
                {
                    W = pw, WPadded = w.Padded, Path = path, M = m, K = k, X = px + (long)i0 * xStride, XStride = xStride, S = s, Ep = ep,
                    Out = outp, Cols = cols, Y = py + (long)i0 * yStride, YStride = yStride, Plane = plane,
                };
                int panels = (cols + nr - 1) / nr;
                if (threads > 1 && panels >= 4 * threads && (long)m * cols * k >= SgemmParallel.MinWork)
                {
                    // One column block per participant (the filters are streamed once per block), each scattering its own columns.
                    fold.Panels = panels;
                    fold.Blocks = threads;
                    pool!.ForChunked(threads, 1, fold);
                    continue;
                }
                // Too few columns to share: rows are split instead (or everything runs here).
                SgemmParallel.Dispatch(pool, path, m, cols, k, new PrepackedPanels(pw, w.Padded, w.Width), new Im2ColPanels(fold.X, xStride, s, nr),
                    outp, cols, false, ep, preferRows: true);
                fold.ScatterColumns(0, cols);
            }
        }
    }

    // Image i of a batch whose images are not folded, on one participant: the same product Forward runs, unsplit.
    private struct PerImage : IParallelBody
    {
        public float* W, X, Y;
        public int WPadded, Path, M, K, XStride, YStride;
        public Conv2dShape S;
        public SgemmEpilogue Ep;

        public readonly void Execute(int i)
        {
            var a = new PrepackedPanels(W, WPadded, Sgemm.Mr(Path));
            float* x = X + (long)i * XStride, y = Y + (long)i * YStride;
            int n = S.Plane;
            if (S.Pointwise)
            {
                var b = new RawB(x, n, false, Sgemm.Nr(Path));
                Sgemm.Run(Path, 0, M, 0, n, K, ref a, ref b, y, n, false, Ep);
            }
            else
            {
                var b = new Im2ColPanels(x, 0, S, Sgemm.Nr(Path));
                Sgemm.Run(Path, 0, M, 0, n, K, ref a, ref b, y, n, false, Ep);
            }
        }
    }

    // A folded product [M, Cols] into Out, cut into Blocks column blocks of whole panels; each block then copies its
    // columns to the images' outputs (image j's pixel p is column j·Plane + p).
    private struct Folded : IParallelBody
    {
        public float* W, X, Out, Y;
        public int WPadded, Path, M, K, XStride, Cols, YStride, Plane, Panels, Blocks;
        public Conv2dShape S;
        public SgemmEpilogue Ep;

        public readonly void Execute(int block)
        {
            int nr = Sgemm.Nr(Path);
            int c0 = (int)((long)Panels * block / Blocks) * nr, c1 = Math.Min(Cols, (int)((long)Panels * (block + 1) / Blocks) * nr);
            if (c1 <= c0) return;
            var a = new PrepackedPanels(W, WPadded, Sgemm.Mr(Path));
            var b = new Im2ColPanels(X, XStride, S, nr);
            Sgemm.Run(Path, 0, M, c0, c1, K, ref a, ref b, Out, Cols, false, Ep);
            ScatterColumns(c0, c1);
        }

        public readonly void ScatterColumns(int c0, int c1)
        {
            for (int j = c0 / Plane; j * Plane < c1; j++)
            {
                int p0 = Math.Max(c0 - j * Plane, 0), p1 = Math.Min(c1 - j * Plane, Plane);
                for (int r = 0; r < M; r++)
                    new ReadOnlySpan<float>(Out + (long)r * Cols + (long)j * Plane + p0, p1 - p0).CopyTo(new Span<float>(Y + (long)j * YStride + (long)r * Plane + p0, p1 - p0));
            }
        }
    }
}
