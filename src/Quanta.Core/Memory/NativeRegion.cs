namespace Quanta.Core.Memory;

/// <summary>
/// A block of native memory at a fixed address (a memory-mapped file view, a pinned array or a
/// <see cref="NativeBuffer"/>) that hands out bounds-checked spans, so code compiled without unsafe code can hold
/// long-lived views (e.g. weight matrices) as region + offset instead of raw addresses.
/// <para>Contract: <see cref="Length"/> bytes starting at the region's base stay readable and never move until
/// <see cref="Dispose"/>; every accessor checks its range against <see cref="Length"/> and throws
/// <see cref="ObjectDisposedException"/> after disposal. A span obtained earlier must not be used after disposal
/// (the owner of a region keeps it alive while views are in use). Safe for concurrent reads.</para>
/// </summary>
public abstract unsafe class NativeRegion : IDisposable
{
    /// <summary>First byte of the region (null once disposed). Only for kernels inside Quanta.Core.</summary>
    internal byte* Pointer { get; private protected set; }

    /// <summary>Length in bytes.</summary>
    public long Length { get; private protected set; }

    /// <summary>True after <see cref="Dispose"/>.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Throws <see cref="ObjectDisposedException"/> after disposal.</summary>
    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    /// <summary>Bytes [<paramref name="offset"/>, offset + <paramref name="length"/>) as a read-only span.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the region.</exception>
    public ReadOnlySpan<byte> Read(long offset, int length) => new(Checked(offset, length), length);

    /// <summary>
    /// Offset of <paramref name="span"/>'s first byte inside this region. Lets a loader that got a span from a file
    /// object (e.g. a tensor's data) keep it as region + offset.
    /// </summary>
    /// <exception cref="ArgumentException">The span does not lie entirely inside the region.</exception>
    public long OffsetOf(ReadOnlySpan<byte> span)
    {
        ThrowIfDisposed();
        fixed (byte* p = span)
        {
            long offset = (long)(p - Pointer);
            if (p == null || offset < 0 || offset > Length || span.Length > Length - offset)
                throw new ArgumentException("the span does not lie inside this region", nameof(span));
            return offset;
        }
    }

    /// <summary>Validates a range and returns its address.</summary>
    internal byte* Checked(long offset, long length)
    {
        ThrowIfDisposed();
        if (offset < 0 || length < 0 || offset > Length || length > Length - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), $"range [{offset}, {offset}+{length}) is outside the region of {Length} bytes");
        return Pointer + offset;
    }

    /// <summary>Releases the memory; later accessor calls throw.</summary>
    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
        Pointer = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees or unmaps the memory (called once).</summary>
    protected abstract void Release();
}
