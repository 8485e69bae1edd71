using Quanta.Core.Formats.Gguf;
using Quanta.Core.Kernels.Gemm;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.Kernels.Quantized;
using Quanta.Core.Threading;

namespace Quanta.Core.Kernels;

public static unsafe partial class MatMul
{
    /// <summary>Hidden columns per tile of <see cref="ComputeGated"/>: one panel group of the down product's input
    /// (16 Q8_0 blocks), so a tile packs whole groups. 32 and 128 columns per tile measured slower (per-tile costs,
    /// shorter weight runs; docs/perf-notes/2026-11-27-glue.md).</summary>
    private const int GatedTile = Q8Gemm.Group * Q8Activation.BlockSize;

    /// <summary>
    /// True when <see cref="ComputeGated"/>
    /// serves a gated feed-forward of <paramref name="m"/> token rows with gate/up weights of <paramref name="gateUp"/>'s
    /// format and down weights of <paramref name="down"/>'s over <paramref name="hidden"/> hidden columns: both are
    /// formats of the Q8_0 GEMM (<see cref="Q8Gemm.Supports"/>), whose activations are the ggml Q8_0 blocks alone, and
    /// 1 ≤ m ≤ <see cref="GatedMaxRows"/>; or both are K-quants (one Q8_K row each; the hidden width whole Q8_K blocks)
    /// and m = 1.
    /// </summary>
    public static bool SupportsGated(IVecDotKernel gateUp, IVecDotKernel down, int hidden, int m = 1) =>
        m >= 1 && m <= GatedMaxRows
        && ((Q8Gemm.Supports(gateUp) && Q8Gemm.Supports(down) && hidden % Q8Activation.BlockSize == 0)
            || (m == 1 && gateUp is KQuantVecDotKernel && down is KQuantVecDotKernel && hidden % KQuantMath.QK_K == 0));

    /// <summary>Most token rows <see cref="ComputeGated"/>
    /// takes: a tile holds its rows' gate and up values on the stack (2 x 16 x 512 floats at most), and up to this many
    /// tokens the Q8_0 GEMM streams each weight row once for all of them (<see cref="Q8Gemm"/>'s direct path).</summary>
    public const int GatedMaxRows = 16;

    /// <summary>
    /// Whether the gated path is the faster way to run a feed-forward of <paramref name="m"/> token rows over
    /// <paramref name="hidden"/> columns on <paramref name="threads"/> threads (both ways give the same bits): always for
    /// one token; for 2..<see cref="GatedMaxRows"/> tokens when its 512-column tiles split evenly over the threads. At
    /// 16 tokens a tile is ~1/6 of the 160M model's gate/up work, and the 1B model's 11 tiles on 2 threads (one thread
    /// runs a tile more) measured ~2% slower than the separate steps, whose 16-row tiles balance
    /// (docs/perf-notes/2026-11-27-step16d.md).
    /// </summary>
    public static bool PrefersGated(int m, int hidden, int threads) =>
        m == 1 || (m >= 1 && m <= GatedMaxRows && threads >= 1 && (hidden + GatedTile - 1) / GatedTile % threads == 0);

    /// <summary>Bytes of scratch the gated feed-forward of <paramref name="m"/> token rows needs: the gate/up products'
    /// activations and panels, then the down product's.</summary>
    public static long GatedScratchBytes(IVecDotKernel gateUp, IVecDotKernel down, int m, int cols, int hidden) =>
        ScratchBytes(gateUp, m, cols) + ScratchBytes(down, m, hidden);

