using ILGPU;
using ILGPU.Runtime;

namespace Quanta.Cuda.Device;

/// <summary>
/// The executor's matrix products: y [m, w.Rows] (F32, row-major) = (x [m, w.Cols] · wᵀ)·xScale[0]·w.Scale[0], x in
/// the weight's format (BF16 or FP8 E4M3), queued on the accelerator's default stream. Per-channel scales are applied
/// by the caller. Implementations: cuBLASLt on the GPU (<see cref="CublasLtMatMulEngine"/>) and the plain ILGPU kernel
/// (<see cref="ReferenceMatMulEngine"/>, the CPU stand-in in CI).
/// </summary>
public interface IMatMulEngine : IDisposable
{
    /// <summary>Short name for reports ("cublaslt", "reference").</summary>
    string Name { get; }

    /// <summary>Queues the product; x and y are whole buffers used from element 0.</summary>
    void MatMul(DeviceMatrix w, MemoryBuffer1D<byte, Stride1D.Dense> x, MemoryBuffer1D<float, Stride1D.Dense> xScale, int m,
        MemoryBuffer1D<float, Stride1D.Dense> y);

    /// <summary>
    /// Queues a strided batched BF16 product with F32 output and F32 accumulation: for b &lt; batch,
    /// Y_b [m, n] = X_b [m, k] · W_b [n, k]ᵀ, every matrix row-major; the first matrices start at element xOffset, wOffset and yOffset of x, w and y, ld* the
    /// elements between rows (≥ the row length) and stride* the elements between matrices. Used by prefill attention
    /// (scores Q·Kᵀ and output P·V per KV head).
    /// </summary>
    void BatchedMatMulBf16(MemoryBuffer1D<ushort, Stride1D.Dense> x, long xOffset, int ldx, long strideX,
        MemoryBuffer1D<ushort, Stride1D.Dense> w, long wOffset, int ldw, long strideW,
        MemoryBuffer1D<float, Stride1D.Dense> y, long yOffset, int ldy, long strideY, int m, int n, int k, int batch);
}
