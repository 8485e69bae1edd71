using Quanta.Core.Threading;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// One image (one group) of a float 2-D convolution as a product: Y[m, OH·OW] = W[m, C·KH·KW] · col + bias[m]
/// (then ReLU), with W pre-packed once (<see cref="SgemmPackedOperand.PackA"/> of the [m, C·KH·KW] filter matrix) and
/// col the <see cref="Im2Col"/> patch matrix (the image itself for pointwise convolutions). Over a pool the output
/// pixels are cut into one column block per participant, each filling its own columns of col and multiplying them;
/// small images are cut by output channels instead. Results equal the single-threaded ones bit for bit.
/// </summary>
public static unsafe class SgemmConv
{
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
