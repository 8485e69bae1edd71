using Quanta.Core.Threading;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// <see cref="Sgemm"/> spread over a <see cref="WorkerPool"/>: one product is cut into disjoint blocks of C rows (tall
/// products) or C columns (short, wide ones), a few per participant, handed out dynamically, and a batch of independent products runs one
/// product per index. Every C element is computed by the same micro-kernel calls over the same K blocks as on one
/// thread, so results equal the single-threaded ones bit for bit. Small products (under <see cref="MinWork"/>
/// multiply-adds) or a null/1-thread pool run inline. Overloads taking a <see cref="SgemmPackedOperand"/> reuse a
/// constant operand packed once and can add a bias (per column of C for a packed B, per row for a packed A) and apply
/// ReLU in the kernel's epilogue.
/// </summary>
public static unsafe class SgemmParallel
{
    /// <summary>Products with fewer multiply-adds than this run on the calling thread.</summary>
    public const long MinWork = 1 << 20;

    private static int Threads(WorkerPool? pool, long work) => pool is null || work < MinWork ? 1 : pool.ThreadCount;

    /// <summary>C = op(A)·op(B) (+ C if accumulate), as <see cref="Sgemm.Multiply(int,int,int,ReadOnlySpan{float},int,bool,ReadOnlySpan{float},int,bool,Span{float},int,bool)"/>.</summary>
    public static void Multiply(WorkerPool? pool, int m, int n, int k, ReadOnlySpan<float> a, int lda, bool transA, ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, bool accumulate)
    {
        if (m <= 0 || n <= 0) return;
        Sgemm.CheckExtent(a.Length, transA ? k : m, transA ? m : k, lda, "A");
        Sgemm.CheckExtent(b.Length, transB ? n : k, transB ? k : n, ldb, "B");
        Sgemm.CheckExtent(c.Length, m, n, ldc, "C");
        int path = Sgemm.DefaultPath;
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
        {
            var sa = new RawA(pa, lda, transA, Sgemm.Mr(path));
            var sb = new RawB(pb, ldb, transB, Sgemm.Nr(path));
            Dispatch(pool, path, m, n, k, sa, sb, pc, ldc, accumulate, default, preferRows: m >= 24 * (pool?.ThreadCount ?? 1));
        }
    }

    /// <summary>
    /// C[m, n] = op(A)[m, k] · B[k, n] (+ colBias[j]) (then ReLU when <paramref name="relu"/>) with B pre-packed
    /// (<see cref="SgemmPackedOperand.PackB"/>); <paramref name="colBias"/> is empty or has n values.
    /// </summary>
    public static void Multiply(WorkerPool? pool, int m, ReadOnlySpan<float> a, int lda, bool transA, SgemmPackedOperand b, Span<float> c, int ldc,
        ReadOnlySpan<float> colBias, bool relu) =>
        Multiply(pool, m, a, lda, transA, b, c, ldc, colBias, relu ? SgemmActivation.Relu : SgemmActivation.None);

    /// <summary>
    /// As <see cref="Multiply(WorkerPool?, int, ReadOnlySpan{float}, int, bool, SgemmPackedOperand, Span{float}, int, ReadOnlySpan{float}, bool)"/>
    /// with the activation applied in the kernel's epilogue (each tile while it is in cache).
    /// </summary>
    public static void Multiply(WorkerPool? pool, int m, ReadOnlySpan<float> a, int lda, bool transA, SgemmPackedOperand b, Span<float> c, int ldc,
        ReadOnlySpan<float> colBias, SgemmActivation activation)
    {
        ArgumentNullException.ThrowIfNull(b);
        if (b.IsA) throw new ArgumentException("the packed operand is a left operand", nameof(b));
        int n = b.Outer, k = b.K;
        if (m <= 0) return;
        Sgemm.CheckExtent(a.Length, transA ? k : m, transA ? m : k, lda, "A");
        Sgemm.CheckExtent(c.Length, m, n, ldc, "C");
        if (colBias.Length != 0 && colBias.Length != n) throw new ArgumentException($"column bias of {colBias.Length} for {n} columns", nameof(colBias));
        int path = b.Path;
        fixed (float* pa = a) fixed (float* pb = b.Data) fixed (float* pc = c) fixed (float* bias = colBias)
        {
            var sa = new RawA(pa, lda, transA, Sgemm.Mr(path));
            var sb = new PrepackedPanels(pb, b.Padded, b.Width);
            int threads = pool?.ThreadCount ?? 1;
            Dispatch(pool, path, m, n, k, sa, sb, pc, ldc, false,
                new SgemmEpilogue(null, colBias.Length > 0 ? bias : null, activation == SgemmActivation.Relu, activation == SgemmActivation.Gelu),
                preferRows: m >= 4 * Sgemm.Mr(path) * threads);
        }
    }

