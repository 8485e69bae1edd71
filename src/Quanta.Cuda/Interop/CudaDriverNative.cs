using System.Runtime.InteropServices;

namespace Quanta.Cuda.Interop;

/// <summary>
/// P/Invoke declarations of the CUDA driver API (cuda.h), blittable signatures only: CUdeviceptr is a 64-bit integer,
/// handles (CUcontext, CUstream, CUevent, CUgraph, CUgraphExec) are pointers, host memory is passed as a pinned
/// address. The versioned entry points (_v2) are the ones cuda.h maps the plain names to. Call
/// <see cref="NativeLibraries.Require"/> (done by <see cref="CudaDriver"/>) before any of these.
/// </summary>
internal static class CudaDriverNative
{
    private const string Lib = NativeLibraries.DriverName;

    [DllImport(Lib)] internal static extern int cuInit(uint flags);
    [DllImport(Lib)] internal static extern int cuDriverGetVersion(out int version);
    [DllImport(Lib)] internal static extern int cuGetErrorName(int error, out nint name);
    [DllImport(Lib)] internal static extern int cuDeviceGetCount(out int count);
    [DllImport(Lib)] internal static extern int cuDeviceGet(out int device, int ordinal);
    [DllImport(Lib)] internal static extern int cuDeviceGetName(byte[] name, int length, int device);
    [DllImport(Lib)] internal static extern int cuDeviceTotalMem_v2(out nuint bytes, int device);
    [DllImport(Lib)] internal static extern int cuDeviceGetAttribute(out int value, int attribute, int device);
    [DllImport(Lib)] internal static extern int cuDevicePrimaryCtxRetain(out nint context, int device);
    [DllImport(Lib)] internal static extern int cuDevicePrimaryCtxRelease_v2(int device);
    [DllImport(Lib)] internal static extern int cuCtxSetCurrent(nint context);
    [DllImport(Lib)] internal static extern int cuCtxGetCurrent(out nint context);
    [DllImport(Lib)] internal static extern int cuCtxSynchronize();
    [DllImport(Lib)] internal static extern int cuMemAlloc_v2(out ulong devicePointer, nuint bytes);
    [DllImport(Lib)] internal static extern int cuMemFree_v2(ulong devicePointer);
    [DllImport(Lib)] internal static extern int cuMemGetInfo_v2(out nuint free, out nuint total);
    [DllImport(Lib)] internal static extern int cuMemcpyHtoDAsync_v2(ulong destination, nint source, nuint bytes, nint stream);
    [DllImport(Lib)] internal static extern int cuMemcpyDtoHAsync_v2(nint destination, ulong source, nuint bytes, nint stream);
    [DllImport(Lib)] internal static extern int cuMemcpyDtoDAsync_v2(ulong destination, ulong source, nuint bytes, nint stream);
    [DllImport(Lib)] internal static extern int cuMemsetD8Async(ulong destination, byte value, nuint count, nint stream);
    [DllImport(Lib)] internal static extern int cuStreamCreate(out nint stream, uint flags);
    [DllImport(Lib)] internal static extern int cuStreamDestroy_v2(nint stream);
    [DllImport(Lib)] internal static extern int cuStreamSynchronize(nint stream);
    [DllImport(Lib)] internal static extern int cuEventCreate(out nint evt, uint flags);
    [DllImport(Lib)] internal static extern int cuEventRecord(nint evt, nint stream);
    [DllImport(Lib)] internal static extern int cuEventSynchronize(nint evt);
    [DllImport(Lib)] internal static extern int cuEventElapsedTime(out float milliseconds, nint start, nint end);
    [DllImport(Lib)] internal static extern int cuEventDestroy_v2(nint evt);
    [DllImport(Lib)] internal static extern int cuStreamBeginCapture_v2(nint stream, int mode);
    [DllImport(Lib)] internal static extern int cuStreamIsCapturing(nint stream, out int captureStatus);
    [DllImport(Lib)] internal static extern int cuStreamEndCapture(nint stream, out nint graph);
    [DllImport(Lib)] internal static extern int cuGraphInstantiateWithFlags(out nint graphExec, nint graph, ulong flags);
    [DllImport(Lib)] internal static extern int cuGraphLaunch(nint graphExec, nint stream);
    [DllImport(Lib)] internal static extern int cuGraphExecDestroy(nint graphExec);
    [DllImport(Lib)] internal static extern int cuGraphDestroy(nint graph);
    [DllImport(Lib)] internal static extern int cuModuleLoadData(out nint module, byte[] image);
    [DllImport(Lib)] internal static extern int cuModuleUnload(nint module);
    [DllImport(Lib)] internal static extern int cuFuncSetAttribute(nint function, int attribute, int value);
    [DllImport(Lib)] internal static extern int cuModuleGetFunction(out nint function, nint module, byte[] name);
    [DllImport(Lib)] internal static extern int cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedBytes, nint stream, nint kernelParams, nint extra);
}
