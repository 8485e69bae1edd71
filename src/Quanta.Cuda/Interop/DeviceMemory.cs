using System.Runtime.InteropServices;

namespace Quanta.Cuda.Interop;

/// <summary>
/// A cuMemAlloc allocation of <see cref="Bytes"/> bytes in the current context, freed once by <see cref="Dispose"/> or
/// the finalizer (a <see cref="SafeHandle"/>). Copies are stream-ordered (async); copies from or to managed arrays pin
/// the array for the call only, which is safe because the driver stages pageable memory before returning (HtoD) or
/// completes the copy before returning (DtoH).
/// </summary>
public sealed class DeviceMemory : SafeHandle
{
    /// <summary>Allocates <paramref name="bytes"/> (&gt; 0) bytes.</summary>
    public DeviceMemory(long bytes) : base(0, ownsHandle: true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        CudaDriver.Initialize();
        CudaDriver.Check(CudaDriverNative.cuMemAlloc_v2(out ulong p, (nuint)bytes), "cuMemAlloc_v2");
        SetHandle((nint)p);
        Bytes = bytes;
    }

    /// <summary>Size in bytes.</summary>
    public long Bytes { get; }

    /// <summary>The CUdeviceptr.</summary>
    public ulong Pointer => (ulong)handle;

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <summary>Copies <paramref name="source"/> into the start of this buffer on <paramref name="stream"/> (0: the null stream).</summary>
    public void CopyFrom<T>(T[] source, nint stream = 0) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(source);
        long bytes = (long)source.Length * Marshal.SizeOf<T>();
        if (bytes > Bytes) throw new ArgumentException($"{bytes} bytes do not fit in {Bytes}", nameof(source));
        var pin = GCHandle.Alloc(source, GCHandleType.Pinned);
        try
        {
            CudaDriver.Check(CudaDriverNative.cuMemcpyHtoDAsync_v2(Pointer, pin.AddrOfPinnedObject(), (nuint)bytes, stream), "cuMemcpyHtoDAsync_v2");
        }
        finally
        {
            pin.Free();
        }
    }

    /// <summary>Copies the start of this buffer into <paramref name="destination"/>; returns when the copy is done.</summary>
    public void CopyTo<T>(T[] destination, nint stream = 0) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(destination);
        long bytes = (long)destination.Length * Marshal.SizeOf<T>();
        if (bytes > Bytes) throw new ArgumentException($"{bytes} bytes exceed the buffer's {Bytes}", nameof(destination));
        var pin = GCHandle.Alloc(destination, GCHandleType.Pinned);
        try
        {
            CudaDriver.Check(CudaDriverNative.cuMemcpyDtoHAsync_v2(pin.AddrOfPinnedObject(), Pointer, (nuint)bytes, stream), "cuMemcpyDtoHAsync_v2");
            CudaDriver.Check(CudaDriverNative.cuStreamSynchronize(stream), "cuStreamSynchronize");
        }
        finally
        {
            pin.Free();
        }
    }

    /// <summary>Stream-ordered device-to-device copy of <paramref name="bytes"/> bytes from <paramref name="source"/>.</summary>
    public void CopyFromDevice(DeviceMemory source, long bytes, nint stream = 0)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (bytes < 0 || bytes > Bytes || bytes > source.Bytes) throw new ArgumentOutOfRangeException(nameof(bytes));
        CudaDriver.Check(CudaDriverNative.cuMemcpyDtoDAsync_v2(Pointer, source.Pointer, (nuint)bytes, stream), "cuMemcpyDtoDAsync_v2");
    }

    /// <summary>Sets every byte to <paramref name="value"/> (stream-ordered).</summary>
    public void Fill(byte value, nint stream = 0) =>
        CudaDriver.Check(CudaDriverNative.cuMemsetD8Async(Pointer, value, (nuint)Bytes, stream), "cuMemsetD8Async");

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => CudaDriverNative.cuMemFree_v2((ulong)handle) == 0;
}
