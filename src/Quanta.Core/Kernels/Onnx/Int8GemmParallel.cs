using Quanta.Core.Threading;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// <see cref="Int8Gemm.MultiplyScaled(int,int,int,ReadOnlySpan{byte},int,ReadOnlySpan{sbyte},ReadOnlySpan{float},ReadOnlySpan{float},bool,Span{float},int,int)"/>
/// spread over a <see cref="WorkerPool"/>: the rows of A (and of the output) are cut into blocks of a multiple of 6
/// rows, a few per participant, handed out dynamically; each block is an ordinary single-threaded call on its rows, so
/// results equal the single-threaded ones exactly. Products under <see cref="SgemmParallel.MinWork"/>·2 multiply-adds,
/// or a null/1-thread pool, run inline.
/// </summary>
public static unsafe class Int8GemmParallel
{
    /// <summary>As <see cref="Int8Gemm.MultiplyScaled(int,int,int,ReadOnlySpan{byte},int,ReadOnlySpan{sbyte},ReadOnlySpan{float},ReadOnlySpan{float},bool,Span{float},int,int)"/>, over <paramref name="pool"/>.</summary>
    public static void MultiplyScaled(WorkerPool? pool, int m, int n, int k, ReadOnlySpan<byte> a, int lda, ReadOnlySpan<sbyte> packedW,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> offset, bool relu, Span<float> y, int rowStride, int colStride)
    {
        int threads = pool is null || (long)m * n * k < 2 * SgemmParallel.MinWork ? 1 : pool.ThreadCount;
        int per = SgemmParallel.BlockSize(m, 6, threads, repacks: false);
        if (threads <= 1 || per >= m)
        {
            Int8Gemm.MultiplyScaled(m, n, k, a, lda, packedW, scale, offset, relu, y, rowStride, colStride);
            return;
        }
        // Validate the whole call once (the blocks are sub-ranges of it).
        int kp = Int8Gemm.PaddedK(k);
        if (k < 0 || lda < kp || (long)(m - 1) * lda + kp > a.Length) throw new ArgumentException($"A [{m}, {k}] with stride {lda} does not fit {a.Length} bytes", nameof(a));
        if (packedW.Length < Int8Gemm.PackedLength(n, k)) throw new ArgumentException($"packed W for [{n}, {k}] needs {Int8Gemm.PackedLength(n, k)} bytes", nameof(packedW));
        if (scale.Length < n || offset.Length < n) throw new ArgumentException($"scale and offset need {n} values");
        if (rowStride <= 0 || colStride <= 0 || (long)(m - 1) * rowStride + (long)(n - 1) * colStride >= y.Length)
            throw new ArgumentException($"y [{m}, {n}] with strides ({rowStride}, {colStride}) does not fit {y.Length} values", nameof(y));
        fixed (byte* pa = a) fixed (sbyte* pw = packedW) fixed (float* ps = scale) fixed (float* po = offset) fixed (float* py = y)
            pool!.ForChunked((m + per - 1) / per, 1, new Rows
            {
                A = pa, ALength = a.Length, W = pw, WLength = packedW.Length, Scale = ps, Offset = po, Y = py, YLength = y.Length,
                M = m, N = n, K = k, Lda = lda, Per = per, Relu = relu, RowStride = rowStride, ColStride = colStride,
            });
    }

    private struct Rows : IParallelBody
    {
        public byte* A;
        public sbyte* W;
        public float* Scale, Offset, Y;
        public int ALength, WLength, YLength, M, N, K, Lda, Per, RowStride, ColStride;
        public bool Relu;

        public readonly void Execute(int index)
        {
            int i0 = index * Per, rows = Math.Min(Per, M - i0);
            long aOff = (long)i0 * Lda, yOff = (long)i0 * RowStride;
            Int8Gemm.MultiplyScaled(rows, N, K, new ReadOnlySpan<byte>(A + aOff, (int)(ALength - aOff)), Lda, new ReadOnlySpan<sbyte>(W, WLength),
                new ReadOnlySpan<float>(Scale, N), new ReadOnlySpan<float>(Offset, N), Relu, new Span<float>(Y + yOff, (int)(YLength - yOff)), RowStride, ColStride);
        }
    }
}