    /// <summary>
    /// A gated feed-forward of m token rows (1 ≤ m ≤ <see cref="GatedMaxRows"/>): y = down · q8(act(gate · x) ⊙ (up · x)),
    /// act SiLU (<see cref="SwiGlu"/>) or, when <paramref name="gelu"/>, tanh-GELU (<see cref="GeGlu"/>). The bits are
    /// those of the separate steps (the gate and up products, the activation over each whole hidden row, then the down
    /// product on it): one pool loop runs per 512 hidden columns (one group of the down product's activation panel) the
    /// gate and up rows for all m tokens, the activation, the Q8_0 blocks and the panel group of each token's down input,
    /// (K-quants, one token: its Q8_K blocks, over the input's Q8_K row), so the thread that computed a column range
    /// converts it, no F32 gate or up value crosses to the other thread, and no serial conversion or separate row loop runs between the products (with the two threads on different L3 caches
    /// every line that crosses is a cross-complex transfer); then the down product runs as
    /// <see cref="Compute(IVecDotKernel, byte*, int, int, float*, int, int, float*, int, byte*, WorkerPool)"/> does after its
    /// activation conversion. Each element's arithmetic is the same in every step (per-row products, per-element
    /// activation, per-block quantization), so the result is bit-identical to the unfused steps for any thread count and
    /// any m (batch invariance holds). x: [m, cols] dense; gate, up: [hidden] rows of gateUp.WeightRowBytes(cols) bytes;
    /// down: [rows] rows of down.WeightRowBytes(hidden) bytes; y: [m, rows] dense; scratch:
    /// <see cref="GatedScratchBytes"/>. Requires <see cref="SupportsGated"/> for m.
    /// The regions must not be disposed during the call. When <paramref name="converted"/>, x's activation rows are
    /// already at the start of <paramref name="scratch"/> (<see cref="ConvertActivationRow"/> with gateUp, m and cols)
    /// and x is not read. Never allocates.
    /// </summary>
    public static void ComputeGated(IVecDotKernel gateUp, IVecDotKernel down, int m, int cols, int hidden, ReadOnlySpan<float> x,
        Memory.NativeRegion gate, long gateOffset, Memory.NativeRegion up, long upOffset,
        Memory.NativeRegion downWeights, long downOffset, int rows, bool gelu, Span<float> y, Span<byte> scratch, WorkerPool pool,
        bool converted = false)
    {
        ArgumentNullException.ThrowIfNull(gateUp);
        ArgumentNullException.ThrowIfNull(down);
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(up);
        ArgumentNullException.ThrowIfNull(downWeights);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(m);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(m, GatedMaxRows);
        if (!SupportsGated(gateUp, down, hidden, m)) throw new ArgumentException($"no gated path for {gateUp.Name} / {down.Name} over {hidden} hidden columns at {m} token rows");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        if (x.Length < (long)m * cols) throw new ArgumentException($"x holds {x.Length} floats, [{m}, {cols}] needs {(long)m * cols}", nameof(x));
        if (y.Length < (long)m * rows) throw new ArgumentException($"y holds {y.Length} floats, [{m}, {rows}] needs {(long)m * rows}", nameof(y));
        long need = GatedScratchBytes(gateUp, down, m, cols, hidden);
        if (scratch.Length < need) throw new ArgumentException($"scratch holds {scratch.Length} bytes, needs {need}", nameof(scratch));
        long guBytes = (long)hidden * gateUp.WeightRowBytes(cols);
        byte* wg = gate.Checked(gateOffset, guBytes), wu = up.Checked(upOffset, guBytes);
        byte* wd = downWeights.Checked(downOffset, (long)rows * down.WeightRowBytes(hidden));
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (byte* s = scratch)
        {
            if (gateUp is KQuantVecDotKernel kg)
            {
                // K-quants (one token): one Q8_K row in, and each tile's Q8_K blocks (256 values each) of the down
                // product's input out
                if (!converted) gateUp.QuantizeActivation(new ReadOnlySpan<float>(px, cols), new Span<byte>(s, gateUp.ActivationRowBytes(cols)));
                byte* dact = s + ScratchBytes(gateUp, 1, cols);
                var kglu = new GatedKBody
                {
                    Kernel = kg, Gate = wg, Up = wu, RowBytes = gateUp.WeightRowBytes(cols), Cols = cols, Act = s,
                    Gelu = gelu, Hidden = hidden, Out = dact,
                };
                int ktiles = (hidden + GatedTile - 1) / GatedTile;
                if (2L * hidden * cols < InlineWork) for (int t = 0; t < ktiles; t++) kglu.Execute(t);
                else pool.For(ktiles, kglu);
                var rowsBody = new KQuantRowsBody
                {
                    Kernel = (KQuantVecDotKernel)down, Weights = wd, RowBytes = down.WeightRowBytes(hidden), Rows = rows, Cols = hidden, Act = dact, Y = py,
                };
                int kdt = (rows + RowTile - 1) / RowTile;
                if ((long)rows * hidden < InlineWork) for (int t = 0; t < kdt; t++) rowsBody.Execute(t);
                else pool.For(kdt, rowsBody);
                return;
            }
            // the same inline decisions as the separate calls (a fused gate/up call, then the down product)
            bool inlineGateUp = 2L * hidden * cols * m < InlineWork, inlineDown = (long)rows * hidden * m < InlineWork;
            // the gate/up products' activation rows and panels (as Compute converts them: on the pool from
            // ParallelActivationRows rows when the product goes there), then the down product's
            int ab = gateUp.ActivationRowBytes(cols), nb = cols / 32, pb = Q8Gemm.PanelBytes(cols);
            byte* panel = (byte*)(((nint)(s + (long)m * ab) + 63) & ~(nint)63);
            var act = new ActivationBody
            {
                Kernel = gateUp, X = px, XStride = cols, Cols = cols, Act = s, ActBytes = ab,
                Gemm8 = true, Blocks = nb, Panels = panel, PanelBytes = pb,
            };
            if (!converted)
            {
                if (inlineGateUp || m < ParallelActivationRows) for (int i = 0; i < m; i++) act.Execute(i);
                else pool.For(m, act);
            }
            byte* ds = s + ScratchBytes(gateUp, m, cols);
            int dab = down.ActivationRowBytes(hidden), dnb = hidden / 32, dpb = Q8Gemm.PanelBytes(hidden);
            byte* dpanel = (byte*)(((nint)(ds + (long)m * dab) + 63) & ~(nint)63);
            var glu = new GatedBody
            {
                Kernel = gateUp, Gate = wg, Up = wu, RowBytes = gateUp.WeightRowBytes(cols), Blocks = nb, M = m,
                Act = s, ActBytes = ab, Panel = panel, PanelBytes = pb, Gelu = gelu, Hidden = hidden,
                Down = down, Out = ds, OutBytes = dab, DownPanel = dpanel, DownPanelBytes = dpb,
            };
            int tiles = (hidden + GatedTile - 1) / GatedTile;
            if (inlineGateUp) for (int t = 0; t < tiles; t++) glu.Execute(t);
            else pool.For(tiles, glu);
            // the down product's row tiles over the Q8_0 rows and panels the tiles wrote
            var gemm = new GemmBody
            {
                Kernel = down, Weights = wd, RowBytes = down.WeightRowBytes(hidden), Rows = rows, Blocks = dnb,
                Act = ds, ActBytes = dab, Panels = dpanel, PanelBytes = dpb, M = m, Y = py, YStride = rows,
            };
            int dt = (rows + RowTile - 1) / RowTile;
            if (inlineDown) for (int t = 0; t < dt; t++) gemm.Execute(t);
            else pool.For(dt, gemm);
        }
    }

