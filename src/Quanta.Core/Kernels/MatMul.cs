using Quanta.Core.Kernels.Float;
using Quanta.Core.Kernels.Gemm;
using Quanta.Core.Kernels.Quantized;
using Quanta.Core.Threading;

namespace Quanta.Core.Kernels;

/// <summary>
/// Parallel matrix products over weights stored row by row in any <see cref="Formats.WeightFormat"/>:
/// Y[m, rows] = X[m, cols] · W[rows, cols]ᵀ. With m = 1 this is the matrix x vector product of decode.
/// <para>The m activation rows are converted once into the kernel's activation format (by the call, or beforehand row by
/// row by the loop that produced them: <see cref="ConvertActivationRow"/> and <c>converted: true</c>), then
/// the weight rows are split into contiguous tiles across the pool; each weight row is read once from memory and
/// used for all m activation rows while it is in cache.</para>
/// <para>Formats with a register-blocked GEMM (<see cref="Q8Gemm.Supports"/>: Q4_0, Q8_0) run every m, 1 included,
/// through it: tiles of rows x tokens, each output element computed with one fixed arithmetic whatever the tile shape
/// (<see cref="Q8Gemm"/>; their activations are quantized to the ggml Q8_0 blocks alone). K-quant formats with m = 1 run
/// each row's Dot through the kernel's row loop (one path check per tile, not per row). Q4_K and Q6_K with m &gt; 1 run through <see cref="KQuantGemm"/>, whose tiles compute each output with
/// the arithmetic of the kernel's Dot, and so do F16 and BF16 with m &gt; 1 through <see cref="F16Gemm"/> and <see cref="BF16Gemm"/>. Other formats compute every output element with one <see cref="IVecDotKernel.Dot"/> call.
/// Either way results are bit-identical for any thread count and any m (batch invariance).</para>
/// <para>Up to three matrices with the same input, format and column count (Q, K, V; gate, up) can run as one call: the
/// activations are converted once and one pool loop covers all their tiles, each output with the bits of its own call.</para>
/// </summary>
public static unsafe partial class MatMul
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
        if (Q8Gemm.Supports(kernel)) return act + 64 + (long)m * Q8Gemm.PanelBytes(cols);
        // F16 at m = 1: the activation row and its 2^112-scaled copy (F16VecDot.DotRows)
        if (kernel is F16VecDot && m == 1) return act + 4L * cols;
        // K-quants: the few-token path's activation layout, 64-byte aligned after the activation rows (Q6_K from 2 tokens,
        // one layout per group of at most 16 tokens; growing with m, so scratch for m tokens also fits every smaller batch)
        long prep = KQuantGemm.Supports(kernel) && cols % 256 == 0 ? KQuantGemm.PreparedBytes(kernel, m, cols) : 0;
        return prep > 0 ? act + 64 + prep : act;
    }

    /// <summary>
    /// Y = X · Wᵀ. x: [m, cols] floats (row stride <paramref name="xStride"/>), weights: [rows] rows of
    /// kernel.WeightRowBytes(cols) bytes, y: [m, rows] floats (row stride <paramref name="yStride"/>),
    /// scratch: <see cref="ScratchBytes"/> bytes. Pointers must stay valid for the call.
    /// </summary>
    public static void Compute(IVecDotKernel kernel, byte* weights, int rows, int cols, float* x, int xStride, int m,
        float* y, int yStride, byte* scratch, WorkerPool pool) =>
        Compute(kernel, cols, x, xStride, m, weights, rows, y, yStride, null, 0, null, 0, null, 0, null, 0, scratch, pool);

    /// <summary>
    /// Up to three products that share their activations and their weight format, Yj = X · Wjᵀ for j = 0, 1, 2 (e.g. the
    /// Q, K and V projections of one layer): x is converted into the kernel's activation format once, and one pool loop
    /// runs over the 16-row tiles of all the matrices together. Each output has the bits of a separate
    /// <see cref="Compute(IVecDotKernel, byte*, int, int, float*, int, int, float*, int, byte*, WorkerPool)"/> call:
    /// every row runs the same arithmetic, only the scheduling changes.
    /// x: [m, cols] (row stride <paramref name="xStride"/>); weightsJ: [rowsJ] rows of kernel.WeightRowBytes(cols) bytes;
    /// yJ: [m, rowsJ] (row stride yStrideJ); a set with rowsJ = 0 is skipped (its pointers may be null). scratch:
    /// <see cref="ScratchBytes"/>(kernel, m, cols) bytes, the same as one product needs. Pointers must stay valid for the call.
    /// </summary>
    public static void Compute(IVecDotKernel kernel, int cols, float* x, int xStride, int m,
        byte* weights0, int rows0, float* y0, int yStride0,
        byte* weights1, int rows1, float* y1, int yStride1,
        byte* weights2, int rows2, float* y2, int yStride2,
        byte* scratch, WorkerPool pool) =>
        Compute(kernel, kernel, kernel, cols, x, xStride, m, weights0, rows0, y0, yStride0, weights1, rows1, y1, yStride1,
            weights2, rows2, y2, yStride2, scratch, pool, false);

    /// <summary>
    /// True when products in <paramref name="a"/> and <paramref name="b"/> can run as one fused call with
    /// <paramref name="m"/> activation rows although their formats differ: both are K-quants (one Q8_K activation
    /// row serves both) and, for m &gt; 1, both have <see cref="KQuantGemm"/> tiles.
    /// </summary>
    public static bool SharesActivation(IVecDotKernel a, IVecDotKernel b, int m) =>
        a is KQuantVecDotKernel && b is KQuantVecDotKernel && (m == 1 || (KQuantGemm.Supports(a) && KQuantGemm.Supports(b)));

    /// <summary>The fused products with a kernel per set: all the same, or pairwise <see cref="SharesActivation"/>. When
    /// <paramref name="converted"/>, the m activation rows are already in the scratch (<see cref="ConvertActivationRow"/>)
    /// and x is not read.</summary>
    private static void Compute(IVecDotKernel kernel, IVecDotKernel kernel1, IVecDotKernel kernel2, int cols, float* x, int xStride, int m,
        byte* weights0, int rows0, float* y0, int yStride0,
        byte* weights1, int rows1, float* y1, int yStride1,
        byte* weights2, int rows2, float* y2, int yStride2,
        byte* scratch, WorkerPool pool, bool converted)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(kernel1);
        ArgumentNullException.ThrowIfNull(kernel2);
        ArgumentNullException.ThrowIfNull(pool);
        if ((kernel1 != kernel && (rows1 > 0 && !SharesActivation(kernel, kernel1, m)))
            || (kernel2 != kernel && (rows2 > 0 && !SharesActivation(kernel, kernel2, m))))
            throw new ArgumentException("fused products of different formats must all be K-quants (with GEMM tiles for m > 1)");
        ArgumentOutOfRangeException.ThrowIfNegative(rows0);
        ArgumentOutOfRangeException.ThrowIfNegative(rows1);
        ArgumentOutOfRangeException.ThrowIfNegative(rows2);
        int ab = kernel.ActivationRowBytes(cols);
        bool gemm8 = Q8Gemm.Supports(kernel);
        int t0 = (rows0 + RowTile - 1) / RowTile, t1 = (rows1 + RowTile - 1) / RowTile, t2 = (rows2 + RowTile - 1) / RowTile;
        bool inline = ((long)rows0 + rows1 + rows2) * cols * m < InlineWork;
        long rowBytes = kernel.WeightRowBytes(cols);
        // activation rows (and the GEMM's panels, 64-byte aligned after the rows): each row is converted on its own, so
        // with enough rows for a product that goes to the pool anyway they are shared out too (a worker that would spin
        // meanwhile takes half); the bytes are the same whoever converts a row
        int nb = cols / 32, pb = gemm8 ? Q8Gemm.PanelBytes(cols) : 0;
        byte* panels = (byte*)(((nint)(scratch + (long)m * ab) + 63) & ~(nint)63);
        var prep = new ActivationBody
        {
            Kernel = kernel, X = x, XStride = xStride, Cols = cols, Act = scratch, ActBytes = ab,
            Gemm8 = gemm8, Blocks = nb, Panels = panels, PanelBytes = pb,
        };
        if (!converted)
        {
            if (!inline && m >= ParallelActivationRows) pool.For(m, prep);
            else for (int i = 0; i < m; i++) prep.Execute(i);
        }
        if (gemm8)
        {
            var gemm = new GemmBody
            {
                Kernel = kernel, Weights = weights0, RowBytes = rowBytes, Rows = rows0, Blocks = nb,
                Act = scratch, ActBytes = ab, Panels = panels, PanelBytes = pb, M = m, Y = y0, YStride = yStride0,
            };
            Run(gemm, t0, gemm with { Weights = weights1, Rows = rows1, Y = y1, YStride = yStride1 }, t1,
                gemm with { Weights = weights2, Rows = rows2, Y = y2, YStride = yStride2 }, t2, inline, pool);
            return;
        }
        if (m == 1 && kernel is KQuantVecDotKernel kq)
        {
            // batch 1: one Dot per row through the kernel's row loop (the Dot's own arithmetic, checks once per call)
            if (cols % 256 != 0) throw new ArgumentException($"K-quant rows need a multiple of 256 columns, got {cols}", nameof(cols));
            var rows1b = new KQuantRowsBody { Kernel = kq, Weights = weights0, RowBytes = rowBytes, Rows = rows0, Cols = cols, Act = scratch, Y = y0 };
            Run(rows1b, t0, rows1b with { Kernel = (KQuantVecDotKernel)kernel1, Weights = weights1, RowBytes = kernel1.WeightRowBytes(cols), Rows = rows1, Y = y1 }, t1,
                rows1b with { Kernel = (KQuantVecDotKernel)kernel2, Weights = weights2, RowBytes = kernel2.WeightRowBytes(cols), Rows = rows2, Y = y2 }, t2, inline, pool);
            return;
        }
        if (m == 1 && kernel is F16VecDot f16 && F16VecDot.RowsAccelerated)
        {
            // batch 1: 4 rows per step sharing the activation loads, each row with the Dot's bits (F16VecDot.DotRows)
            float* xs = (float*)(scratch + ab);   // [cols] the activation row · 2^112
            F16VecDot.ScaleForRows((float*)scratch, xs, cols);
            var frows = new F16RowsBody { Kernel = f16, Weights = (ushort*)weights0, Cols = cols, Rows = rows0, X = (float*)scratch, XScaled = xs, Y = y0 };
            Run(frows, t0, frows with { Weights = (ushort*)weights1, Rows = rows1, Y = y1 }, t1,
                frows with { Weights = (ushort*)weights2, Rows = rows2, Y = y2 }, t2, inline, pool);
            return;
        }
        if (m > 1 && KQuantGemm.Supports(kernel))
        {
            // m = 1 stays on Dot below: the GEMM computes each output with the Dot's own arithmetic, so the bits agree
            if (cols % 256 != 0) throw new ArgumentException($"K-quant rows need a multiple of 256 columns, got {cols}", nameof(cols));
            // activations laid out once for all row tiles where the few-token path reads them so (Q6_K from 2 tokens; in a
            // fused call of mixed K-quants, e.g. a Q4_K file's Q6_K V, whichever set is Q6_K: the other formats ignore it,
            // and the region overload checked the scratch against every set's kernel)
            IVecDotKernel pk = kernel is VecDotQ6_K ? kernel : rows1 > 0 && kernel1 is VecDotQ6_K ? kernel1 : rows2 > 0 && kernel2 is VecDotQ6_K ? kernel2 : kernel;
            byte* prepared = KQuantGemm.Prepare(pk, scratch, ab, m, cols / 256, (byte*)(((nint)(scratch + (long)m * ab) + 63) & ~(nint)63));
            var kgemm = new KQuantGemmBody
            {
                Kernel = kernel, Weights = weights0, RowBytes = rowBytes, Rows = rows0, Blocks = cols / 256,
                Act = scratch, ActBytes = ab, Prepared = prepared, M = m, Y = y0, YStride = yStride0,
            };
            Run(kgemm, t0, kgemm with { Kernel = kernel1, Weights = weights1, RowBytes = kernel1.WeightRowBytes(cols), Rows = rows1, Y = y1, YStride = yStride1 }, t1,
                kgemm with { Kernel = kernel2, Weights = weights2, RowBytes = kernel2.WeightRowBytes(cols), Rows = rows2, Y = y2, YStride = yStride2 }, t2, inline, pool);
            return;
        }
        if (m > 1 && F16Gemm.Supports(kernel))
        {
            // m = 1 stays on Dot below: the GEMM computes each output with the Dot's own arithmetic, so the bits agree
            F16Gemm.Prepare((float*)scratch, cols, m, cols);
            var fgemm = new F16GemmBody { Weights = (ushort*)weights0, Cols = cols, Rows = rows0, X = (float*)scratch, M = m, Y = y0, YStride = yStride0 };
            Run(fgemm, t0, fgemm with { Weights = (ushort*)weights1, Rows = rows1, Y = y1, YStride = yStride1 }, t1,
                fgemm with { Weights = (ushort*)weights2, Rows = rows2, Y = y2, YStride = yStride2 }, t2, inline, pool);
            return;
        }
        if (m > 1 && BF16Gemm.Supports(kernel))
        {
            // m = 1 stays on Dot below, with the same arithmetic
            var bgemm = new BF16GemmBody { Weights = (ushort*)weights0, Cols = cols, Rows = rows0, X = (ushort*)scratch, M = m, Y = y0, YStride = yStride0 };
            Run(bgemm, t0, bgemm with { Weights = (ushort*)weights1, Rows = rows1, Y = y1, YStride = yStride1 }, t1,
                bgemm with { Weights = (ushort*)weights2, Rows = rows2, Y = y2, YStride = yStride2 }, t2, inline, pool);
            return;
        }
        var body = new Body
        {
            Kernel = kernel,
            Weights = weights0,
            RowBytes = rowBytes,
            Rows = rows0,
            Cols = cols,
            Act = scratch,
            ActBytes = ab,
            M = m,
            Y = y0,
            YStride = yStride0,
        };
        Run(body, t0, body with { Weights = weights1, Rows = rows1, Y = y1, YStride = yStride1 }, t1,
            body with { Weights = weights2, Rows = rows2, Y = y2, YStride = yStride2 }, t2, inline, pool);
    }

    /// <summary>Runs the tiles of up to three bodies (t0, t1, t2 tiles) as one loop, on this thread or the pool.</summary>
    private static void Run<TBody>(TBody b0, int t0, TBody b1, int t1, TBody b2, int t2, bool inline, WorkerPool pool)
        where TBody : struct, IParallelBody
    {
        if (t1 == 0 && t2 == 0)
        {
            if (inline) for (int t = 0; t < t0; t++) b0.Execute(t);
            else pool.For(t0, b0);
            return;
        }
        var fused = new FusedBody<TBody> { B0 = b0, B1 = b1, B2 = b2, End0 = t0, End1 = t0 + t1 };
        int tiles = t0 + t1 + t2;
        if (inline) for (int t = 0; t < tiles; t++) fused.Execute(t);
        else pool.For(tiles, fused);
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
    /// be disposed during the call. When <paramref name="converted"/>, the activation rows are already in
    /// <paramref name="scratch"/> (<see cref="ConvertActivationRow"/> of every row, same kernel, m and cols) and x is
    /// not read.
    /// </summary>
    public static void Compute(IVecDotKernel kernel, Memory.NativeRegion weights, long weightOffset, int rows, int cols,
        ReadOnlySpan<float> x, int m, Span<float> y, Span<byte> scratch, WorkerPool pool, bool converted = false)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(kernel);
        long wBytes = (long)rows * kernel.WeightRowBytes(cols);
        CheckBuffers(kernel, wBytes, rows, cols, x.Length, m, y.Length, scratch.Length);
        byte* w = weights.Checked(weightOffset, wBytes);
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (byte* s = scratch)
            Compute(kernel, kernel, kernel, cols, px, cols, m, w, rows, py, rows, null, 0, null, 0, null, 0, null, 0, s, pool, converted);
    }

    /// <summary>
    /// Converts activation row <paramref name="row"/> of <paramref name="m"/> (x: [cols]) into <paramref name="scratch"/>
    /// where a product over m rows of <paramref name="cols"/> with <paramref name="kernel"/> and
    /// <c>converted: true</c> reads it (the kernel's activation row, and for the Q8_0 GEMM its panel): the bytes that
    /// product's own conversion writes, so its output is bit-identical. Lets the loop that produces a row convert it
    /// while it is in cache, on the thread that wrote it, instead of a separate pool loop. Rows may be converted
    /// concurrently (each writes only its own bytes). The panels' offset depends on the scratch's address (64-byte
    /// aligned), so the scratch must not move before the product: a pinned array or native memory. scratch: at least
    /// <see cref="ScratchBytes"/>(kernel, m, cols) bytes.
    /// </summary>
    public static void ConvertActivationRow(IVecDotKernel kernel, int cols, int m, int row, ReadOnlySpan<float> x, Span<byte> scratch)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(m);
        if ((uint)row >= (uint)m) throw new ArgumentOutOfRangeException(nameof(row), row, $"row outside [0, {m})");
        if (x.Length < cols) throw new ArgumentException($"x holds {x.Length} floats, needs {cols}", nameof(x));
        long need = ScratchBytes(kernel, m, cols);
        if (scratch.Length < need) throw new ArgumentException($"scratch holds {scratch.Length} bytes, needs {need}", nameof(scratch));
        int ab = kernel.ActivationRowBytes(cols);
        bool gemm8 = Q8Gemm.Supports(kernel);
        fixed (float* px = x)
        fixed (byte* s = scratch)
            new ActivationBody
            {
                Kernel = kernel, X = px, XStride = 0, Cols = cols, Act = s, ActBytes = ab, Gemm8 = gemm8, Blocks = cols / 32,
                Panels = (byte*)(((nint)(s + (long)m * ab) + 63) & ~(nint)63), PanelBytes = gemm8 ? Q8Gemm.PanelBytes(cols) : 0,
            }.Execute(row);
    }

    /// <summary>
    /// Up to three products sharing x and the weight format (the fused pointer overload, for callers compiled without
    /// unsafe code): matrix j has rowsJ rows at offsetJ in weightsJ (a mapped file or a <see cref="Memory.NativeBuffer"/>),
    /// yJ: [m, rowsJ] dense; x: [m, cols] dense; scratch: at least <see cref="ScratchBytes"/>(kernel, m, cols) bytes.
    /// A set with rowsJ = 0 is skipped (its region may be null). Each output has the bits of a separate call. Lengths
    /// are checked; the regions must not be disposed during the call.
    /// </summary>
    public static void Compute(IVecDotKernel kernel, int cols, ReadOnlySpan<float> x, int m,
        Memory.NativeRegion weights0, long offset0, int rows0, Span<float> y0,
        Memory.NativeRegion? weights1, long offset1, int rows1, Span<float> y1,
        Memory.NativeRegion? weights2, long offset2, int rows2, Span<float> y2,
        Span<byte> scratch, WorkerPool pool) =>
        Compute(kernel, kernel, kernel, cols, x, m, weights0, offset0, rows0, y0, weights1, offset1, rows1, y1,
            weights2, offset2, rows2, y2, scratch, pool);

    /// <summary>
    /// As the overload above with a kernel per matrix: <paramref name="kernel1"/> and <paramref name="kernel2"/> are
    /// <paramref name="kernel0"/> or pairwise <see cref="SharesActivation"/> with it (e.g. a K-quant file's Q4_K Q and K
    /// with its Q6_K V), so one activation conversion and one pool loop serve all three. Each output has the bits of a
    /// separate call with its own kernel. When <paramref name="converted"/>, the activation rows are already in
    /// <paramref name="scratch"/> (<see cref="ConvertActivationRow"/> with <paramref name="kernel0"/>) and x is not read.
    /// </summary>
    public static void Compute(IVecDotKernel kernel0, IVecDotKernel kernel1, IVecDotKernel kernel2, int cols, ReadOnlySpan<float> x, int m,
        Memory.NativeRegion weights0, long offset0, int rows0, Span<float> y0,
        Memory.NativeRegion? weights1, long offset1, int rows1, Span<float> y1,
        Memory.NativeRegion? weights2, long offset2, int rows2, Span<float> y2,
        Span<byte> scratch, WorkerPool pool, bool converted = false)
    {
        ArgumentNullException.ThrowIfNull(kernel0);
        ArgumentNullException.ThrowIfNull(kernel1);
        ArgumentNullException.ThrowIfNull(kernel2);
        ArgumentNullException.ThrowIfNull(weights0);
        byte* w0 = CheckedSet(kernel0, weights0, offset0, rows0, cols, x.Length, m, y0.Length, scratch.Length);
        byte* w1 = CheckedSet(kernel1, weights1, offset1, rows1, cols, x.Length, m, y1.Length, scratch.Length);
        byte* w2 = CheckedSet(kernel2, weights2, offset2, rows2, cols, x.Length, m, y2.Length, scratch.Length);
        fixed (float* px = x)
        fixed (float* p0 = y0)
        fixed (float* p1 = y1)
        fixed (float* p2 = y2)
        fixed (byte* s = scratch)
            Compute(kernel0, kernel1, kernel2, cols, px, cols, m, w0, rows0, p0, rows0, w1, rows1, p1, rows1, w2, rows2, p2, rows2, s, pool, converted);
    }

    /// <summary>The checked address of one set of the fused region overload; null for a skipped set (rows = 0).</summary>
    private static byte* CheckedSet(IVecDotKernel kernel, Memory.NativeRegion? weights, long offset, int rows, int cols,
        int xLength, int m, int yLength, int scratchLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (rows == 0) return null;
        ArgumentNullException.ThrowIfNull(weights);
        long wBytes = (long)rows * kernel.WeightRowBytes(cols);
        CheckBuffers(kernel, wBytes, rows, cols, xLength, m, yLength, scratchLength);
        return weights.Checked(offset, wBytes);
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

    /// <summary>Tiles [0, End0) of B0, then [End0, End1) of B1, then the rest of B2, each renumbered from 0.</summary>
    private struct FusedBody<TBody> : IParallelBody where TBody : struct, IParallelBody
    {
        public TBody B0, B1, B2;
        public int End0, End1;

        public void Execute(int tile)
        {
            if (tile < End0) B0.Execute(tile);
            else if (tile < End1) B1.Execute(tile - End0);
            else B2.Execute(tile - End1);
        }
    }

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

    private struct F16RowsBody : IParallelBody
    {
        public F16VecDot Kernel;
        public ushort* Weights; // [Rows, Cols]
        public int Cols, Rows;
        public float* X;        // [Cols] the activation row (F16 values)
        public float* XScaled;  // [Cols] the same · 2^112
        public float* Y;        // [Rows]

        public readonly void Execute(int tile)
        {
            int r0 = tile * RowTile, r1 = Math.Min(Rows, r0 + RowTile);
            Kernel.DotRows(Weights, Cols, r0, r1, X, XScaled, Y);
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
        public byte* Prepared;  // KQuantGemm.Prepare's layout of Act, or null
        public int M;
        public float* Y;        // [M, YStride]
        public int YStride;

        public readonly void Execute(int tile)
        {
            int r0 = tile * RowTile, r1 = Math.Min(Rows, r0 + RowTile);
            KQuantGemm.Rows(Kernel, Weights, RowBytes, r0, r1, Act, ActBytes, M, Blocks, Y, YStride, Prepared);
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

    /// <summary>Products with at least this many activation rows convert them on the pool (when the product itself goes
    /// to the pool): a loop hand-off costs about one row's conversion at the model widths.</summary>
    private const int ParallelActivationRows = 4;

    /// <summary>Row i of the activations: quantized (or copied) for the kernel, and packed for the Q8_0 GEMM.</summary>
    private struct ActivationBody : IParallelBody
    {
        public IVecDotKernel Kernel;
        public float* X;        // [M, XStride]
        public int XStride, Cols;
        public byte* Act;       // [M] x ActBytes
        public int ActBytes;
        public bool Gemm8;
        public int Blocks;
        public byte* Panels;    // [M] x PanelBytes (Gemm8)
        public int PanelBytes;

        public readonly void Execute(int i)
        {
            var xi = new ReadOnlySpan<float>(X + (long)i * XStride, Cols);
            byte* ai = Act + (long)i * ActBytes;
            if (Gemm8)
            {
                // the GEMM reads only the ggml Q8_0 blocks, not the per-block arrays the Dot kernels append
                Q8Activation.QuantizeQ8_0(xi, new Span<byte>(ai, ActBytes));
                Q8Gemm.Pack(Kernel, ai, Blocks, Panels + (long)i * PanelBytes);
            }
            else Kernel.QuantizeActivation(xi, new Span<byte>(ai, ActBytes));
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
