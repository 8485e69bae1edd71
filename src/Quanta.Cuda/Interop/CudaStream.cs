using System.Runtime.InteropServices;

namespace Quanta.Cuda.Interop;

/// <summary>A CUstream (non-blocking with respect to the null stream), destroyed once on dispose.</summary>
public sealed class CudaStream : SafeHandle
{
    private const uint NonBlocking = 1;   // CU_STREAM_NON_BLOCKING

    /// <summary>Creates a stream in the current context.</summary>
    public CudaStream() : base(0, ownsHandle: true)
    {
        CudaDriver.Initialize();
        CudaDriver.Check(CudaDriverNative.cuStreamCreate(out nint s, NonBlocking), "cuStreamCreate");
        SetHandle(s);
    }

    /// <summary>The CUstream.</summary>
    public nint Pointer => handle;

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <summary>Waits for all work queued on the stream.</summary>
    public void Synchronize() => CudaDriver.Check(CudaDriverNative.cuStreamSynchronize(handle), "cuStreamSynchronize");

    /// <summary>Starts capturing the work queued on this stream into a graph (ends with <see cref="EndCapture"/>).</summary>
    public void BeginCapture(CuStreamCaptureMode mode = CuStreamCaptureMode.ThreadLocal) =>
        CudaDriver.Check(CudaDriverNative.cuStreamBeginCapture_v2(handle, (int)mode), "cuStreamBeginCapture_v2");

    /// <summary>Ends a capture and instantiates the captured graph.</summary>
    public CudaGraph EndCapture()
    {
        CudaDriver.Check(CudaDriverNative.cuStreamEndCapture(handle, out nint graph), "cuStreamEndCapture");
        return new CudaGraph(graph);
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => CudaDriverNative.cuStreamDestroy_v2(handle) == 0;
}
