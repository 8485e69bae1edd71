using System.Reflection;
using System.Runtime.InteropServices;

namespace Quanta.Core.Tests.Support;

/// <summary>
/// The oracle: ggml's native CPU library as the LLamaSharp.Backend.Cpu 0.30.0 package ships it
/// (test-only dependency). The AVX-512 build is loaded when the CPU has AVX-512 (as LLamaSharp itself
/// would pick), else AVX2, else the no-AVX build, so "the path llama.cpp runs" is the one on this machine.
/// Other files add entry points to this partial class.
/// </summary>
internal static unsafe partial class GgmlNative
{
    internal const string Base = "ggml-base";
    internal const string Cpu = "ggml-cpu";

    private static readonly object s_lock = new();
    private static bool s_initialized;

    /// <summary>Which build of the library was loaded ("avx512", "avx2", "avx" or "noavx").</summary>
    internal static string Variant { get; private set; } = "";

    static GgmlNative()
    {
        NativeLibrary.SetDllImportResolver(typeof(GgmlNative).Assembly, Resolve);
    }

    private static readonly Dictionary<string, IntPtr> s_handles = new(StringComparer.Ordinal);

    private static IntPtr Resolve(string name, Assembly asm, DllImportSearchPath? path)
    {
        if (name != Base && name != Cpu) return IntPtr.Zero;
        lock (s_lock)
        {
            if (s_handles.TryGetValue(name, out IntPtr h)) return h;
            string dir = NativeDir();
            // load base first so that ggml-cpu's dependency resolves to the same variant
            if (!s_handles.ContainsKey(Base)) s_handles[Base] = NativeLibrary.Load(Path.Combine(dir, "libggml-base.so"));
            if (name == Cpu) s_handles[Cpu] = NativeLibrary.Load(Path.Combine(dir, "libggml-cpu.so"));
            return s_handles[name];
        }
    }

