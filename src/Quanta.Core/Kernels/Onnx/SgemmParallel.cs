using Quanta.Core.Threading;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// <see cref="Sgemm"/> spread over a <see cref="WorkerPool"/>: one product is cut into disjoint blocks of C rows (tall
/// products) or C columns (short, wide ones), and a batch of independent products runs one product per index. Each
/// block is an ordinary single-threaded <see cref="Sgemm.Multiply(int,int,int,float*,int,bool,float*,int,bool,float*,int,bool)"/>
/// call on offset pointers, so results equal the single-threaded ones bit for bit. Small products (under about a
/// million multiply-adds) or a null/1-thread pool run inline.
/// </summary>
public static unsafe class SgemmParallel
{
    private const long MinWork = 1 << 23;

    /// <summary>C = op(A)·op(B) (+ C if accumulate), as <see cref="Sgemm.Multiply(int,int,int,ReadOnlySpan{float},int,bool,ReadOnlySpan{float},int,bool,Span{float},int,bool)"/>.</summary>
    public static void Multiply(WorkerPool? pool, int m, int n, int k, ReadOnlySpan<float> a, int lda, bool transA, ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, bool accumulate)
    {
        int threads = pool?.ThreadCount ?? 1;
        if (threads <= 1 || (long)m * n * k < MinWork)
        {
            Sgemm.Multiply(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, accumulate);
            return;
        }
        // Check extents once through the span overload's rules on a zero-size call is not possible: check here.
        if ((long)(m - 1) * ldc + n > c.Length) throw new ArgumentException($"C [{m}, {n}] with leading dimension {ldc} does not fit {c.Length} elements");
        if ((long)((transA ? k : m) - 1) * lda + (transA ? m : k) > a.Length) throw new ArgumentException($"A does not fit {a.Length} elements");
        if ((long)((transB ? n : k) - 1) * ldb + (transB ? k : n) > b.Length) throw new ArgumentException($"B does not fit {b.Length} elements");
        bool byRows = m >= 24 * threads;
        int unit = byRows ? 6 : 32;
        int total = byRows ? m : n;
        int per = Math.Max(unit, (total + threads - 1) / threads / unit * unit);
        int blocks = (total + per - 1) / per;
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            pool!.For(blocks, new Block { A = pa, B = pb, C = pc, M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc, TransA = transA, TransB = transB, Accumulate = accumulate, ByRows = byRows, Per = per });
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
        if (pool is null || pool.ThreadCount <= 1 || count == 1)
        {
            for (int t = 0; t < count; t++) Sgemm.Multiply(m, n, k, a[aOffsets[t]..], k, false, b[bOffsets[t]..], n, false, c[(t * m * n)..], n, false);
            return;
        }
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            pool.For(count, new Batch { A = pa, B = pb, C = pc, M = m, N = n, K = k, AOffsets = aOffsets, BOffsets = bOffsets });
    }

    private struct Block : IParallelBody
    {
        public float* A, B, C;
        public int M, N, K, Lda, Ldb, Ldc, Per;
        public bool TransA, TransB, Accumulate, ByRows;

        public readonly void Execute(int index)
        {
            int s = index * Per;
            if (ByRows)
            {
                int rows = Math.Min(Per, M - s);
                float* a = TransA ? A + s : A + (long)s * Lda;
                Sgemm.Multiply(rows, N, K, a, Lda, TransA, B, Ldb, TransB, C + (long)s * Ldc, Ldc, Accumulate);
            }
            else
            {
                int cols = Math.Min(Per, N - s);
                float* b = TransB ? B + (long)s * Ldb : B + s;
                Sgemm.Multiply(M, cols, K, A, Lda, TransA, b, Ldb, TransB, C + s, Ldc, Accumulate);
            }
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
