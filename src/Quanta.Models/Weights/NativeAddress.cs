using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Quanta.Models.Weights;

/// <summary>
/// Address arithmetic without pointer types (Quanta.Models is compiled without unsafe code): the address of a span's
/// first element, and a span over memory at an address. Only for memory that never moves (memory-mapped files,
/// native allocations); the owner of that memory must outlive every span made here.
/// </summary>
internal static class NativeAddress
{
    /// <summary>Address of the first byte of <paramref name="span"/> (which must not be managed-heap memory that can move).</summary>
    public static nint Of<T>(ReadOnlySpan<T> span) =>
        Unsafe.ByteOffset(ref Unsafe.NullRef<T>(), ref MemoryMarshal.GetReference(span));

    /// <summary>A read-only span of <paramref name="length"/> elements at <paramref name="address"/>.</summary>
    public static ReadOnlySpan<T> Span<T>(nint address, int length) =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.AddByteOffset(ref Unsafe.NullRef<T>(), address), length);

    /// <summary>A writable span of <paramref name="length"/> elements at <paramref name="address"/>.</summary>
    public static Span<T> WritableSpan<T>(nint address, int length) =>
        MemoryMarshal.CreateSpan(ref Unsafe.AddByteOffset(ref Unsafe.NullRef<T>(), address), length);
}
