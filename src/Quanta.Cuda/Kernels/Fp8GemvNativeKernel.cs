using ILGPU.Runtime.Cuda;
using Quanta.Cuda.Device;
using Quanta.Cuda.Interop;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// The one-row FP8 E4M3 × F32 product compiled by NVRTC (Native/fp8_gemv.cu): the device's own E4M3 → F16 conversion
/// (cvt.rn.f16x2.e4m3x2, compute capability 8.9 and later), 16-byte weight loads, F32 sums; the same contract as
/// <see cref="Fp8GemvKernel"/> (per-tensor scale applied, per-channel scales not) with columns a multiple of 16.
/// Owns the loaded module.
/// </summary>
internal sealed class Fp8GemvNativeKernel : IDisposable
{
    /// <summary>Rows per block (its 4 warps split the columns): the kernel's ROWS.</summary>
    public const int RowsPerBlock = 8;

    private const string SourceName = "fp8_gemv.cu";
    private readonly CudaAccelerator _accelerator;
    private readonly CudaModule _module;
    private readonly CudaFunction _gemv;

    private Fp8GemvNativeKernel(CudaAccelerator accelerator, CudaModule module)
    {
        _accelerator = accelerator;
        _module = module;
        _gemv = module.Function("fp8_gemv");
    }

    /// <summary>Whether the kernel takes <paramref name="w"/> (FP8 E4M3, columns a multiple of 16).</summary>
    public static bool Fits(DeviceMatrix w) => w is { Format: DeviceFormat.Fp8E4M3 } && w.Cols % 16 == 0;

    /// <summary>
    /// Compiles and loads the kernel for <paramref name="accelerator"/>'s device; <see cref="NotSupportedException"/>
    /// below compute capability 8.9 (no E4M3 conversion instruction), otherwise as <see cref="NativeKernelSource.Compile"/>.
    /// </summary>
    public static Fp8GemvNativeKernel Create(CudaAccelerator accelerator) =>
        NativeKernelSource.Load(accelerator, SourceName, 8, 9, "the E4M3 conversion instruction needs", m => new Fp8GemvNativeKernel(accelerator, m));

    /// <summary>Queues y [w.Rows] = w · x (x [w.Cols] F32) on <paramref name="stream"/>.</summary>
    public void Run(DeviceMatrix w, ulong x, ulong y, nint stream)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (!Fits(w)) throw new ArgumentException($"the FP8 GEMV needs FP8 E4M3 weights with a multiple of 16 columns, not {w.Format} × {w.Cols}", nameof(w));
        _gemv.SetPointer(0, (ulong)w.Data.NativePtr);
        _gemv.SetPointer(1, x);
        _gemv.SetPointer(2, (ulong)w.Scale.NativePtr);
        _gemv.SetPointer(3, y);
        _gemv.SetInt(4, w.Rows);
        _gemv.SetInt(5, w.Cols);
        _accelerator.Bind();
        _gemv.Launch((uint)((w.Rows + RowsPerBlock - 1) / RowsPerBlock), 1, 1, 128, 1, 1, 0, stream);
    }

    /// <summary>Unloads the module.</summary>
    public void Dispose()
    {
        _gemv.Dispose();
        _module.Dispose();
    }
}