    /// <summary>
    /// C[m, n] = A[m, k] · op(B)[k, n] (+ rowBias[i]) (then ReLU when <paramref name="relu"/>) with A pre-packed
    /// (<see cref="SgemmPackedOperand.PackA"/>); <paramref name="rowBias"/> is empty or has m values.
    /// </summary>
    public static void Multiply(WorkerPool? pool, SgemmPackedOperand a, int n, ReadOnlySpan<float> b, int ldb, bool transB, Span<float> c, int ldc,
        ReadOnlySpan<float> rowBias, bool relu)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (!a.IsA) throw new ArgumentException("the packed operand is a right operand", nameof(a));
        int m = a.Outer, k = a.K;
        if (n <= 0) return;
        Sgemm.CheckExtent(b.Length, transB ? n : k, transB ? k : n, ldb, "B");
        Sgemm.CheckExtent(c.Length, m, n, ldc, "C");
        if (rowBias.Length != 0 && rowBias.Length != m) throw new ArgumentException($"row bias of {rowBias.Length} for {m} rows", nameof(rowBias));
        int path = a.Path;
        fixed (float* pa = a.Data) fixed (float* pb = b) fixed (float* pc = c) fixed (float* bias = rowBias)
        {
            var sa = new PrepackedPanels(pa, a.Padded, a.Width);
            var sb = new RawB(pb, ldb, transB, Sgemm.Nr(path));
            int threads = pool?.ThreadCount ?? 1;
            Dispatch(pool, path, m, n, k, sa, sb, pc, ldc, false, new SgemmEpilogue(rowBias.Length > 0 ? bias : null, null, relu),
                preferRows: n < 2 * Sgemm.Nr(path) * threads);
        }
    }

    /// <summary>
    /// Rows or columns per block: a multiple of <paramref name="unit"/>, about four blocks per participant (two when every
    /// block must repack the other operand), handed out dynamically so that a late or busy worker's share is taken by
    /// whoever is free (an oversubscribed machine then degrades to single-threaded speed instead of waiting).
    /// </summary>
    internal static int BlockSize(int total, int unit, int threads, bool repacks)
    {
        int target = threads * (repacks ? 2 : 4);
        int per = (total + target - 1) / target;
        return Math.Max(unit, (per + unit - 1) / unit * unit);
    }

    /// <summary>Runs the product on one thread, or cut into row or column blocks shared out dynamically.</summary>
    internal static void Dispatch<TA, TB>(WorkerPool? pool, int path, int m, int n, int k, TA a, TB b, float* c, int ldc, bool accumulate, SgemmEpilogue ep, bool preferRows)
        where TA : struct, ISgemmPanels where TB : struct, ISgemmPanels
    {
        int threads = Threads(pool, (long)m * n * k);
        // Row blocks of an A read in place are cut at the taller tile's height where there is one, so that none ends in a
        // partial tile (4096 rows: 8 blocks of 512 = 64 tiles of 8, not 516 = 64 tiles + 4 rows).
        bool inPlace = typeof(TA) == typeof(RawA) && !System.Runtime.CompilerServices.Unsafe.As<TA, RawA>(ref a).Trans;
        int rowUnit = inPlace && SgemmMicroKernels.TallRows(path) > 0 ? SgemmMicroKernels.TallRows(path) : Sgemm.Mr(path);
        int unit = preferRows ? rowUnit : Sgemm.Nr(path);
        int total = preferRows ? m : n;
        int per = BlockSize(total, unit, threads, repacks: preferRows ? !b.Prepacked : !a.Prepacked);
        int blocks = (total + per - 1) / per;
        if (threads <= 1 || blocks <= 1)
        {
            Sgemm.Run(path, 0, m, 0, n, k, ref a, ref b, c, ldc, accumulate, ep);
            return;
        }
        pool!.ForChunked(blocks, 1, new Block<TA, TB> { A = a, B = b, C = c, Path = path, M = m, N = n, K = k, Ldc = ldc, Accumulate = accumulate, Ep = ep, ByRows = preferRows, Per = per });
    }

    /// <summary>
    /// A batch of independent products: for t in [0, count), C_t = A_t · B_t (no transposes, dense leading dimensions
    /// k, n and n), with A_t at aOffsets[t], B_t at bOffsets[t] and C_t at t·m·n.
    /// </summary>
    public static void MultiplyBatch(WorkerPool? pool, int count, int m, int n, int k, ReadOnlySpan<float> a, int[] aOffsets, ReadOnlySpan<float> b, int[] bOffsets, Span<float> c)
    {
        ArgumentNullException.ThrowIfNull(aOffsets);
        ArgumentNullException.ThrowIfNull(bOffsets);
        for (int t = 0; t < count; t++)
        {
            if (aOffsets[t] < 0 || (long)aOffsets[t] + (long)m * k > a.Length || bOffsets[t] < 0 || (long)bOffsets[t] + (long)k * n > b.Length)
                throw new ArgumentException($"product {t} lies outside its operands");
        }
        if ((long)count * m * n > c.Length) throw new ArgumentException($"C of {c.Length} elements for {count} products of [{m}, {n}]");
        if (pool is null || pool.ThreadCount <= 1 || count == 1 || (long)count * m * n * k < MinWork)
        {
            for (int t = 0; t < count; t++) Sgemm.Multiply(m, n, k, a[aOffsets[t]..], k, false, b[bOffsets[t]..], n, false, c[(t * m * n)..], n, false);
            return;
        }
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            pool.ForChunked(count, 1, new Batch { A = pa, B = pb, C = pc, M = m, N = n, K = k, AOffsets = aOffsets, BOffsets = bOffsets });
    }

    private struct Block<TA, TB> : IParallelBody where TA : struct, ISgemmPanels where TB : struct, ISgemmPanels
    {
        public TA A;
        public TB B;
        public float* C;
        public int Path, M, N, K, Ldc, Per;
        public bool Accumulate, ByRows;
        public SgemmEpilogue Ep;

        public void Execute(int index)
        {
            int s = index * Per;
            if (ByRows) Sgemm.Run(Path, s, Math.Min(M, s + Per), 0, N, K, ref A, ref B, C, Ldc, Accumulate, Ep);
            else Sgemm.Run(Path, 0, M, s, Math.Min(N, s + Per), K, ref A, ref B, C, Ldc, Accumulate, Ep);
        }
    }

    private struct Batch : IParallelBody
    {
        public float* A, B, C;
        public int M, N, K;
        public int[] AOffsets, BOffsets;

        public readonly void Execute(int t) =>
            Sgemm.Multiply(M, N, K, A + AOffsets[t], K, false, B + BOffsets[t], N, false, C + (long)t * M * N, N, false);
    }
}
