using Quanta.Core.Kernels.Gemm;
using Quanta.Core.Kernels.Quantized;
using Quanta.Core.Threading;

namespace Quanta.Core.Kernels;

/// <summary>
/// Parallel matrix products over weights stored row by row in any <see cref="Formats.WeightFormat"/>:
/// Y[m, rows] = X[m, cols] · W[rows, cols]ᵀ. With m = 1 this is the matrix x vector product of decode.
/// <para>The m activation rows are converted once (by the caller's thread) into the kernel's activation format, then
/// the weight rows are split into contiguous tiles across the pool; each weight row is read once from memory and
/// used for all m activation rows while it is in cache.</para>
/// <para>Formats with a register-blocked GEMM (<see cref="Q8Gemm.Supports"/>: Q4_0, Q8_0) run every m, 1 included,
/// through it: tiles of rows x tokens, each output element computed with one fixed arithmetic whatever the tile shape
/// (<see cref="Q8Gemm"/>; their activations are quantized to the ggml Q8_0 blocks alone). K-quant formats with m = 1 run
/// each row's Dot through the kernel's row loop (one path check per tile, not per row). Q4_K and Q6_K with m &gt; 1 run through <see cref="KQuantGemm"/>, whose tiles compute each output with
/// the arithmetic of the kernel's Dot, and so do F16 and BF16 with m &gt; 1 through <see cref="F16Gemm"/> and <see cref="BF16Gemm"/>. Other formats compute every output element with one <see cref="IVecDotKernel.Dot"/> call.
/// Either way results are bit-identical for any thread count and any m (batch invariance).</para>
/// </summary>
public static unsafe class MatMul
{
    /// <summary>Weight rows per scheduling tile.</summary>
    public const int RowTile = 16;

    /// <summary>
    /// Products with fewer multiply-adds than this (rows x cols x m) run on the calling thread: waking the pool costs
    /// microseconds, more than the whole product of a tiny model's layer. Results are identical either way.
    /// </summary>
    public const long InlineWork = 1L << 18;

