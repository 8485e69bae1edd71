using System.Runtime.InteropServices;

namespace Quanta.Cuda.Interop;

/// <summary>
/// P/Invoke declarations of NVRTC (nvrtc.h), blittable signatures only: a program is an opaque pointer, strings go in
/// as UTF-8 byte arrays ending in 0, output buffers are byte arrays of the size the matching *Size call gave. Call
/// <see cref="NativeLibraries.Require"/> (done by <see cref="Nvrtc"/>) before any of these.
/// </summary>
internal static class NvrtcNative
{
    private const string Lib = NativeLibraries.NvrtcName;

    [DllImport(Lib)] internal static extern nint nvrtcGetErrorString(int result);
    [DllImport(Lib)] internal static extern int nvrtcVersion(out int major, out int minor);
    [DllImport(Lib)] internal static extern int nvrtcCreateProgram(out nint program, byte[] source, byte[] name, int numHeaders, nint headers, nint includeNames);
    [DllImport(Lib)] internal static extern int nvrtcDestroyProgram(ref nint program);
    [DllImport(Lib)] internal static extern int nvrtcCompileProgram(nint program, int numOptions, nint[] options);
    [DllImport(Lib)] internal static extern int nvrtcGetProgramLogSize(nint program, out nuint size);
    [DllImport(Lib)] internal static extern int nvrtcGetProgramLog(nint program, byte[] log);
    [DllImport(Lib)] internal static extern int nvrtcGetCUBINSize(nint program, out nuint size);
    [DllImport(Lib)] internal static extern int nvrtcGetCUBIN(nint program, byte[] cubin);
}
