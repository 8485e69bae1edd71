using System.Runtime.InteropServices;

namespace Quanta.Cuda.Interop;

/// <summary>P/Invoke declarations of NVML (nvml.h): device handles are pointers; power in milliwatts, energy in millijoules.</summary>
internal static class NvmlNative
{
    private const string Lib = NativeLibraries.NvmlName;

    [DllImport(Lib)] internal static extern int nvmlInit_v2();
    [DllImport(Lib)] internal static extern int nvmlShutdown();
    [DllImport(Lib)] internal static extern nint nvmlErrorString(int result);
    [DllImport(Lib)] internal static extern int nvmlDeviceGetHandleByIndex_v2(uint index, out nint device);
    [DllImport(Lib)] internal static extern int nvmlDeviceGetPowerUsage(nint device, out uint milliwatts);
    [DllImport(Lib)] internal static extern int nvmlDeviceGetTotalEnergyConsumption(nint device, out ulong millijoules);
}

/// <summary>nvmlReturn_t values (nvml.h) named in errors.</summary>
public enum NvmlReturn
{
    /// <summary>NVML_SUCCESS.</summary>
    Success = 0,
    /// <summary>NVML_ERROR_UNINITIALIZED.</summary>
    Uninitialized = 1,
    /// <summary>NVML_ERROR_INVALID_ARGUMENT.</summary>
    InvalidArgument = 2,
    /// <summary>NVML_ERROR_NOT_SUPPORTED.</summary>
    NotSupported = 3,
    /// <summary>NVML_ERROR_NO_PERMISSION.</summary>
    NoPermission = 4,
    /// <summary>NVML_ERROR_NOT_FOUND.</summary>
    NotFound = 6,
    /// <summary>NVML_ERROR_DRIVER_NOT_LOADED.</summary>
    DriverNotLoaded = 9,
    /// <summary>NVML_ERROR_LIBRARY_NOT_FOUND.</summary>
    LibraryNotFound = 12,
    /// <summary>NVML_ERROR_GPU_IS_LOST.</summary>
    GpuIsLost = 15,
    /// <summary>NVML_ERROR_UNKNOWN.</summary>
    Unknown = 999,
}
