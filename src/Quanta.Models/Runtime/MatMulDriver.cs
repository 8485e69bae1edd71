using Quanta.Core.Kernels;
using Quanta.Core.Threading;
using Quanta.Models.Weights;

namespace Quanta.Models.Runtime;

/// <summary>
/// Array-offset adapter kept only so the forward pass's call sites compile unchanged: it forwards to
/// <see cref="WeightMatrix.MatMul"/> (Core's <see cref="MatMul"/>; no algorithm of its own). Delete it once
/// DecoderModel/DecoderWorkspace call <see cref="WeightMatrix.MatMul"/> and <see cref="MatMul.ScratchBytes"/> directly.
/// </summary>
internal static class MatMulDriver
{
    /// <summary>Activation scratch bytes for m rows of cols elements.</summary>
    public static long ScratchBytes(IVecDotKernel kernel, int m, int cols) => MatMul.ScratchBytes(kernel, m, cols);

    /// <summary>x: [m, w.Cols] from x[xOffset]; y: [m, w.Rows] from y[yOffset]; see <see cref="WeightMatrix.MatMul"/>.</summary>
    public static void Compute(WeightMatrix w, float[] x, int xOffset, int m, float[] y, int yOffset, byte[] scratch, WorkerPool pool) =>
        w.MatMul(x.AsSpan(xOffset), m, y.AsSpan(yOffset), scratch, pool);
}
