using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>
/// Per-thread scratch for the GEMM tiles' unpacked weights: a pinned byte array held in the caller's [ThreadStatic]
/// field that grows (never shrinks, at least 64 KiB) and is collected with its thread, handed out 64-byte aligned.
/// </summary>
internal static unsafe class ThreadBuffer
{
    /// <summary>At least <paramref name="bytes"/> of <paramref name="buffer"/> (the caller's thread-static field), 64-byte aligned.</summary>
    public static byte* Aligned64(ref byte[]? buffer, long bytes)
    {
        if (buffer == null || buffer.Length < bytes + 64)
            buffer = GC.AllocateUninitializedArray<byte>(checked((int)Math.Max(bytes + 64, 64 * 1024)), pinned: true);
        byte* p = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (byte*)(((nint)p + 63) & ~(nint)63);
    }
}
