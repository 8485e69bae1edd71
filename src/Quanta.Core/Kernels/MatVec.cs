namespace Quanta.Core.Kernels;

/// <summary>
/// Matrix x vector and matrix x matrix products of weights stored row by row in any
/// <see cref="Formats.WeightFormat"/>, driven by the format's <see cref="IVecDotKernel"/>.
/// Weights: [rows, cols] row-major, row r at byte offset r * kernel.WeightRowBytes(cols).
/// The activation row is converted once (<see cref="IVecDotKernel.QuantizeActivation"/>) and reused by every
/// weight row. Each output element is one <see cref="IVecDotKernel.Dot"/> call, so a row's result never depends
/// on how the rows are split between threads or how many activation rows are in the batch (batch invariance).
/// </summary>
public static class MatVec
{
    /// <summary>
    /// y[r - rowStart] = W[r, :] · act for r in [rowStart, rowEnd). <paramref name="act"/> is an activation row
    /// already converted by <paramref name="kernel"/>; <paramref name="y"/> holds rowEnd - rowStart floats.
    /// </summary>
    public static void Rows(IVecDotKernel kernel, ReadOnlySpan<byte> weights, int cols, ReadOnlySpan<byte> act,
        Span<float> y, int rowStart, int rowEnd)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        long rowBytes = kernel.WeightRowBytes(cols);
        if ((long)rowEnd * rowBytes > weights.Length) throw new ArgumentException("weights shorter than rows x row bytes", nameof(weights));
        if (y.Length < rowEnd - rowStart) throw new ArgumentException("output too short", nameof(y));
        int rb = checked((int)rowBytes);
        for (int r = rowStart; r < rowEnd; r++)
            y[r - rowStart] = kernel.Dot(weights.Slice(r * rb, rb), act, cols);
    }

    /// <summary>
    /// Single-threaded y = W x. <paramref name="actScratch"/> must hold kernel.ActivationRowBytes(cols) bytes.
    /// x: [cols], y: [rows].
    /// </summary>
    public static void Compute(IVecDotKernel kernel, ReadOnlySpan<byte> weights, int rows, int cols,
        ReadOnlySpan<float> x, Span<float> y, Span<byte> actScratch)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (x.Length < cols) throw new ArgumentException("x shorter than cols", nameof(x));
        int ab = kernel.ActivationRowBytes(cols);
        kernel.QuantizeActivation(x[..cols], actScratch[..ab]);
        Rows(kernel, weights, cols, actScratch[..ab], y, 0, rows);
    }
}
