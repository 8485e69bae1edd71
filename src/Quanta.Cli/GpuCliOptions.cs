using System.CommandLine;
using Quanta.Cuda.Device;
using Quanta.Cuda.Energy;
using Quanta.Cuda.Execution;
using Quanta.Cuda.Interop;
using Quanta.Cuda.Kernels;

namespace Quanta.Cli;

/// <summary>
/// The `--gpu` options shared by `quanta run` and `quanta serve`: --gpu runs the LLM on CUDA device 0 (cuBLASLt
/// products, ILGPU kernels, NVML energy), --gpu-format picks the weight format on the device (bf16, fp8). A hidden
/// --gpu-simulated runs the same executor on ILGPU's CPU accelerator (slow; for tests on machines without a GPU).
/// </summary>
internal sealed class GpuCliOptions
{
    public Option<bool> Gpu { get; } = new("--gpu") { Description = "run the LLM on CUDA device 0 (cuBLASLt and ILGPU kernels; energy from NVML)" };

    public Option<string> Format { get; } = new("--gpu-format") { Description = "weight format on the GPU: bf16 or fp8 (E4M3)", DefaultValueFactory = _ => "bf16" };

    public Option<bool> Simulated { get; } = new("--gpu-simulated")
    {
        Description = "with --gpu: run the GPU executor on ILGPU's CPU accelerator instead of CUDA (slow; tests)",
        Hidden = true,
    };

    /// <summary>The options, for adding to a command.</summary>
    public Option[] All => [Gpu, Format, Simulated];

    /// <summary>The weight format --gpu-format names.</summary>
    public DeviceFormat ParseFormat(ParseResult p) => p.GetValue(Format)!.ToLowerInvariant() switch
    {
        "bf16" => DeviceFormat.BF16,
        "fp8" => DeviceFormat.Fp8E4M3,
        var f => throw new ArgumentException($"--gpu-format: unknown format '{f}' (bf16, fp8)"),
    };

    /// <summary>
    /// Null without --gpu; otherwise the opened device (CUDA, or the CPU simulation with --gpu-simulated) with NVML energy
    /// where the machine has it. Throws <see cref="CudaUnavailableException"/> without a driver or cuBLASLt.
    /// </summary>
    public GpuSession? Open(ParseResult p, string command)
    {
        if (!p.GetValue(Gpu))
        {
            if (p.GetValue(Simulated)) throw new ArgumentException("--gpu-simulated needs --gpu");
            return null;
        }
        DeviceFormat format = ParseFormat(p);
        if (p.GetValue(Simulated)) return new GpuSession(GpuBackend.CreateCpuSimulation(), format, null);
        GpuBackend backend = GpuBackend.CreateCuda();
        NvmlPowerSource? power = null;
        try
        {
            power = new NvmlPowerSource();
        }
        catch (Exception e) when (e is CudaUnavailableException or CudaException)
        {
            Console.Error.WriteLine($"quanta {command}: no NVML energy ({e.Message}); energy falls back to the power model");
        }
        return new GpuSession(backend, format, power);
    }
}

/// <summary>An opened GPU for one command: the backend, the weight format and the energy meter (null without NVML). Owns both.</summary>
internal sealed class GpuSession(GpuBackend backend, DeviceFormat format, NvmlPowerSource? power) : IDisposable
{
    public GpuBackend Backend { get; } = backend;

    public DeviceFormat Format { get; } = format;

    public NvmlPowerSource? Power { get; } = power;

    /// <summary>The serving engine's executor factory for this device.</summary>
    public Func<Quanta.Engine.Execution.ExecutorRequest, Quanta.Engine.Execution.IExecutor> ExecutorFactory() =>
        GpuServing.ExecutorFactory(Backend, new GpuWeightOptions(Format), Power);

    public void Dispose()
    {
        Power?.Dispose();
        Backend.Dispose();
    }
}
