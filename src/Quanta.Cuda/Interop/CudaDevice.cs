using System.Text;

namespace Quanta.Cuda.Interop;

/// <summary>
/// One CUDA device with its primary context retained and made current on the creating thread (the context ILGPU's
/// CUDA accelerator and cuBLASLt also run in when they are bound to the same device). Disposing releases the
/// primary context. Calls that need the context must run on a thread where it is current (<see cref="MakeCurrent"/>).
/// </summary>
public sealed class CudaDevice : IDisposable
{
    private bool _disposed;

    private CudaDevice(int ordinal, int handle, nint context)
    {
        Ordinal = ordinal;
        Handle = handle;
        Context = context;
        var name = new byte[256];
        CudaDriver.Check(CudaDriverNative.cuDeviceGetName(name, name.Length, handle), "cuDeviceGetName");
        int len = Array.IndexOf(name, (byte)0);
        Name = Encoding.ASCII.GetString(name, 0, len < 0 ? name.Length : len);
        CudaDriver.Check(CudaDriverNative.cuDeviceTotalMem_v2(out nuint total, handle), "cuDeviceTotalMem_v2");
        TotalMemoryBytes = (long)total;
        ComputeCapability = (Attribute(CuDeviceAttribute.ComputeCapabilityMajor), Attribute(CuDeviceAttribute.ComputeCapabilityMinor));
        Multiprocessors = Attribute(CuDeviceAttribute.MultiprocessorCount);
    }

    /// <summary>Initializes the driver, retains device <paramref name="ordinal"/>'s primary context and makes it current.</summary>
    public static CudaDevice Open(int ordinal = 0)
    {
        CudaDriver.Initialize();
        int count = CudaDriver.DeviceCount();
        if ((uint)ordinal >= (uint)count) throw new ArgumentOutOfRangeException(nameof(ordinal), ordinal, $"{count} CUDA devices present");
        CudaDriver.Check(CudaDriverNative.cuDeviceGet(out int dev, ordinal), "cuDeviceGet");
        CudaDriver.Check(CudaDriverNative.cuDevicePrimaryCtxRetain(out nint ctx, dev), "cuDevicePrimaryCtxRetain");
        try
        {
            CudaDriver.Check(CudaDriverNative.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
            return new CudaDevice(ordinal, dev, ctx);
        }
        catch
        {
            CudaDriverNative.cuDevicePrimaryCtxRelease_v2(dev);
            throw;
        }
    }

    /// <summary>Device ordinal.</summary>
    public int Ordinal { get; }

    /// <summary>CUdevice handle.</summary>
    public int Handle { get; }

    /// <summary>The retained primary CUcontext.</summary>
    public nint Context { get; }

    /// <summary>Marketing name (e.g. "NVIDIA H100 80GB HBM3").</summary>
    public string Name { get; }

    /// <summary>Device memory in bytes.</summary>
    public long TotalMemoryBytes { get; }

    /// <summary>(major, minor), e.g. (9, 0) for Hopper.</summary>
    public (int Major, int Minor) ComputeCapability { get; }

    /// <summary>Streaming multiprocessors.</summary>
    public int Multiprocessors { get; }

    /// <summary>Reads a device attribute.</summary>
    public int Attribute(CuDeviceAttribute attribute)
    {
        CudaDriver.Check(CudaDriverNative.cuDeviceGetAttribute(out int v, (int)attribute, Handle), "cuDeviceGetAttribute");
        return v;
    }

    /// <summary>Makes the primary context current on the calling thread.</summary>
    public void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CudaDriver.Check(CudaDriverNative.cuCtxSetCurrent(Context), "cuCtxSetCurrent");
    }

    /// <summary>Waits for all work in the context.</summary>
    public void Synchronize() => CudaDriver.Check(CudaDriverNative.cuCtxSynchronize(), "cuCtxSynchronize");

    /// <summary>(free, total) device memory in bytes.</summary>
    public (long Free, long Total) MemoryInfo()
    {
        CudaDriver.Check(CudaDriverNative.cuMemGetInfo_v2(out nuint free, out nuint total), "cuMemGetInfo_v2");
        return ((long)free, (long)total);
    }

    /// <summary>Releases the primary context; idempotent.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        CudaDriverNative.cuDevicePrimaryCtxRelease_v2(Handle);
    }
}
