using Quanta.Core.Kernels;
using Quanta.Core.Threading;
using Quanta.Models.Weights;

namespace Quanta.Engine.Execution;

/// <summary>
/// Y[m, W.Rows] = X[m, W.Cols] · Wᵀ for the whole step at once: the m activation rows are converted once into the
/// kernel's activation format, then tiles of <see cref="RowTile"/> weight rows are spread over the pool and each
/// weight row is read once for all m rows. Each output element is one <see cref="IVecDotKernel.Dot"/> call on the same
/// bytes as Models' own driver (and Core's <see cref="MatMul"/>), so results are bit-identical for any m and thread
/// count. Never allocates.
/// </summary>
internal static class BatchedMatMul
{
    /// <summary>Weight rows per scheduling tile.</summary>
    public const int RowTile = MatMul.RowTile;

    /// <summary>x: [m, w.Cols] dense rows from 0; y: [m, w.Rows] from 0; scratch ≥ m · ActivationRowBytes(w.Cols).</summary>
    public static void Compute(WeightMatrix w, float[] x, int m, float[] y, byte[] scratch, WorkerPool pool)
    {
        IVecDotKernel kernel = w.Kernel;
        int cols = w.Cols, ab = kernel.ActivationRowBytes(cols);
        if ((long)m * cols > x.Length || (long)m * w.Rows > y.Length || (long)m * ab > scratch.Length)
            throw new ArgumentException("a buffer is too small for the product");
        for (int i = 0; i < m; i++)
            kernel.QuantizeActivation(x.AsSpan(i * cols, cols), scratch.AsSpan(i * ab, ab));
        pool.For((w.Rows + RowTile - 1) / RowTile, new Body { W = w, Y = y, Act = scratch, ActBytes = ab, M = m });
    }

    private struct Body : IParallelBody
    {
        public WeightMatrix W;
        public float[] Y;       // [M, W.Rows]
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
                    Y[i * rows + r] = k.Dot(wr, Act.AsSpan(i * ActBytes, ActBytes), cols);
            }
        }
    }
}