    /// <summary>Bytes of activation scratch <see cref="Compute"/> needs for <paramref name="m"/> rows of <paramref name="cols"/>.</summary>
    public static long ScratchBytes(IVecDotKernel kernel, int m, int cols)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        long act = (long)m * kernel.ActivationRowBytes(cols);
        return Q8Gemm.Supports(kernel) ? act + 64 + (long)m * Q8Gemm.PanelBytes(cols) : act;
    }

    /// <summary>
    /// Y = X · Wᵀ. x: [m, cols] floats (row stride <paramref name="xStride"/>), weights: [rows] rows of
    /// kernel.WeightRowBytes(cols) bytes, y: [m, rows] floats (row stride <paramref name="yStride"/>),
    /// scratch: <see cref="ScratchBytes"/> bytes. Pointers must stay valid for the call.
    /// </summary>
    public static void Compute(IVecDotKernel kernel, byte* weights, int rows, int cols, float* x, int xStride, int m,
        float* y, int yStride, byte* scratch, WorkerPool pool)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(pool);
        int ab = kernel.ActivationRowBytes(cols);
        bool gemm8 = Q8Gemm.Supports(kernel);
        for (int i = 0; i < m; i++)
        {
            var xi = new ReadOnlySpan<float>(x + (long)i * xStride, cols);
            var ai = new Span<byte>(scratch + (long)i * ab, ab);
            // the GEMM reads only the ggml Q8_0 blocks, not the per-block arrays the Dot kernels append
            if (gemm8) Q8Activation.QuantizeQ8_0(xi, ai);
            else kernel.QuantizeActivation(xi, ai);
        }
        int tiles = (rows + RowTile - 1) / RowTile;
        bool inline = (long)rows * cols * m < InlineWork;
        if (gemm8)
        {
            // panels: [m] x PanelBytes(cols), 64-byte aligned after the activation rows
            int nb = cols / 32, pb = Q8Gemm.PanelBytes(cols);
            byte* panels = (byte*)(((nint)(scratch + (long)m * ab) + 63) & ~(nint)63);
            for (int i = 0; i < m; i++) Q8Gemm.Pack(kernel, scratch + (long)i * ab, nb, panels + (long)i * pb);
            var gemm = new GemmBody
            {
                Kernel = kernel, Weights = weights, RowBytes = kernel.WeightRowBytes(cols), Rows = rows, Blocks = nb,
                Act = scratch, ActBytes = ab, Panels = panels, PanelBytes = pb, M = m, Y = y, YStride = yStride,
            };
            if (inline) for (int t = 0; t < tiles; t++) gemm.Execute(t);
            else pool.For(tiles, gemm);
            return;
        }
        if (m == 1 && kernel is KQuantVecDotKernel kq)
        {
            // batch 1: one Dot per row through the kernel's row loop (the Dot's own arithmetic, checks once per call)
            if (cols % 256 != 0) throw new ArgumentException($"K-quant rows need a multiple of 256 columns, got {cols}", nameof(cols));
            var rows1 = new KQuantRowsBody { Kernel = kq, Weights = weights, RowBytes = kernel.WeightRowBytes(cols), Rows = rows, Cols = cols, Act = scratch, Y = y };
            if (inline) for (int t = 0; t < tiles; t++) rows1.Execute(t);
            else pool.For(tiles, rows1);
            return;
        }
        if (m > 1 && KQuantGemm.Supports(kernel))
        {
            // m = 1 stays on Dot below: the GEMM computes each output with the Dot's own arithmetic, so the bits agree
            if (cols % 256 != 0) throw new ArgumentException($"K-quant rows need a multiple of 256 columns, got {cols}", nameof(cols));
            var kgemm = new KQuantGemmBody
            {
                Kernel = kernel, Weights = weights, RowBytes = kernel.WeightRowBytes(cols), Rows = rows, Blocks = cols / 256,
                Act = scratch, ActBytes = ab, M = m, Y = y, YStride = yStride,
            };
            if (inline) for (int t = 0; t < tiles; t++) kgemm.Execute(t);
            else pool.For(tiles, kgemm);
            return;
        }
        if (m > 1 && F16Gemm.Supports(kernel))
        {
            // m = 1 stays on Dot below: the GEMM computes each output with the Dot's own arithmetic, so the bits agree
            var fgemm = new F16GemmBody { Weights = (ushort*)weights, Cols = cols, Rows = rows, X = (float*)scratch, M = m, Y = y, YStride = yStride };
            if (inline) for (int t = 0; t < tiles; t++) fgemm.Execute(t);
            else pool.For(tiles, fgemm);
            return;
        }
        if (m > 1 && BF16Gemm.Supports(kernel))
        {
            // m = 1 stays on Dot below, with the same arithmetic
            var bgemm = new BF16GemmBody { Weights = (ushort*)weights, Cols = cols, Rows = rows, X = (ushort*)scratch, M = m, Y = y, YStride = yStride };
            if (inline) for (int t = 0; t < tiles; t++) bgemm.Execute(t);
            else pool.For(tiles, bgemm);
            return;
        }
        var body = new Body
        {
            Kernel = kernel,
            Weights = weights,
            RowBytes = kernel.WeightRowBytes(cols),
            Rows = rows,
            Cols = cols,
            Act = scratch,
            ActBytes = ab,
            M = m,
            Y = y,
            YStride = yStride,
        };
        if (inline)
            for (int t = 0; t < tiles; t++) body.Execute(t);
        else
            pool.For(tiles, body);
    }

    /// <summary>
    /// Y = X · Wᵀ over spans (for callers compiled without unsafe code): weights: [rows] rows of
    /// kernel.WeightRowBytes(cols) bytes, x: [m, cols] dense, y: [m, rows] dense, scratch: at least
    /// <see cref="ScratchBytes"/> bytes. The spans are pinned for the duration of the call and the same parallel
    /// algorithm runs, so results are bit-identical to the pointer overload. Lengths are checked.
    /// </summary>
    public static void Compute(IVecDotKernel kernel, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, int m,
        Span<float> y, Span<byte> scratch, WorkerPool pool)
    {
        CheckBuffers(kernel, weights.Length, rows, cols, x.Length, m, y.Length, scratch.Length);
        fixed (byte* w = weights)
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (byte* s = scratch)
            Compute(kernel, w, rows, cols, px, cols, m, py, rows, s, pool);
    }

    /// <summary>
    /// Y = X · Wᵀ with the weights at <paramref name="weightOffset"/> in <paramref name="weights"/> (a mapped file or a
    /// <see cref="Memory.NativeBuffer"/>; matrices over 2 GiB work). Otherwise as the span overload; the region must not
    /// be disposed during the call.
    /// </summary>
    public static void Compute(IVecDotKernel kernel, Memory.NativeRegion weights, long weightOffset, int rows, int cols,
        ReadOnlySpan<float> x, int m, Span<float> y, Span<byte> scratch, WorkerPool pool)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(kernel);
        long wBytes = (long)rows * kernel.WeightRowBytes(cols);
        CheckBuffers(kernel, wBytes, rows, cols, x.Length, m, y.Length, scratch.Length);
        byte* w = weights.Checked(weightOffset, wBytes);
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (byte* s = scratch)
            Compute(kernel, w, rows, cols, px, cols, m, py, rows, s, pool);
    }

    private static void CheckBuffers(IVecDotKernel kernel, long weightBytes, int rows, int cols, int xLength, int m, int yLength, int scratchLength)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        if (weightBytes < (long)rows * kernel.WeightRowBytes(cols))
            throw new ArgumentException($"weights hold {weightBytes} bytes, {rows} rows need {(long)rows * kernel.WeightRowBytes(cols)}");
        if (xLength < (long)m * cols) throw new ArgumentException($"x holds {xLength} floats, [{m}, {cols}] needs {(long)m * cols}");
        if (yLength < (long)m * rows) throw new ArgumentException($"y holds {yLength} floats, [{m}, {rows}] needs {(long)m * rows}");
        if (scratchLength < ScratchBytes(kernel, m, cols)) throw new ArgumentException($"scratch holds {scratchLength} bytes, needs {ScratchBytes(kernel, m, cols)}");
    }

    /// <summary>y = W x for one activation row (decode). See <see cref="Compute"/>.</summary>
    public static void Vector(IVecDotKernel kernel, byte* weights, int rows, int cols, float* x, float* y, byte* scratch, WorkerPool pool) =>
        Compute(kernel, weights, rows, cols, x, cols, 1, y, rows, scratch, pool);

    private struct Body : IParallelBody
    {
        public IVecDotKernel Kernel;
        public byte* Weights;   // [Rows] x RowBytes
        public long RowBytes;
        public int Rows, Cols;
        public byte* Act;       // [M] x ActBytes
        public int ActBytes;
        public int M;
        public float* Y;        // [M, YStride]
        public int YStride;

        public readonly void Execute(int tile)
        {
            int r0 = tile * RowTile, r1 = Math.Min(Rows, r0 + RowTile);
            int rb = (int)RowBytes;
            for (int r = r0; r < r1; r++)
            {
                var w = new ReadOnlySpan<byte>(Weights + r * RowBytes, rb);
                for (int i = 0; i < M; i++)
                    Y[(long)i * YStride + r] = Kernel.Dot(w, new ReadOnlySpan<byte>(Act + (long)i * ActBytes, ActBytes), Cols);
            }
        }
    }

    private struct KQuantRowsBody : IParallelBody
    {
        public KQuantVecDotKernel Kernel;
        public byte* Weights;   // [Rows] x RowBytes
        public long RowBytes;
        public int Rows, Cols;
        public byte* Act;       // one Q8_K row of Cols
        public float* Y;        // [Rows]

        public readonly void Execute(int tile)
        {
            int r0 = tile * RowTile, r1 = Math.Min(Rows, r0 + RowTile);
            Kernel.DotRows(Weights, RowBytes, r0, r1, Act, Cols, Y);
        }
    }

    private struct KQuantGemmBody : IParallelBody
    {
        public IVecDotKernel Kernel;
        public byte* Weights;   // [Rows] x RowBytes
        public long RowBytes;
        public int Rows, Blocks;
        public byte* Act;       // [M] x ActBytes (Q8_K rows)
        public int ActBytes;
        public int M;
        public float* Y;        // [M, YStride]
        public int YStride;

        public readonly void Execute(int tile)
        {
            int r0 = tile * RowTile, r1 = Math.Min(Rows, r0 + RowTile);
            KQuantGemm.Rows(Kernel, Weights, RowBytes, r0, r1, Act, ActBytes, M, Blocks, Y, YStride);
        }
    }

    private struct F16GemmBody : IParallelBody
    {
        public ushort* Weights; // [Rows, Cols]
        public int Cols, Rows;
        public float* X;        // [M, Cols]: the activations rounded to F16 values
        public int M;
        public float* Y;        // [M, YStride]
        public int YStride;

        public readonly void Execute(int tile)
        {
            int r0 = tile * RowTile, r1 = Math.Min(Rows, r0 + RowTile);
            F16Gemm.Rows(Weights, Cols, r0, r1, X, Cols, M, Y, YStride);
        }
    }

    private struct BF16GemmBody : IParallelBody
    {
        public ushort* Weights; // [Rows, Cols]
        public int Cols, Rows;
        public ushort* X;       // [M, Cols] BF16 activations
        public int M;
        public float* Y;        // [M, YStride]
        public int YStride;

        public readonly void Execute(int tile)
        {
            int r0 = tile * RowTile, r1 = Math.Min(Rows, r0 + RowTile);
            BF16Gemm.Rows(Weights, Cols, r0, r1, X, Cols, M, Y, YStride);
        }
    }

    private struct GemmBody : IParallelBody
    {
        public IVecDotKernel Kernel;
        public byte* Weights;   // [Rows] x RowBytes
        public long RowBytes;
        public int Rows, Blocks;
        public byte* Act;       // [M] x ActBytes (ggml Q8_0 blocks first)
        public int ActBytes;
        public byte* Panels;    // [M] x PanelBytes
        public int PanelBytes;
        public int M;
        public float* Y;        // [M, YStride]
        public int YStride;

        public readonly void Execute(int tile)
        {
            int r0 = tile * RowTile, r1 = Math.Min(Rows, r0 + RowTile);
            Q8Gemm.Rows(Kernel, Weights, RowBytes, r0, r1, Act, ActBytes, Panels, PanelBytes, M, Blocks, Y, YStride);
        }
    }
}
