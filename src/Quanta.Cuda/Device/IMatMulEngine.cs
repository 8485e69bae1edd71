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
}