    /// <summary>Hidden columns [512·j, 512·j + 512) (256 in a last tile) of a K-quant gated feed-forward of one token:
    /// their gate and up rows (the batch-1 K-quant rows over the input's Q8_K row), the activation and their Q8_K blocks
    /// of the down product's input (a Q8_K block, bsums included, depends only on its own 256 values).</summary>
    private struct GatedKBody : IParallelBody
    {
        public KQuantVecDotKernel Kernel;
        public byte* Gate, Up;  // [Hidden] x RowBytes each
        public long RowBytes;
        public int Cols;
        public byte* Act;       // the input's Q8_K row
        public bool Gelu;
        public int Hidden;
        public byte* Out;       // [Hidden / 256] Q8_K blocks: the down product's input

        [System.Runtime.CompilerServices.SkipLocalsInit]   // g and u are written before they are read
        public readonly void Execute(int tile)
        {
            float* g = stackalloc float[2 * GatedTile];
            float* u = g + GatedTile;
            int c0 = tile * GatedTile, n = Math.Min(GatedTile, Hidden - c0);
            Kernel.DotRows(Gate + (long)c0 * RowBytes, RowBytes, 0, n, Act, Cols, g);
            Kernel.DotRows(Up + (long)c0 * RowBytes, RowBytes, 0, n, Act, Cols, u);
            var gs = new Span<float>(g, n);
            if (Gelu) GeGlu.Forward(gs, new ReadOnlySpan<float>(u, n), gs);
            else SwiGlu.Forward(gs, new ReadOnlySpan<float>(u, n), gs);
            Q8KActivation.Quantize(gs, new Span<byte>(Out + (long)(c0 / KQuantMath.QK_K) * BlockQ8_K.Size, Q8KActivation.RowBytes(n)));
        }
    }

