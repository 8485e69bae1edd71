using System.Runtime.InteropServices;

namespace Quanta.Core.Memory;

/// <summary>
/// An owned, writable, aligned native allocation (e.g. converted weights) of <see cref="NativeRegion.Length"/> bytes
/// (not zeroed), freed by <see cref="NativeRegion.Dispose"/>. Writable spans are bounds-checked like reads.
/// </summary>
public sealed unsafe class NativeBuffer : NativeRegion
{
    /// <summary>Default alignment: one cache line / one 512-bit vector.</summary>
    public const int DefaultAlignment = 64;

    /// <summary>Allocates <paramref name="length"/> bytes aligned to <paramref name="alignment"/> (a power of two).</summary>
    public NativeBuffer(long length, int alignment = DefaultAlignment)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentException($"alignment {alignment} is not a power of two", nameof(alignment));
        Pointer = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(length, 1), (nuint)alignment);
        Length = length;
        Alignment = alignment;
    }

    /// <summary>Alignment of the first byte.</summary>
    public int Alignment { get; }

    /// <summary>Bytes [<paramref name="offset"/>, offset + <paramref name="length"/>) as a writable span.</summary>
    public Span<byte> Write(long offset, int length) => new(Checked(offset, length), length);

    /// <summary>Frees the allocation.</summary>
    protected override void Release() => NativeMemory.AlignedFree(Pointer);

    /// <summary>Frees the allocation if the owner forgot to.</summary>
    ~NativeBuffer() => Dispose();
}
