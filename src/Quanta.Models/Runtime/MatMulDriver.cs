using Quanta.Core.Kernels;
using Quanta.Core.Threading;
using Quanta.Models.Weights;

namespace Quanta.Models.Runtime;

/// <summary>
/// Y[m, rows] = X[m, cols] · Wᵀ over a <see cref="WeightMatrix"/>, with the algorithm of Core's
/// <see cref="MatMul.Compute"/> (which takes raw pointers; Quanta.Models is compiled without unsafe code): the m
/// activation rows are converted once into the kernel's activation format, then tiles of <see cref="RowTile"/>
/// weight rows are spread over the pool; each output element is one <see cref="IVecDotKernel.Dot"/> call on the same
/// bytes, so results are bit-identical for any thread count and any m (batch invariance). Never allocates.
/// </summary>
internal static class MatMulDriver
{
    /// <summary>Weight rows per scheduling tile.</summary>
    public const int RowTile = MatMul.RowTile;

    /// <summary>Activation scratch bytes for m rows of cols elements.</summary>
    public static long ScratchBytes(IVecDotKernel kernel, int m, int cols) => (long)m * kernel.ActivationRowBytes(cols);

    /// <summary>
    /// x: [m, w.Cols] starting at x[xOffset] (dense rows); y: [m, w.Rows] starting at y[yOffset];
    /// scratch: at least <see cref="ScratchBytes"/> bytes.
    /// </summary>
    public static void Compute(WeightMatrix w, float[] x, int xOffset, int m, float[] y, int yOffset, byte[] scratch, WorkerPool pool)
    {
        IVecDotKernel kernel = w.Kernel;
        int cols = w.Cols, ab = kernel.ActivationRowBytes(cols);
        if ((long)xOffset + (long)m * cols > x.Length || (long)yOffset + (long)m * w.Rows > y.Length || (long)m * ab > scratch.Length)
            throw new ArgumentException("a buffer is too small for the product");
        for (int i = 0; i < m; i++)
            kernel.QuantizeActivation(x.AsSpan(xOffset + i * cols, cols), scratch.AsSpan(i * ab, ab));
        pool.For((w.Rows + RowTile - 1) / RowTile, new Body { W = w, Y = y, YOffset = yOffset, Act = scratch, ActBytes = ab, M = m });
    }

    private struct Body : IParallelBody
    {
        public WeightMatrix W;
        public float[] Y;       // [M, W.Rows] from YOffset
        public int YOffset;
        public byte[] Act;      // [M, ActBytes]
        public int ActBytes;
        public int M;

        public readonly void Execute(int tile)
        {
            int rows = W.Rows, cols = W.Cols;
            int r0 = tile * RowTile, r1 = Math.Min(rows, r0 + RowTile);
            IVecDotKernel k = W.Kernel;
            for (int r = r0; r < r1; r++)
            {
                ReadOnlySpan<byte> wr = W.Row(r);
                for (int i = 0; i < M; i++)
                    Y[YOffset + i * rows + r] = k.Dot(wr, Act.AsSpan(i * ActBytes, ActBytes), cols);
            }
        }
    }
}
