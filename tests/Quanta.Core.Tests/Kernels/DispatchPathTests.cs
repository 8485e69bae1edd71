using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Attention;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.Simd;
using Xunit.Abstractions;

namespace Quanta.Core.Tests.Kernels;

/// <summary>
/// Asserts which SIMD path each kernel actually took in this process. test.sh runs the kernel tests four times:
/// QUANTA_EXPECT_SIMD=native (widest this CPU offers), V256 (DOTNET_EnableAVX512=0), V128 (DOTNET_EnableAVX2=0)
/// and Scalar (DOTNET_EnableHWIntrinsic=0). Every codec and dot kernel in the registries and the main ops are run
/// once with recording on, and every recorded path must be exactly the expected width.
/// </summary>
[Trait("Category", "Kernels")]
public class DispatchPathTests(ITestOutputHelper output)
{
    private static SimdPath Expected()
    {
        string? env = Environment.GetEnvironmentVariable("QUANTA_EXPECT_SIMD");
        if (string.IsNullOrEmpty(env) || env == "native")
        {
            // The widest width the hardware offers, read from the CPU rather than from .NET's switches,
            // so a run that silently lost a path fails here.
            if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported || CpuFlag("avx512bw")) return SimdPath.V512;
            if (System.Runtime.Intrinsics.X86.Avx2.IsSupported || CpuFlag("avx2")) return SimdPath.V256;
            return SimdPath.V128;
        }
        return Enum.Parse<SimdPath>(env);
    }

    private static bool CpuFlag(string flag)
    {
        if (!File.Exists("/proc/cpuinfo")) return false;
        foreach (string line in File.ReadLines("/proc/cpuinfo"))
            if (line.StartsWith("flags", StringComparison.Ordinal))
                return line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(flag);
        return false;
    }

    [Fact]
    public void Runtime_switches_give_the_expected_vector_width()
    {
        Assert.Equal(Expected(), SimdCapabilities.Widest);
    }

    [Fact]
    public void Every_kernel_records_the_expected_path()
    {
        using var scope = KernelPaths.BeginThreadScope();
        var expected = Expected();
        var rng = new Random(1);
        const int n = 512;
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var y = new float[n];
        var names = new List<string>();

        foreach (var format in KernelRegistry.Formats)
        {
            var k = KernelRegistry.VecDot(format);
            var codec = CodecRegistry.For(format);
            var w = new byte[codec.RowBytes(n)];
            codec.Quantize(x, w);
            codec.Dequantize(w, y);
            var act = new byte[k.ActivationRowBytes(n)];
            k.QuantizeActivation(x, act);
            k.Dot(w, act, n);
            names.Add(k.Name);
        }
        foreach (var type in CodecRegistry.SupportedGgmlTypes)
        {
            var codec = CodecRegistry.For(type);
            var w = new byte[codec.RowBytes(n)];
            codec.Quantize(x, w);
            codec.Dequantize(w, y);
        }
        RmsNorm.Forward(x, x, y, 1e-5f);
        Softmax.Forward(x, y);
        Silu.Forward(x, y);
        SwiGlu.Forward(x, x, y);
        Gelu.Forward(x, y);

        var seen = scope.Snapshot();
        foreach (var kv in seen.OrderBy(k => k.Key, StringComparer.Ordinal)) output.WriteLine($"{kv.Key}: {kv.Value}");
        foreach (string name in names) Assert.True(seen.ContainsKey(name), $"kernel {name} recorded no path");
        var wrong = seen.Where(kv => kv.Value != expected).Select(kv => $"{kv.Key}={kv.Value}").ToList();
        Assert.True(wrong.Count == 0, $"expected every kernel on {expected}, but: {string.Join(", ", wrong)}");
    }
}
