using System.Text.Json;
using Quanta.Cuda.Diagnostics;
using Quanta.Cuda.Energy;
using Quanta.Cuda.Kernels;

namespace Quanta.Cuda.Tests;

/// <summary>The device script's code path (`quanta gpu check/bench`) on the CPU simulation, and the NVML source's arithmetic.</summary>
[Trait("Category", "Gpu")]
public sealed class DiagnosticsTests(BackendFixture fx) : IClassFixture<BackendFixture>
{
    [Fact]
    public void Kernel_and_logits_checks_pass_on_the_simulation_and_report_as_json()
    {
        int seed = Random.Shared.Next();
        var checks = KernelChecks.Run(fx.Backend, KernelChecks.Sizes.Small, seed).Concat(LogitsCheck.Run(fx.Backend, RandomDecoderModel.Tiny(), seed, 5, 1, 1)).ToList();
        Assert.True(checks.Count >= 14, $"{checks.Count} checks");
        foreach (var c in checks) Assert.True(c.Passed, $"seed {seed}: {c.Name}: {c.Error} > {c.Tolerance} ({c.Detail})");
        using var doc = JsonDocument.Parse(DiagnosticsReport.Json("sim", checks, [new BenchFigure("x", double.NaN, "u", "d")]));
        Assert.Equal(checks.Count, doc.RootElement.GetProperty("checks").GetArrayLength());
        Assert.Equal("NaN", doc.RootElement.GetProperty("figures")[0].GetProperty("value").GetString());
        Assert.DoesNotContain("| max |", DiagnosticsReport.Markdown("sim", checks, []));   // pipes escaped in cells
    }

    [Fact]
    public void Benchmarks_run_end_to_end_on_a_tiny_shape_with_energy_per_token()
    {
        double counter = 1000;
        var power = new NvmlPowerSource(() => counter += 2, "fake");
        var o = new DeviceBenchmarks.Options(RandomDecoderModel.Tiny(), 4, 2, 2, 3, 6, 0, 2, 2, 1);
        var figures = DeviceBenchmarks.Run(fx.Backend, o, DeviceFormat.Fp8E4M3, 1e12, power, "NVIDIA H100 80GB HBM3");
        var names = figures.Select(f => f.Name).ToHashSet();
        foreach (string n in new[] { "fp8e4m3/decode-b1-nograph/fraction-of-hbm-bound", "fp8e4m3/decode-b1-graphs-unavailable/ms-per-token", "fp8e4m3/decode-b2/tokens-per-s", "fp8e4m3/prefill-6/fraction-of-tensor-core-peak", "fp8e4m3/prefill-6/joules-per-token" })
            Assert.Contains(n, names);
        Assert.All(figures, f => Assert.True(double.IsFinite(f.Value) && f.Value >= 0, f.Name));
        // the energy windows read the counter around their steps (and the executor per step): 2 J per read
        var jb1 = figures.Single(f => f.Name == "fp8e4m3/decode-b1-graphs-unavailable/joules-per-token").Value;
        Assert.True(jb1 > 0);
    }

    [Fact]
    public void Nvml_source_reports_energy_since_creation_and_is_measured()
    {
        double c = 5000;
        var s = new NvmlPowerSource(() => c, "n");
        Assert.Equal(0, s.ReadEnergyJoules());
        c += 12.5;
        Assert.Equal(12.5, s.ReadEnergyJoules());
        Assert.False(s.IsEstimated);
        s.ReportUtilization(1);   // ignored by a measured source
        Assert.Equal(12.5, s.ReadEnergyJoules());
    }

    [Fact]
    public void Tensor_core_peaks_and_matrix_parameters()
    {
        Assert.Equal(989.4e12, TensorCorePeak.For("NVIDIA H100 80GB HBM3", DeviceFormat.BF16));
        Assert.Equal(1978.9e12, TensorCorePeak.For("NVIDIA H200", DeviceFormat.Fp8E4M3));
        Assert.Equal(756e12, TensorCorePeak.For("NVIDIA H100 PCIe", DeviceFormat.BF16));
        Assert.Null(TensorCorePeak.For("NVIDIA A100-SXM4-80GB", DeviceFormat.BF16));
        // Llama-3.1-8B: 8.03 B parameters, of which the embedding (0.525 B) is no matrix product
        long p = DeviceBenchmarks.MatrixParameters(RandomDecoderModel.Llama31_8B());
        Assert.InRange(p, 7.45e9, 7.55e9);
    }
}
