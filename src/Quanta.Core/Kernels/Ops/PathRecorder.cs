using System.Runtime.CompilerServices;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// Calls <see cref="KernelPaths.Record"/> only while recording is enabled. KernelPaths.Record's closure over its
/// <c>path</c> parameter is allocated at method entry, i.e. on every call even when disabled; checking
/// <see cref="KernelPaths.Enabled"/> first keeps the kernels allocation-free in production.
/// </summary>
internal static class PathRecorder
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Record(string kernel, SimdPath path)
    {
        if (KernelPaths.Enabled) KernelPaths.Record(kernel, path);
    }
}
