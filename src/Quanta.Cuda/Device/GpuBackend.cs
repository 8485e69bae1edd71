using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Quanta.Cuda.Interop;
using Quanta.Cuda.Kernels;

namespace Quanta.Cuda.Device;

/// <summary>
/// The device the GPU executor runs on: an ILGPU context and accelerator, the compiled kernels and a matrix-product
/// engine. <see cref="CreateCuda"/> is the real thing (ILGPU's CUDA accelerator + cuBLASLt); <see cref="CreateCpuSimulation"/>
/// runs the same kernels on ILGPU's CPU accelerator with the plain matrix-product kernel, so CI can drive the executor
/// without a GPU. Owns everything; dispose once.
/// </summary>
public sealed class GpuBackend : IDisposable
{
    private readonly Context _context;

    private readonly AcceleratorStream? _ownedStream;

    private GpuBackend(Context context, Accelerator accelerator, Func<GpuKernels, IMatMulEngine>? matMul, AcceleratorStream? stream, bool isCuda)
    {
        _context = context;
        Accelerator = accelerator;
        _ownedStream = stream;
        Kernels = new GpuKernels(accelerator, stream);
        MatMul = matMul?.Invoke(Kernels) ?? new ReferenceMatMulEngine(Kernels);
        IsCuda = isCuda;
    }

    /// <summary>CPU simulation: ILGPU's CPU accelerator (one multiprocessor of 4 warps of 4 threads) and the plain matrix product.</summary>
    public static GpuBackend CreateCpuSimulation()
    {
        var context = Context.Create(b => b.CPU(new CPUDevice(4, 4, 1)).Optimize(OptimizationLevel.O1));
        var acc = context.CreateCPUAccelerator(0);
        return new GpuBackend(context, acc, null, null, isCuda: false);
    }

    /// <summary>
    /// CUDA device <paramref name="ordinal"/> through ILGPU's CUDA accelerator, with cuBLASLt matrix products
    /// (<paramref name="referenceMatMul"/>: the plain kernel instead, for cross-checks). Throws
    /// <see cref="CudaUnavailableException"/> when the driver or cuBLASLt is missing, and when ILGPU finds no device.
    /// </summary>
    public static GpuBackend CreateCuda(int ordinal = 0, bool referenceMatMul = false)
    {
        NativeLibraries.Require(NvidiaLibrary.Driver);
        if (!referenceMatMul) NativeLibraries.Require(NvidiaLibrary.CublasLt);
        var context = Context.Create(b => b.Cuda().Optimize(OptimizationLevel.O2));
        try
        {
            var devices = context.GetCudaDevices();
            if (devices.Count <= ordinal)
                throw new CudaUnavailableException($"ILGPU found {devices.Count} CUDA devices; device {ordinal} was asked for");
            var acc = context.CreateCudaAccelerator(ordinal);
            // a created, non-blocking stream: CUDA graphs cannot capture the legacy null stream
            var stream = acc.CreateStream(StreamFlags.CU_STREAM_NON_BLOCKING);
            return new GpuBackend(context, acc, referenceMatMul ? null : k => new CublasLtMatMulEngine(acc, k.Stream), stream, isCuda: true);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>The ILGPU accelerator.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The compiled kernels.</summary>
    public GpuKernels Kernels { get; }

    /// <summary>The matrix-product engine.</summary>
    public IMatMulEngine MatMul { get; }

    /// <summary>True on a real CUDA device.</summary>
    public bool IsCuda { get; }

    /// <summary>The stream all work is queued on.</summary>
    public AcceleratorStream Stream => Kernels.Stream;

    /// <summary>Raw CUstream of <see cref="Stream"/> on CUDA (0 on the CPU simulation).</summary>
    public nint StreamPointer => Stream is ILGPU.Runtime.Cuda.CudaStream cs ? cs.StreamPtr : 0;

    /// <summary>
    /// The tensor-core prefill attention (<see cref="FlashAttentionKernel"/>), compiled by NVRTC on the first call; null
    /// on the CPU simulation and where it cannot be built (no NVRTC, compute capability below 8.0, a compile error), with
    /// the reason in <see cref="FlashAttentionUnavailable"/>. Not thread-safe (the executor's thread asks).
    /// </summary>
    internal FlashAttentionKernel? FlashAttention => _flash.Get(this, FlashAttentionKernel.Create);

    /// <summary>Why <see cref="FlashAttention"/> is null (null when it is available or has not been asked for).</summary>
    public string? FlashAttentionUnavailable => _flash.Unavailable;

    /// <summary>
    /// The NVRTC-compiled one-row FP8 product (<see cref="Fp8GemvNativeKernel"/>, compute capability 8.9 and later),
    /// compiled on the first call; null where it cannot be built, with the reason in <see cref="Fp8GemvNativeUnavailable"/>.
    /// </summary>
    internal Fp8GemvNativeKernel? Fp8GemvNative => _gemv.Get(this, Fp8GemvNativeKernel.Create);

    /// <summary>Why <see cref="Fp8GemvNative"/> is null (null when it is available or has not been asked for).</summary>
    public string? Fp8GemvNativeUnavailable => _gemv.Unavailable;

    private readonly NativeSlot<FlashAttentionKernel> _flash = new();
    private readonly NativeSlot<Fp8GemvNativeKernel> _gemv = new();

    /// <summary>A kernel built once on first use, or the reason it could not be.</summary>
    private sealed class NativeSlot<T> where T : class, IDisposable
    {
        private T? _kernel;
        private bool _tried;

        public string? Unavailable { get; private set; }

        public T? Get(GpuBackend b, Func<CudaAccelerator, T> create)
        {
            if (_tried) return _kernel;
            _tried = true;
            if (b.Accelerator is not CudaAccelerator cuda)
            {
                Unavailable = "not a CUDA device";
                return null;
            }
            try
            {
                _kernel = create(cuda);
            }
            catch (Exception e) when (e is CudaUnavailableException or NvrtcException or NotSupportedException or Interop.CudaException)
            {
                Unavailable = $"{e.GetType().Name}: {e.Message}";
            }
            return _kernel;
        }

        public void Dispose() => _kernel?.Dispose();
    }

    /// <summary>Waits for all queued work.</summary>
    public void Synchronize()
    {
        Stream.Synchronize();
        Accelerator.Synchronize();
    }

    /// <summary>Frees the matrix engine, accelerator and context.</summary>
    public void Dispose()
    {
        MatMul.Dispose();
        _flash.Dispose();
        _gemv.Dispose();
        _ownedStream?.Dispose();
        Accelerator.Dispose();
        _context.Dispose();
    }
}
