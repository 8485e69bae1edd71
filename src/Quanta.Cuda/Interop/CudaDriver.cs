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

    /// <summary>Starts capturing the work queued on <paramref name="stream"/> (a created stream, not the legacy null stream).</summary>
    public static void BeginCapture(nint stream, CuStreamCaptureMode mode = CuStreamCaptureMode.ThreadLocal)
    {
        Initialize();
        Check(CudaDriverNative.cuStreamBeginCapture_v2(stream, (int)mode), "cuStreamBeginCapture_v2");
    }

    /// <summary>True while <paramref name="stream"/> is being captured into a graph (work queued there only records).</summary>
    public static bool IsCapturing(nint stream)
    {
        Check(CudaDriverNative.cuStreamIsCapturing(stream, out int status), "cuStreamIsCapturing");
        return status != 0;
    }

    /// <summary>Ends the capture on <paramref name="stream"/> and instantiates the graph.</summary>
    public static CudaGraph EndCapture(nint stream)
    {
        Check(CudaDriverNative.cuStreamEndCapture(stream, out nint graph), "cuStreamEndCapture");
        return new CudaGraph(graph);
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
