using System.CommandLine;
using Quanta.Cuda.Device;
using Quanta.Cuda.Diagnostics;
using Quanta.Cuda.Energy;
using Quanta.Cuda.Interop;
using Quanta.Cuda.Kernels;
using Quanta.Engine.Energy;

namespace Quanta.Cli;

/// <summary>
/// `quanta gpu info|check|bench`: the NVIDIA GPU's description; the kernel and logits checks against the CPU
/// (exit 2 when one fails); the benchmarks (HBM bound, 8B-shape decode at batch 1 and 64, 2,048-token prefill, NVML
/// joules per token). Results go to stdout and, with --out DIR, to DIR/gpu-check.{json,md} or DIR/gpu-bench.{json,md}.
/// --simulate runs the same code on ILGPU's CPU accelerator with small shapes (no GPU needed). Without the NVIDIA
/// driver (or cuBLASLt) the command stops at the first CUDA call with exit code 3 and a message naming the library.
/// </summary>
internal static class GpuCommand
{
    /// <summary>Exit code when no usable GPU stack is present.</summary>
    public const int NoDevice = 3;

    public static Command Create()
    {
        var cmd = new Command("gpu", "Check and benchmark the NVIDIA GPU executor (CUDA driver, cuBLASLt, NVML).");
        cmd.Subcommands.Add(Info());
        cmd.Subcommands.Add(Check());
        cmd.Subcommands.Add(Bench());
        return cmd;
    }

    private static Option<string?> OutOption() => new("--out", "-o") { Description = "directory for the JSON and Markdown results" };
    private static Option<int> DeviceOption() => new("--device") { Description = "CUDA device ordinal", DefaultValueFactory = _ => 0 };
    private static Option<bool> SimulateOption() => new("--simulate") { Description = "run on ILGPU's CPU accelerator with small shapes (no GPU)" };
    private static Option<bool> VerboseOption() => new("--verbose") { Description = "show stack traces on errors" };

    private static Command Info()
    {
        var device = DeviceOption();
        var verbose = VerboseOption();
        var cmd = new Command("info", "Show the CUDA driver, device, cuBLASLt and NVML that would be used.") { device, verbose };
        cmd.SetAction(p => Guard(p.GetValue(verbose), () =>
        {
            Console.WriteLine($"CUDA driver: {CudaDriver.DriverVersion() / 1000}.{CudaDriver.DriverVersion() % 1000 / 10}, {CudaDriver.DeviceCount()} device(s)");
            using (var dev = CudaDevice.Open(p.GetValue(device)))
                Console.WriteLine($"device {dev.Ordinal}: {dev.Name}, compute {dev.ComputeCapability.Major}.{dev.ComputeCapability.Minor}, " +
                    $"{dev.Multiprocessors} SMs, {dev.TotalMemoryBytes / (1L << 30)} GiB");
            Console.WriteLine(NativeLibraries.IsAvailable(NvidiaLibrary.CublasLt) ? $"cuBLASLt: version {CublasLt.Version()}" : "cuBLASLt: not found");
            try
            {
                using var nvml = NvmlDevice.Open((uint)p.GetValue(device));
                Console.WriteLine($"NVML: power {nvml.PowerWatts():F0} W, energy counter {nvml.TotalEnergyJoules():F0} J");
            }
            catch (CudaUnavailableException e)
            {
                Console.WriteLine($"NVML: {e.Message}");
            }
            return 0;
        }));
        return cmd;
    }

    private static Command Check()
    {
        var outDir = OutOption();
        var device = DeviceOption();
        var simulate = SimulateOption();
        var verbose = VerboseOption();
        var seedOpt = new Option<int?>("--seed") { Description = "random seed (default: fresh, printed)" };
        var cmd = new Command("check", "Each GPU kernel and the Llama-3.2-1B-shape logits against the CPU executor.") { outDir, device, simulate, seedOpt, verbose };
        cmd.SetAction(p => Guard(p.GetValue(verbose), () =>
        {
            bool sim = p.GetValue(simulate);
            int seed = p.GetValue(seedOpt) ?? Random.Shared.Next();
            using GpuBackend b = sim ? GpuBackend.CreateCpuSimulation() : GpuBackend.CreateCuda(p.GetValue(device));
            string name = Describe(b);
            Console.Error.WriteLine($"quanta gpu check: {name}, seed {seed}");
            var checks = new List<CheckResult>(KernelChecks.Run(b, sim ? KernelChecks.Sizes.Small : KernelChecks.Sizes.Device, seed));
            var shape = sim ? RandomDecoderModel.Tiny() : RandomDecoderModel.Llama32_1B();
            checks.AddRange(KernelChecks.Guarded("logits", () => LogitsCheck.Run(b, shape, seed, sim ? 6 : 16, sim ? 2 : 4, Environment.ProcessorCount)));
            Write(p.GetValue(outDir), "gpu-check", name + $" (seed {seed})", checks, []);
            return checks.All(c => c.Passed) ? 0 : 2;
        }));
        return cmd;
    }

