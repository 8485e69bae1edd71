using System.Runtime.InteropServices;

namespace Quanta.Cuda.Interop;

/// <summary>
/// NVML for one GPU: nvmlInit_v2 on open (reference-counted by NVML), nvmlShutdown on dispose. Power is
/// nvmlDeviceGetPowerUsage (milliwatts); energy is nvmlDeviceGetTotalEnergyConsumption (millijoules since the driver
/// was loaded; Volta and newer). Errors become <see cref="CudaException"/> naming the call.
/// </summary>
public sealed class NvmlDevice : IDisposable
{
    private bool _disposed;

    private NvmlDevice(nint device, uint index)
    {
        Device = device;
        Index = index;
    }

    /// <summary>Loads NVML, initializes it and gets the handle of GPU <paramref name="index"/>.</summary>
    public static NvmlDevice Open(uint index = 0)
    {
        NativeLibraries.Require(NvidiaLibrary.Nvml);
        Check(NvmlNative.nvmlInit_v2(), "nvmlInit_v2");
        try
        {
            Check(NvmlNative.nvmlDeviceGetHandleByIndex_v2(index, out nint dev), "nvmlDeviceGetHandleByIndex_v2");
            return new NvmlDevice(dev, index);
        }
        catch
        {
            NvmlNative.nvmlShutdown();
            throw;
        }
    }

    /// <summary>The nvmlDevice_t.</summary>
    public nint Device { get; }

    /// <summary>NVML index.</summary>
    public uint Index { get; }

    /// <summary>Current board power draw in watts.</summary>
    public double PowerWatts()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Check(NvmlNative.nvmlDeviceGetPowerUsage(Device, out uint mw), "nvmlDeviceGetPowerUsage");
        return mw / 1000.0;
    }

    /// <summary>Energy in joules since the driver was loaded (monotone).</summary>
    public double TotalEnergyJoules()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Check(NvmlNative.nvmlDeviceGetTotalEnergyConsumption(Device, out ulong mj), "nvmlDeviceGetTotalEnergyConsumption");
        return mj / 1000.0;
    }

    /// <summary>Throws <see cref="CudaException"/> naming <paramref name="call"/> unless <paramref name="result"/> is NVML_SUCCESS.</summary>
    public static void Check(int result, string call)
    {
        if (result == 0) return;
        string name = HeaderNames.Of<NvmlReturn>(result, "NVML_ERROR_", "nvmlReturn_t");
        string? detail = null;
        try
        {
            nint p = NvmlNative.nvmlErrorString(result);
            if (p != 0) detail = Marshal.PtrToStringAnsi(p);
        }
        catch (DllNotFoundException) { }
        catch (EntryPointNotFoundException) { }
        throw new CudaException(call, result, name, detail);
    }

    /// <summary>Shuts NVML down once.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        NvmlNative.nvmlShutdown();
    }
}
