using Quanta.Core.Threading;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// One image (one group) of a float 2-D convolution as a product: Y[m, OH·OW] = W[m, C·KH·KW] · col + bias[m]
/// (then ReLU), with W pre-packed once (<see cref="SgemmPackedOperand.PackA"/> of the [m, C·KH·KW] filter matrix) and
/// col the <see cref="Im2Col"/> patch matrix (the image itself for pointwise convolutions). Over a pool the output
/// pixels are cut into one column block per participant, each filling its own columns of col and multiplying them;
/// small images are cut by output channels instead. Results equal the single-threaded ones bit for bit.
/// <para><see cref="ForwardBatch"/> runs a batch of images: when an image has fewer than <see cref="FoldPlane"/> output
/// pixels (ResNet's 14×14 and 7×7 stages) the batch is folded into the product's N dimension: the patch matrices of
/// several images sit side by side in one [C·KH·KW, images·OH·OW] matrix (at most <see cref="MaxPatchFloats"/> floats,
/// aiming at <see cref="TargetColumns"/> columns), one product with the packed filters fills [m, images·OH·OW], and
/// each image's columns are copied to its own output. A column's reduction does not depend on the other columns, so the
/// folded result equals the per-image one bit for bit.</para>
/// </summary>
public static unsafe class SgemmConv
{
    /// <summary>Images with fewer output pixels than this are folded into one product (see <see cref="ForwardBatch"/>).</summary>
    public const int FoldPlane = 512;
    /// <summary>Columns a folded product aims at (one B block of the product).</summary>
    public const int TargetColumns = Sgemm.NC;
    /// <summary>Upper bound of a folded patch matrix, in floats (8 MiB), unless one image alone needs more.</summary>
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

    /// <summary>Floats of scratch <see cref="ForwardBatch"/> needs for <paramref name="m"/> output channels and <paramref name="batch"/> images.</summary>
    public static long BatchScratchLength(in Conv2dShape s, int m, int batch)
    {
        int nb = ImagesPerProduct(s, batch);
        if (nb <= 1) return ScratchLength(s);
        long cols = (long)nb * s.Plane;
        return (s.Rows + (long)m) * cols;
    }

    /// <summary>Floats of the patch-matrix scratch the call needs (0 for pointwise convolutions).</summary>
    public static long ScratchLength(in Conv2dShape s) => s.Pointwise ? 0 : (long)s.Rows * s.Plane;