    private static Command Bench()
    {
        var outDir = OutOption();
        var device = DeviceOption();
        var simulate = SimulateOption();
        var verbose = VerboseOption();
        var formats = new Option<string>("--formats") { Description = "weight formats: bf16, fp8 or both", DefaultValueFactory = _ => "bf16,fp8" };
        var cmd = new Command("bench", "HBM bound, 8B-shape decode (batch 1 and 64) and 2,048-token prefill, with NVML joules per token.")
            { outDir, device, simulate, formats, verbose };
        cmd.SetAction(p => Guard(p.GetValue(verbose), () =>
        {
            bool sim = p.GetValue(simulate);
            var fmts = p.GetValue(formats)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(f => f.ToLowerInvariant() switch
            {
                "bf16" => DeviceFormat.BF16,
                "fp8" => DeviceFormat.Fp8E4M3,
                _ => throw new ArgumentException($"--formats: unknown format '{f}' (bf16, fp8)"),
            }).ToArray();
            int ordinal = p.GetValue(device);
            var figures = new List<BenchFigure>();
            double hbm = 0;
            if (!sim)
            {
                hbm = HbmBandwidth.Measure(ordinal, 4L << 30, 20);
                figures.Add(new("hbm/copy-bandwidth", hbm / 1e12, "TB/s", "4 GiB device-to-device copy, read + write"));
                Console.Error.WriteLine($"quanta gpu bench: HBM {hbm / 1e12:F2} TB/s");
            }
            using GpuBackend b = sim ? GpuBackend.CreateCpuSimulation() : GpuBackend.CreateCuda(ordinal);
            string name = Describe(b);
            NvmlPowerSource? power = null;
            try
            {
                if (!sim) power = new NvmlPowerSource((uint)ordinal);
            }
            catch (Exception e) when (e is CudaUnavailableException or CudaException)
            {
                Console.Error.WriteLine($"quanta gpu bench: no energy figures: {e.Message}");
            }
            using (power)
            {
                var options = sim
                    ? new DeviceBenchmarks.Options(RandomDecoderModel.Tiny(), 8, 2, 3, 4, 12, 1, 2, 2, 1)
                    : DeviceBenchmarks.Options.Issue;
                foreach (var f in fmts)
                {
                    try
                    {
                        figures.AddRange(DeviceBenchmarks.Run(b, options, f, hbm, power, name, m => Console.Error.WriteLine($"quanta gpu bench: {m}")));
                    }
                    catch (Exception e) when (e is not CudaUnavailableException)
                    {
                        // weights or executor set-up failed for this format: report it and go on with the next
                        figures.Add(new($"{f.ToString().ToLowerInvariant()}/error", double.NaN, "error", $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ")));
                        Console.Error.WriteLine($"quanta gpu bench: {f} failed: {e}");
                    }
                    WriteFiles(p.GetValue(outDir), "gpu-bench", name, [], figures);   // keep what is measured if a later format fails
                }
            }
            Write(p.GetValue(outDir), "gpu-bench", name, [], figures);
            return figures.Any(f => f.Unit == "error") ? 2 : 0;
        }));
        return cmd;
    }

    private static string Describe(GpuBackend b) =>
        b.IsCuda ? $"{b.Accelerator.Name} (ILGPU CUDA, {b.MatMul.Name})" : $"CPU simulation (ILGPU CPU accelerator, {b.MatMul.Name} matrix products)";

    private static void Write(string? dir, string stem, string device, IReadOnlyList<CheckResult> checks, IReadOnlyList<BenchFigure> figures)
    {
        Console.Write(DiagnosticsReport.Markdown(device, checks, figures));
        WriteFiles(dir, stem, device, checks, figures);
    }

    private static void WriteFiles(string? dir, string stem, string device, IReadOnlyList<CheckResult> checks, IReadOnlyList<BenchFigure> figures)
    {
        string md = DiagnosticsReport.Markdown(device, checks, figures);
        if (string.IsNullOrEmpty(dir)) return;
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, stem + ".md"), md);
        File.WriteAllText(Path.Combine(dir, stem + ".json"), DiagnosticsReport.Json(device, checks, figures));
    }

    /// <summary>Like <see cref="CliRunner.Run"/>, with a missing GPU stack reported as exit code <see cref="NoDevice"/>.</summary>
    private static int Guard(bool verbose, Func<int> body) => CliRunner.Run(verbose, () =>
    {
        try
        {
            return body();
        }
        catch (CudaUnavailableException e)
        {
            Console.Error.WriteLine($"quanta: error: {e.Message}");
            if (verbose) Console.Error.WriteLine(e);
            return NoDevice;
        }
    });
}
