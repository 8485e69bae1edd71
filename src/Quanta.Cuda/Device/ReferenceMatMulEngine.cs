using ILGPU;
using ILGPU.Runtime;
using Quanta.Cuda.Kernels;

namespace Quanta.Cuda.Device;

/// <summary>Matrix products with the plain <see cref="ReferenceMatMulKernel"/> (F32 accumulation in k order) on any accelerator.</summary>
public sealed class ReferenceMatMulEngine : IMatMulEngine
{
    private readonly GpuKernels _kernels;

    /// <summary>Uses <paramref name="kernels"/>' accelerator.</summary>
    public ReferenceMatMulEngine(GpuKernels kernels) => _kernels = kernels ?? throw new ArgumentNullException(nameof(kernels));

    /// <inheritdoc/>
    public string Name => "reference";

    /// <inheritdoc/>
    public void MatMul(DeviceMatrix w, MemoryBuffer1D<byte, Stride1D.Dense> x, MemoryBuffer1D<float, Stride1D.Dense> xScale, int m,
        MemoryBuffer1D<float, Stride1D.Dense> y)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(xScale);
        ArgumentNullException.ThrowIfNull(y);
        if ((long)m * w.Rows > y.Length) throw new ArgumentException($"y holds {y.Length} floats, the product needs {(long)m * w.Rows}", nameof(y));
        _kernels.ReferenceMatMul(x.View, w.Data.View, xScale.View, w.Scale.View, y.View, m, w.Rows, w.Cols, w.Format);
    }

    /// <inheritdoc/>
    public void BatchedMatMulBf16(MemoryBuffer1D<ushort, Stride1D.Dense> x, long xOffset, int ldx, long strideX,
        MemoryBuffer1D<ushort, Stride1D.Dense> w, long wOffset, int ldw, long strideW,
        MemoryBuffer1D<float, Stride1D.Dense> y, long yOffset, int ldy, long strideY, int m, int n, int k, int batch) =>
        _kernels.BatchedReferenceMatMul(((ArrayView<ushort>)x.View).SubView(xOffset), ((ArrayView<ushort>)w.View).SubView(wOffset), ((ArrayView<float>)y.View).SubView(yOffset), m, n, batch, new BatchedMatMulArgs
        {
            K = k, LdX = ldx, LdW = ldw, LdY = ldy, StrideX = strideX, StrideW = strideW, StrideY = strideY,
        });

    /// <summary>Nothing to free.</summary>
    public void Dispose() { }
}
