using System.Runtime.InteropServices;
using System.Text;

namespace Quanta.Cuda.Interop;

/// <summary>
/// Compiles CUDA C++ source to a CUBIN for one GPU architecture with NVRTC, the toolkit's run-time compiler
/// (<see cref="CudaUnavailableException"/> when libnvrtc is absent; <see cref="NvrtcException"/> with the compiler's
/// log when the source does not compile).
/// </summary>
public static class Nvrtc
{
    /// <summary>NVRTC's version as (major, minor); loads the library.</summary>
    public static (int Major, int Minor) Version()
    {
        NativeLibraries.Require(NvidiaLibrary.Nvrtc);
        Check(NvrtcNative.nvrtcVersion(out int major, out int minor), "nvrtcVersion");
        return (major, minor);
    }

    /// <summary>
    /// Compiles <paramref name="source"/> (named <paramref name="name"/> in messages) for compute capability
    /// <paramref name="major"/>.<paramref name="minor"/> (e.g. sm_90) with <paramref name="options"/> added, and returns
    /// the CUBIN, ready for <see cref="CudaModule.Load"/>.
    /// </summary>
    public static byte[] CompileCubin(string source, string name, int major, int minor, params string[] options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(major);
        ArgumentOutOfRangeException.ThrowIfNegative(minor);
        NativeLibraries.Require(NvidiaLibrary.Nvrtc);
        Check(NvrtcNative.nvrtcCreateProgram(out nint program, Utf8z(source), Utf8z(name), 0, 0, 0), "nvrtcCreateProgram");
        var pinned = new List<nint>();
        try
        {
            string[] all = [$"--gpu-architecture=sm_{major}{minor}", "--std=c++17", .. options];
            foreach (string o in all) pinned.Add(Marshal.StringToCoTaskMemUTF8(o));
            int rc = NvrtcNative.nvrtcCompileProgram(program, pinned.Count, [.. pinned]);
            if (rc != 0) throw new NvrtcException(name, ErrorString(rc), Log(program));
            Check(NvrtcNative.nvrtcGetCUBINSize(program, out nuint size), "nvrtcGetCUBINSize");
            var cubin = new byte[(int)size];
            Check(NvrtcNative.nvrtcGetCUBIN(program, cubin), "nvrtcGetCUBIN");
            return cubin;
        }
        finally
        {
            foreach (nint p in pinned) Marshal.FreeCoTaskMem(p);
            NvrtcNative.nvrtcDestroyProgram(ref program);
        }
    }

    private static string Log(nint program)
    {
        if (NvrtcNative.nvrtcGetProgramLogSize(program, out nuint size) != 0 || size <= 1) return "";
        var log = new byte[(int)size];
        return NvrtcNative.nvrtcGetProgramLog(program, log) == 0 ? Encoding.UTF8.GetString(log, 0, log.Length - 1) : "";
    }

    private static byte[] Utf8z(string s)
    {
        var b = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, b);
        return b;
    }

    private static string ErrorString(int result)
    {
        nint p = NvrtcNative.nvrtcGetErrorString(result);
        return p != 0 ? Marshal.PtrToStringAnsi(p) ?? $"nvrtcResult {result}" : $"nvrtcResult {result}";
    }

    private static void Check(int result, string call)
    {
        if (result != 0) throw new CudaException(call, result, ErrorString(result));
    }
}

/// <summary>A CUDA C++ source that NVRTC refused; <see cref="CompilerLog"/> holds the compiler's messages.</summary>
public sealed class NvrtcException : Exception
{
    /// <summary>Creates the exception for source <paramref name="name"/>.</summary>
    public NvrtcException(string name, string status, string log)
        : base($"NVRTC could not compile {name} ({status}): {log.Trim()}")
    {
        CompilerLog = log;
    }

    /// <summary>Creates the exception with the default message.</summary>
    public NvrtcException() { }

    /// <summary>Creates the exception with a message only.</summary>
    public NvrtcException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public NvrtcException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The compiler's log.</summary>
    public string CompilerLog { get; } = "";
}
