using System.Runtime.InteropServices;

namespace Quanta.Cuda.Interop;

/// <summary>A CUevent for stream timing, destroyed once on dispose.</summary>
public sealed class CudaEvent : SafeHandle
{
    /// <summary>Creates a timing event in the current context.</summary>
    public CudaEvent() : base(0, ownsHandle: true)
    {
        CudaDriver.Initialize();
        CudaDriver.Check(CudaDriverNative.cuEventCreate(out nint e, 0), "cuEventCreate");
        SetHandle(e);
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <summary>Records the event on <paramref name="stream"/> (0: the null stream).</summary>
    public void Record(nint stream = 0) => CudaDriver.Check(CudaDriverNative.cuEventRecord(handle, stream), "cuEventRecord");

    /// <summary>Waits for the event.</summary>
    public void Synchronize() => CudaDriver.Check(CudaDriverNative.cuEventSynchronize(handle), "cuEventSynchronize");

    /// <summary>Milliseconds between <paramref name="start"/> and this event (both recorded and completed).</summary>
    public float ElapsedSince(CudaEvent start)
    {
        ArgumentNullException.ThrowIfNull(start);
        CudaDriver.Check(CudaDriverNative.cuEventElapsedTime(out float ms, start.handle, handle), "cuEventElapsedTime");
        return ms;
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => CudaDriverNative.cuEventDestroy_v2(handle) == 0;
}
