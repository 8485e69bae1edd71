using System.Reflection;
using System.Runtime.InteropServices;

namespace Quanta.Cuda.Interop;

/// <summary>The NVIDIA libraries this project calls.</summary>
public enum NvidiaLibrary
{
    /// <summary>The CUDA driver API (libcuda.so.1, shipped with the driver).</summary>
    Driver,

    /// <summary>cuBLASLt (libcublasLt.so.&lt;major&gt;, shipped with the CUDA toolkit or the nvidia-cublas wheel).</summary>
    CublasLt,

    /// <summary>NVML (libnvidia-ml.so.1, shipped with the driver).</summary>
    Nvml,

    /// <summary>NVRTC, the run-time CUDA C++ compiler (libnvrtc.so.&lt;major&gt;, shipped with the CUDA toolkit or the nvidia-cuda-nvrtc wheel).</summary>
    Nvrtc,
}

/// <summary>
/// Finds and loads the NVIDIA libraries with <see cref="NativeLibrary"/> and routes this assembly's P/Invoke
/// declarations (logical names <see cref="DriverName"/>, <see cref="CublasLtName"/>, <see cref="NvmlName"/>) to them.
/// Candidates: the environment variable QUANTA_&lt;LIB&gt;_PATH when set (an explicit file), then the sonames in
/// <see cref="Candidates"/> (the loader's search path), then the same names under CUDA_HOME/lib64, /usr/local/cuda/lib64
/// and the toolkit's versioned directories. Absence becomes a <see cref="CudaUnavailableException"/> naming what was tried.
/// Thread-safe; each library is loaded once per process.
/// </summary>
public static class NativeLibraries
{
    /// <summary>Logical library name of the driver API imports.</summary>
    internal const string DriverName = "quanta-cuda-driver";

    /// <summary>Logical library name of the cuBLASLt imports.</summary>
    internal const string CublasLtName = "quanta-cublaslt";

    /// <summary>Logical library name of the NVML imports.</summary>
    internal const string NvmlName = "quanta-nvml";

    /// <summary>Logical library name of the NVRTC imports.</summary>
    internal const string NvrtcName = "quanta-nvrtc";

    private static readonly object s_gate = new();
    private static readonly Dictionary<NvidiaLibrary, nint> s_handles = [];
    private static bool s_resolverSet;

    /// <summary>Sonames tried for <paramref name="library"/>, best first (cuBLASLt: CUDA 13 then 12, then 11).</summary>
    public static IReadOnlyList<string> Candidates(NvidiaLibrary library) => library switch
    {
        NvidiaLibrary.Driver => ["libcuda.so.1", "libcuda.so"],
        NvidiaLibrary.CublasLt => ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so"],
        NvidiaLibrary.Nvml => ["libnvidia-ml.so.1", "libnvidia-ml.so"],
        NvidiaLibrary.Nvrtc => ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"],
        _ => throw new ArgumentOutOfRangeException(nameof(library)),
    };

    /// <summary>Human name used in errors.</summary>
    public static string DisplayName(NvidiaLibrary library) => library switch
    {
        NvidiaLibrary.Driver => "CUDA driver (libcuda)",
        NvidiaLibrary.CublasLt => "cuBLASLt",
        NvidiaLibrary.Nvml => "NVML (libnvidia-ml)",
        NvidiaLibrary.Nvrtc => "NVRTC (libnvrtc)",
        _ => throw new ArgumentOutOfRangeException(nameof(library)),
    };

    /// <summary>Environment variable naming an explicit file for <paramref name="library"/>.</summary>
    public static string OverrideVariable(NvidiaLibrary library) => library switch
    {
        NvidiaLibrary.Driver => "QUANTA_LIBCUDA_PATH",
        NvidiaLibrary.CublasLt => "QUANTA_CUBLASLT_PATH",
        NvidiaLibrary.Nvml => "QUANTA_NVML_PATH",
        NvidiaLibrary.Nvrtc => "QUANTA_NVRTC_PATH",
        _ => throw new ArgumentOutOfRangeException(nameof(library)),
    };

    /// <summary>True when <paramref name="library"/> can be loaded (loads it).</summary>
    public static bool IsAvailable(NvidiaLibrary library)
    {
        try
        {
            Require(library);
            return true;
        }
        catch (CudaUnavailableException)
        {
            return false;
        }
    }

    /// <summary>Loads <paramref name="library"/> (once) and returns its handle; throws <see cref="CudaUnavailableException"/> when absent.</summary>
    public static nint Require(NvidiaLibrary library)
    {
        lock (s_gate)
        {
            EnsureResolver();
            if (s_handles.TryGetValue(library, out nint h)) return h;
            h = Load(DisplayName(library), SearchList(library));
            s_handles[library] = h;
            return h;
        }
    }

    /// <summary>
    /// Loads the first of <paramref name="candidates"/> that <see cref="NativeLibrary.TryLoad(string, out nint)"/> accepts;
    /// throws <see cref="CudaUnavailableException"/> naming <paramref name="displayName"/> and every candidate otherwise.
    /// </summary>
    public static nint Load(string displayName, IReadOnlyList<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        foreach (string c in candidates)
            if (NativeLibrary.TryLoad(c, out nint h)) return h;
        throw new CudaUnavailableException(displayName, candidates);
    }

    /// <summary>The full search list for <paramref name="library"/>: override, sonames, then toolkit directories.</summary>
    public static IReadOnlyList<string> SearchList(NvidiaLibrary library)
    {
        var list = new List<string>();
        string? explicitPath = Environment.GetEnvironmentVariable(OverrideVariable(library));
        if (!string.IsNullOrEmpty(explicitPath)) list.Add(explicitPath);
        IReadOnlyList<string> names = Candidates(library);
        list.AddRange(names);
        if (library is NvidiaLibrary.CublasLt or NvidiaLibrary.Nvrtc)   // toolkit libraries
        {
            var dirs = new List<string>();
            string? home = Environment.GetEnvironmentVariable("CUDA_HOME") ?? Environment.GetEnvironmentVariable("CUDA_PATH");
            if (!string.IsNullOrEmpty(home)) dirs.Add(Path.Combine(home, "lib64"));
            dirs.Add("/usr/local/cuda/lib64");
            try
            {
                if (Directory.Exists("/usr/local"))
                    dirs.AddRange(Directory.GetDirectories("/usr/local", "cuda-*").OrderDescending(StringComparer.Ordinal).Select(d => Path.Combine(d, "lib64")));
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            dirs.Add("/usr/lib/x86_64-linux-gnu");
            foreach (string d in dirs)
                foreach (string n in names)
                    list.Add(Path.Combine(d, n));
        }
        return list;
    }

    private static void EnsureResolver()
    {
        if (s_resolverSet) return;
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);
        s_resolverSet = true;
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        NvidiaLibrary? lib = name switch
        {
            DriverName => NvidiaLibrary.Driver,
            CublasLtName => NvidiaLibrary.CublasLt,
            NvmlName => NvidiaLibrary.Nvml,
            NvrtcName => NvidiaLibrary.Nvrtc,
            _ => null,
        };
        if (lib is null) return 0;
        lock (s_gate)
        {
            if (s_handles.TryGetValue(lib.Value, out nint h)) return h;
        }
        // a P/Invoke reached before Require: load now, and let the runtime report DllNotFoundException when absent
        try
        {
            return Require(lib.Value);
        }
        catch (CudaUnavailableException)
        {
            return 0;
        }
    }
}