    private static string NativeDir()
    {
        string root = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        string variant =
            System.Runtime.Intrinsics.X86.Avx512BW.IsSupported || CpuHasAvx512() ? "avx512" :
            System.Runtime.Intrinsics.X86.Avx2.IsSupported || CpuHas("avx2") ? "avx2" :
            "noavx";
        // The runtime's intrinsic switches (DOTNET_EnableAVX512=0 ...) affect .NET only; the oracle
        // follows the real CPU, so read /proc/cpuinfo as well.
        string dir = Path.Combine(root, variant);
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"ggml native library folder missing: {dir} (LLamaSharp.Backend.Cpu 0.30.0 not restored?)");
        Variant = variant;
        return dir;
    }

    private static bool CpuHasAvx512() => CpuHas("avx512bw");

    private static bool CpuHas(string flag)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("flags", StringComparison.Ordinal))
                    return line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(flag);
        }
        catch (IOException) { }
        return false;
    }

    [DllImport(Cpu, EntryPoint = "ggml_cpu_init")]
    private static extern void ggml_cpu_init();

    /// <summary>Initializes ggml's CPU tables once (fp16 lookup tables etc.). Call before any other entry point.</summary>
    internal static void EnsureInitialized()
    {
        lock (s_lock)
        {
            if (s_initialized) return;
            ggml_cpu_init();
            s_initialized = true;
        }
    }

    /// <summary>ggml.h struct ggml_type_traits (ggml-base).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct TypeTraits
    {
        public IntPtr TypeName;        // const char *
        public long BlockSize;         // int64_t blck_size
        public long BlockSizeInterleave; // int64_t blck_size_interleave
        public nuint TypeSize;         // size_t type_size
        [MarshalAs(UnmanagedType.U1)] public bool IsQuantized;
        public IntPtr ToFloat;         // void (*)(const void * x, float * y, int64_t k)
        public IntPtr FromFloatRef;    // void (*)(const float * x, void * y, int64_t k)
    }

    /// <summary>ggml-cpu.h struct ggml_type_traits_cpu.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct TypeTraitsCpu
    {
        public IntPtr FromFloat;       // void (*)(const float * x, void * y, int64_t k): the run-time (SIMD) quantizer
        public IntPtr VecDot;          // void (*)(int n, float * s, size_t bs, const void * x, size_t bx, const void * y, size_t by, int nrc)
        public int VecDotType;         // enum ggml_type
        public long NRows;             // int64_t
    }

    [DllImport(Base, EntryPoint = "ggml_get_type_traits")]
    private static extern TypeTraits* ggml_get_type_traits(int type);

    [DllImport(Cpu, EntryPoint = "ggml_get_type_traits_cpu")]
    private static extern TypeTraitsCpu* ggml_get_type_traits_cpu(int type);

    internal static TypeTraits Traits(int type) { EnsureInitialized(); return *ggml_get_type_traits(type); }

    internal static TypeTraitsCpu TraitsCpu(int type) { EnsureInitialized(); return *ggml_get_type_traits_cpu(type); }

    /// <summary>ggml's reference dequantizer (to_float) for <paramref name="type"/>.</summary>
    internal static void ToFloat(int type, ReadOnlySpan<byte> src, Span<float> dst, long k)
    {
        var fn = (delegate* unmanaged<byte*, float*, long, void>)Traits(type).ToFloat;
        if (fn == null) throw new InvalidOperationException($"ggml has no to_float for type {type}");
        fixed (byte* s = src) fixed (float* d = dst) fn(s, d, k);
    }

    /// <summary>ggml's reference quantizer (from_float_ref) for <paramref name="type"/>.</summary>
    internal static void FromFloatRef(int type, ReadOnlySpan<float> src, Span<byte> dst, long k)
    {
        var fn = (delegate* unmanaged<float*, byte*, long, void>)Traits(type).FromFloatRef;
        if (fn == null) throw new InvalidOperationException($"ggml has no from_float_ref for type {type}");
        fixed (float* s = src) fixed (byte* d = dst) fn(s, d, k);
    }

    /// <summary>The quantizer ggml's CPU backend runs on activations at run time (SIMD path of this CPU).</summary>
    internal static void FromFloatCpu(int type, ReadOnlySpan<float> src, Span<byte> dst, long k)
    {
        var fn = (delegate* unmanaged<float*, byte*, long, void>)TraitsCpu(type).FromFloat;
        if (fn == null) throw new InvalidOperationException($"ggml-cpu has no from_float for type {type}");
        fixed (float* s = src) fixed (byte* d = dst) fn(s, d, k);
    }

    /// <summary>ggml-cpu's vec_dot for weight type <paramref name="type"/> against its vec_dot_type row.</summary>
    internal static float VecDot(int type, int n, ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        var fn = (delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void>)TraitsCpu(type).VecDot;
        if (fn == null) throw new InvalidOperationException($"ggml-cpu has no vec_dot for type {type}");
        float s;
        fixed (byte* px = x) fixed (byte* py = y) fn(n, &s, 0, px, 0, py, 0, 1);
        return s;
    }

    [DllImport(Base, EntryPoint = "ggml_quantize_chunk")]
    private static extern nuint ggml_quantize_chunk(int type, float* src, byte* dst, long start, long nrows, long nPerRow, float* imatrix);

    [DllImport(Base, EntryPoint = "ggml_quantize_init")]
    private static extern void ggml_quantize_init(int type);

    /// <summary>ggml_quantize_chunk without importance matrix: what llama-quantize writes for a tensor.</summary>
    internal static long QuantizeChunk(int type, ReadOnlySpan<float> src, Span<byte> dst, long nrows, long nPerRow)
    {
        EnsureInitialized();
        ggml_quantize_init(type);
        fixed (float* s = src) fixed (byte* d = dst) return (long)ggml_quantize_chunk(type, s, d, 0, nrows, nPerRow, null);
    }
}