    /// <summary>
    /// y [m, OH·OW] = w · im2col(x) (+ bias) (ReLU); x is one image [C, H, W]; <paramref name="scratch"/> holds at least
    /// <see cref="ScratchLength"/> floats; <paramref name="bias"/> is empty or has m values.
    /// </summary>
    public static void Forward(WorkerPool? pool, SgemmPackedOperand w, ReadOnlySpan<float> x, in Conv2dShape s, Span<float> y,
        ReadOnlySpan<float> bias, bool relu, Span<float> scratch)
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
        if (scratch.Length < ScratchLength(s)) throw new ArgumentException($"scratch of {scratch.Length} for {ScratchLength(s)} values", nameof(scratch));
        int path = w.Path, nr = Sgemm.Nr(path);
        int threads = pool is null || (long)m * n * k < SgemmParallel.MinWork ? 1 : pool.ThreadCount;
        fixed (float* pw = w.Data) fixed (float* px = x) fixed (float* py = y) fixed (float* pb = bias) fixed (float* col = scratch)
        {
            var ep = new SgemmEpilogue(bias.Length > 0 ? pb : null, null, relu);
            if (threads > 1 && n >= 2 * nr * threads)
            {
                int per = SgemmParallel.BlockSize(n, nr, threads, repacks: false);
                pool!.ForChunked((n + per - 1) / per, 1, new Columns
                {
                    W = pw, Padded = w.Padded, Width = w.Width, X = px, XLength = x.Length, Y = py, Col = col, ColLength = scratch.Length,
                    Shape = s, Path = path, M = m, N = n, K = k, Per = per, Ep = ep,
                });
                return;
            }
            Im2Col.Fill(new ReadOnlySpan<float>(px, x.Length), s, 0, n, new Span<float>(col, scratch.Length), n);
            SgemmParallel.Dispatch(threads > 1 ? pool : null, path, m, n, k, new PrepackedPanels(pw, w.Padded, w.Width), new RawB(col, n, false, nr), py, n, false, ep, preferRows: true);
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
                Forward(pool, w, x.Slice(i * xStride, image), s, y.Slice(i * yStride, m * plane), bias, relu, scratch);
            return;
        }
        if (scratch.Length < BatchScratchLength(s, m, batch)) throw new ArgumentException($"scratch of {scratch.Length} for {BatchScratchLength(s, m, batch)} values", nameof(scratch));
        int path = w.Path, nr = Sgemm.Nr(path), mr = Sgemm.Mr(path), threads = pool?.ThreadCount ?? 1;
        fixed (float* pw = w.Data) fixed (float* px = x) fixed (float* py = y) fixed (float* pb = bias) fixed (float* buf = scratch)
        {
            var ep = new SgemmEpilogue(bias.Length > 0 ? pb : null, null, relu);
            for (int i0 = 0; i0 < batch; i0 += nb)
            {
                int count = Math.Min(nb, batch - i0), cols = count * plane;
                // col [k, cols]: image j's patch matrix in columns [j·plane, (j+1)·plane); out [m, cols] likewise.
                float* col = buf, outp = buf + (long)k * cols;
                var chunk = new Folded
                {
                    X = px + (long)i0 * xStride, XStride = xStride, Image = image, Y = py + (long)i0 * yStride, YStride = yStride,
                    Col = col, Out = outp, Cols = cols, Shape = s, M = m,
                };
                if (threads > 1 && count > 1) pool!.ForChunked(count, 1, chunk);
                else for (int j = 0; j < count; j++) chunk.Execute(j);
                SgemmParallel.Dispatch(pool, path, m, cols, k, new PrepackedPanels(pw, w.Padded, w.Width), new RawB(col, cols, false, nr), outp, cols, false, ep,
                    preferRows: m >= 4 * mr * threads || cols < 2 * nr * threads);
                chunk.Scatter = true;
                if (threads > 1 && count > 1 && (long)m * cols >= 1 << 16) pool!.ForChunked(count, 1, chunk);
                else for (int j = 0; j < count; j++) chunk.Execute(j);
            }
        }
    }

    // One image of a folded product: fills its columns of the patch matrix, or (Scatter) copies its columns of the
    // product to its own output.
    private struct Folded : IParallelBody
    {
        public float* X, Y, Col, Out;
        public int XStride, Image, YStride, Cols, M;
        public Conv2dShape Shape;
        public bool Scatter;

        public readonly void Execute(int j)
        {
            int plane = Shape.Plane;
            if (!Scatter)
            {
                Im2Col.Fill(new ReadOnlySpan<float>(X + (long)j * XStride, Image), Shape, 0, plane,
                    new Span<float>(Col + (long)j * plane, (int)((long)Shape.Rows * Cols - (long)j * plane)), Cols);
                return;
            }
            for (int r = 0; r < M; r++)
                new ReadOnlySpan<float>(Out + (long)r * Cols + (long)j * plane, plane).CopyTo(new Span<float>(Y + (long)j * YStride + (long)r * plane, plane));
        }
    }

    private struct Columns : IParallelBody
    {
        public float* W, X, Y, Col;
        public int Padded, Width, XLength, ColLength, Path, M, N, K, Per;
        public Conv2dShape Shape;
        public SgemmEpilogue Ep;

        public void Execute(int index)
        {
            int j0 = index * Per, j1 = Math.Min(N, j0 + Per);
            Im2Col.Fill(new ReadOnlySpan<float>(X, XLength), Shape, j0, j1, new Span<float>(Col, ColLength), N);
            var a = new PrepackedPanels(W, Padded, Width);
            var b = new RawB(Col, N, false, Sgemm.Nr(Path));
            Sgemm.Run(Path, 0, M, j0, j1, K, ref a, ref b, Y, N, false, Ep);
        }
    }
}
