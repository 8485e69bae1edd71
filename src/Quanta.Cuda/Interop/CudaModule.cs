using System.Runtime.InteropServices;
using System.Text;

namespace Quanta.Cuda.Interop;

/// <summary>
/// A CUBIN loaded into the current CUDA context (cuModuleLoadData), with its kernels looked up by their extern "C"
/// names. Load it while the context the kernels will run in is current (ILGPU's <c>Accelerator.Bind()</c>); unloads on
/// dispose.
/// </summary>
public sealed class CudaModule : IDisposable
{
    private nint _module;

    private CudaModule(nint module) => _module = module;

    /// <summary>Loads <paramref name="cubin"/> into the current context.</summary>
    public static CudaModule Load(byte[] cubin)
    {
        ArgumentNullException.ThrowIfNull(cubin);
        CudaDriver.Initialize();
        CudaDriver.Check(CudaDriverNative.cuModuleLoadData(out nint module, cubin), "cuModuleLoadData");
        return new CudaModule(module);
    }

    /// <summary>The kernel named <paramref name="name"/> (its extern "C" name).</summary>
    public CudaFunction Function(string name)
    {
        ObjectDisposedException.ThrowIf(_module == 0, this);
        var bytes = new byte[Encoding.UTF8.GetByteCount(name) + 1];
        Encoding.UTF8.GetBytes(name, bytes);
        CudaDriver.Check(CudaDriverNative.cuModuleGetFunction(out nint f, _module, bytes), $"cuModuleGetFunction({name})");
        return new CudaFunction(f, name);
    }

    /// <summary>Unloads the module; idempotent.</summary>
    public void Dispose()
    {
        if (_module != 0) CudaDriverNative.cuModuleUnload(_module);
        _module = 0;
    }
}

/// <summary>
/// One kernel of a <see cref="CudaModule"/> (valid while the module is loaded), launched with cuLaunchKernel. The
/// arguments are written into one native block owned by this object (each at an 8-byte aligned slot) and passed as the
/// array of their addresses the driver expects; a launch copies them, so the block is reused. Not thread-safe: launch
/// from one thread at a time.
/// </summary>
public sealed class CudaFunction : IDisposable
{
    private const int MaxArguments = 32;
    private readonly nint _function;
    private nint _values, _pointers;

    internal CudaFunction(nint function, string name)
    {
        _function = function;
        Name = name;
        _values = Marshal.AllocHGlobal(MaxArguments * 8);
        _pointers = Marshal.AllocHGlobal(MaxArguments * nint.Size);
        for (int i = 0; i < MaxArguments; i++) Marshal.WriteIntPtr(_pointers, i * nint.Size, _values + i * 8);
    }

    /// <summary>The kernel's name.</summary>
    public string Name { get; }

    /// <summary>
    /// Lets the kernel launch with up to <paramref name="bytes"/> of dynamic shared memory
    /// (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES; above 48 KiB it must be asked for).
    /// </summary>
    public void SetMaxDynamicSharedMemory(int bytes) =>
        CudaDriver.Check(CudaDriverNative.cuFuncSetAttribute(_function, 8, bytes), $"cuFuncSetAttribute({Name}, MAX_DYNAMIC_SHARED_SIZE_BYTES)");

    /// <summary>Sets argument <paramref name="index"/> to a device address.</summary>
    public void SetPointer(int index, ulong address) => Marshal.WriteInt64(Slot(index), (long)address);

    /// <summary>Sets argument <paramref name="index"/> to a 32-bit integer.</summary>
    public void SetInt(int index, int value) => Marshal.WriteInt32(Slot(index), value);

    /// <summary>Sets argument <paramref name="index"/> to a 32-bit float.</summary>
    public void SetFloat(int index, float value) => Marshal.WriteInt32(Slot(index), BitConverter.SingleToInt32Bits(value));

    /// <summary>Queues the kernel on <paramref name="stream"/> with the arguments set so far (as many as its signature has).</summary>
    public void Launch(uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ, uint sharedBytes, nint stream)
    {
        ObjectDisposedException.ThrowIf(_values == 0, this);
        CudaDriver.Check(CudaDriverNative.cuLaunchKernel(_function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, stream, _pointers, 0),
            $"cuLaunchKernel({Name})");
    }

    private nint Slot(int index)
    {
        ObjectDisposedException.ThrowIf(_values == 0, this);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, MaxArguments);
        return _values + index * 8;
    }

    /// <summary>Frees the argument block (the kernel itself belongs to its module); idempotent.</summary>
    public void Dispose()
    {
        if (_values != 0) Marshal.FreeHGlobal(_values);
        if (_pointers != 0) Marshal.FreeHGlobal(_pointers);
        _values = _pointers = 0;
    }
}
