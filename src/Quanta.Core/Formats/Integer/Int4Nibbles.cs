using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Quanta.Core.Formats.Integer;

/// <summary>
/// Vector helper shared by the INT4 codec and dot kernels: expands packed nibbles (low nibble = even element,
/// high nibble = odd element) into one byte per element in element order, on any platform.
/// </summary>
internal static class Int4Nibbles
{
    /// <summary>16 packed bytes (32 elements) to 32 bytes holding the codes 0..15 in element order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Expand16(Vector128<byte> packed)
    {
        // widen byte k to a 16-bit lane, then put its low nibble in the lane's low byte (element 2k) and its
        // high nibble in the lane's high byte (element 2k+1): little-endian byte order is element order.
        Vector128<ushort> lo = Vector128.WidenLower(packed), hi = Vector128.WidenUpper(packed);
        var m0 = Vector128.Create((ushort)0x000F);
        var m1 = Vector128.Create((ushort)0x0F00);
        Vector128<ushort> a = (lo & m0) | ((lo << 4) & m1);
        Vector128<ushort> b = (hi & m0) | ((hi << 4) & m1);
        return Vector256.Create(a.AsByte(), b.AsByte());
    }
}