    /// <summary>Hidden columns [512·j, 512·j + 512) (fewer in a last tile) of a gated feed-forward for M token rows:
    /// their gate and up rows, the activation, and per token their Q8_0 blocks of the down product's input and their
    /// group of its panel.</summary>
    private struct GatedBody : IParallelBody
    {
        public IVecDotKernel Kernel;
        public byte* Gate, Up;  // [Hidden] x RowBytes each
        public long RowBytes;
        public int Blocks;      // Q8_0 blocks of an input row
        public int M;           // token rows
        public byte* Act;       // [M] x ActBytes: the input rows' ggml Q8_0 blocks
        public int ActBytes;
        public byte* Panel;     // [M] x PanelBytes: and their panels
        public int PanelBytes;
        public bool Gelu;
        public int Hidden;
        public IVecDotKernel Down;
        public byte* Out;       // [M] x OutBytes: each token's ggml Q8_0 blocks of the down product's input
        public int OutBytes;
        public byte* DownPanel; // [M] x DownPanelBytes: and their panels
        public int DownPanelBytes;

        [System.Runtime.CompilerServices.SkipLocalsInit]   // g and u are written before they are read
        public readonly void Execute(int tile)
        {
            int c0 = tile * GatedTile, n = Math.Min(GatedTile, Hidden - c0), blocks = n / Q8Activation.BlockSize;
            float* g = stackalloc float[2 * M * GatedTile];   // [M, n] gate values, then [M, n] up values (64 KB at most)
            float* u = g + M * n;
            Q8Gemm.Rows(Kernel, Gate + (long)c0 * RowBytes, RowBytes, 0, n, Act, ActBytes, Panel, PanelBytes, M, Blocks, g, n);
            Q8Gemm.Rows(Kernel, Up + (long)c0 * RowBytes, RowBytes, 0, n, Act, ActBytes, Panel, PanelBytes, M, Blocks, u, n);
            int qb = Q8Activation.RowBytesQ8_0(n);
            for (int t = 0; t < M; t++)
            {
                var gs = new Span<float>(g + t * n, n);
                if (Gelu) GeGlu.Forward(gs, new ReadOnlySpan<float>(u + t * n, n), gs);
                else SwiGlu.Forward(gs, new ReadOnlySpan<float>(u + t * n, n), gs);
                // a block's codes and a group's panel depend only on its own values: the bits of the whole row's conversion
                byte* q = Out + (long)t * OutBytes + (long)(c0 / Q8Activation.BlockSize) * Q8Activation.RowBytesQ8_0(Q8Activation.BlockSize);
                Q8Activation.QuantizeQ8_0(gs, new Span<byte>(q, qb));
                Q8Gemm.Pack(Down, q, blocks, DownPanel + (long)t * DownPanelBytes + (long)tile * Q8Gemm.GroupBytes);
            }
        }
    }
}
