using System.Runtime.InteropServices;

namespace Quanta.Cuda.Interop;

/// <summary>
/// Checked entry to the CUDA driver API: loads libcuda on first use (<see cref="CudaUnavailableException"/> when absent),
/// calls cuInit once, and turns every non-zero CUresult into a <see cref="CudaException"/> naming the call.
/// </summary>
public static class CudaDriver
{
    private static readonly object s_gate = new();
    private static bool s_initialized;

    /// <summary>Loads libcuda and runs cuInit(0) once per process.</summary>
    public static void Initialize()
    {
        lock (s_gate)
        {
            if (s_initialized) return;
            NativeLibraries.Require(NvidiaLibrary.Driver);
            Check(CudaDriverNative.cuInit(0), "cuInit");
            s_initialized = true;
        }
    }

    /// <summary>The driver's CUDA version (e.g. 12040 for 12.4).</summary>
    public static int DriverVersion()
    {
        Initialize();
        Check(CudaDriverNative.cuDriverGetVersion(out int v), "cuDriverGetVersion");
        return v;
    }

    /// <summary>Number of CUDA devices.</summary>
    public static int DeviceCount()
    {
        Initialize();
        Check(CudaDriverNative.cuDeviceGetCount(out int n), "cuDeviceGetCount");
        return n;
    }

    /// <summary>Throws <see cref="CudaException"/> naming <paramref name="call"/> unless <paramref name="result"/> is CUDA_SUCCESS.</summary>
    public static void Check(int result, string call)
    {
        if (result != 0) throw new CudaException(call, result, ErrorName(result));
    }

    /// <summary>The CUresult's name: from cuGetErrorName when the driver is loaded, else from <see cref="CuResult"/>.</summary>
    public static string ErrorName(int result)
    {
        if (s_initialized)
        {
            try
            {
                if (CudaDriverNative.cuGetErrorName(result, out nint p) == 0 && p != 0)
                    return Marshal.PtrToStringAnsi(p) ?? KnownName(result);
            }
            catch (EntryPointNotFoundException) { }
        }
        return KnownName(result);
    }

    private static string KnownName(int result) => HeaderNames.Of<CuResult>(result, "CUDA_ERROR_", "CUresult");
}
