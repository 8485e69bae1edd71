using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Quanta.Bench;
using Quanta.Models.Conversion;
using Quanta.Planner.Performance;

namespace Quanta.Cli;

/// <summary>
/// `quanta plan twin (--model FILE.gguf ... | --shape 160m,llama-3.2-1b [--type q4_0]) [-t N] [--pp 512] [--tg 128]
/// [-r 3] [--streams 4,16] [--serve-prompt 128] [--serve-output 32] [--waves 2] [--bandwidth-seconds 2]
/// [--kernel-seconds 0.5] [--efficiency FILE]
/// [--fit-out FILE [--fit-on NAME]] [--steps-out FILE.csv] [--observations-out FILE.json] [--json]`, or
/// `quanta plan twin --fit-from FILE.json... [--fit-out FILE [--fit-on NAME]] [--steps-out FILE.csv]`: the CPU twin. In one run per model it measures this machine (read bandwidth, dot-kernel
/// rates) and the engine (pp, tg, TTFT and TPOT of concurrent streams through the serving engine), predicts the same
/// quantities with the planner from the machine figures of that run, and prints predicted, measured and error.
/// --shape generates random-weight models (as `quanta bench generate`) into a temporary folder first.
/// --fit-out also fits the CPU efficiency parameters on this run and writes them (the efficiency-cpu.json format);
/// --fit-on restricts the fit to the models whose file name contains NAME, the others being held out; every row is
/// then re-predicted with the fitted parameters and marked fit or held out. --steps-out writes every step the serving
/// engine ran in the serve waves (recorded by <see cref="StepRecorder"/>) with the twin's cost of it, one CSV row each.
/// --observations-out saves each model's run as the fit reads it (<see cref="CpuTwinObservationFile"/>); --fit-from
/// measures nothing and predicts (and with --fit-out fits on) the saved runs of one or more such files together (with
/// their recorded steps: the step rows, and --steps-out), e.g. runs
/// that drew the machine's two bandwidth states.
/// Progress on stderr; the table (or JSON) on stdout.
/// </summary>
public static class PlanTwinCommand
{
    /// <summary>The `twin` command (a subcommand of `plan`).</summary>
    public static Command Create()
    {
        var model = new Option<string[]>("--model", "-m") { Description = "GGUF model file; repeatable", AllowMultipleArgumentsPerToken = true };
        var shape = new Option<string?>("--shape") { Description = "generate random-weight models of these shapes (comma-separated: 160m, llama-3.2-1b)" };
        var type = new Option<string>("--type") { Description = "quantization of generated models", DefaultValueFactory = _ => "Q4_0" };
        var threads = new Option<int>("--threads", "-t") { Description = "threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var pp = new Option<int>("--pp") { Description = "prompt tokens of the pp test", DefaultValueFactory = _ => 512 };
        var tg = new Option<int>("--tg") { Description = "generated tokens of the tg test", DefaultValueFactory = _ => 128 };
        var reps = new Option<int>("--repetitions", "-r") { Description = "timed repetitions of pp and tg", DefaultValueFactory = _ => 3 };
        var streams = new Option<string>("--streams") { Description = "concurrent streams of the serve waves (comma-separated)", DefaultValueFactory = _ => "4,16" };
        var servePrompt = new Option<int>("--serve-prompt") { Description = "prompt tokens per serve request", DefaultValueFactory = _ => 128 };
        var serveOutput = new Option<int>("--serve-output") { Description = "output tokens per serve request", DefaultValueFactory = _ => 32 };
        var waves = new Option<int>("--waves") { Description = "waves per concurrency (averaged)", DefaultValueFactory = _ => 2 };
        var bw = new Option<double>("--bandwidth-seconds") { Description = "seconds of each bandwidth reading (one before and one after every measurement, which is repeated up to 3 times while they differ by more than 10%)", DefaultValueFactory = _ => 2.0 };
        var kernelSeconds = new Option<double>("--kernel-seconds") { Description = "seconds of each dot-kernel rate measurement (and of its warm-up)", DefaultValueFactory = _ => 0.5 };
        var effFile = new Option<string?>("--efficiency") { Description = "CPU efficiency parameters (efficiency.json format; default: the built-in efficiency-cpu.json)" };
        var fitOut = new Option<string?>("--fit-out") { Description = "fit the CPU efficiency parameters on this run and write them here" };
        var fitOn = new Option<string?>("--fit-on") { Description = "fit only on the models whose file name contains this (the others are held out)" };
        var stepsOut = new Option<string?>("--steps-out") { Description = "write every recorded serve-wave step (shape, executor time, loop time between steps, the twin's cost) to this CSV" };
        var obsOut = new Option<string?>("--observations-out") { Description = "write each model's run as the fit reads it (machine figures, every bracket's readings, workloads, measured values, recorded steps) to this JSON file, for a later --fit-from" };
        var fitFrom = new Option<string[]>("--fit-from") { Description = "measure nothing: read runs written by --observations-out (repeatable; e.g. runs in both bandwidth states), predict them and, with --fit-out, fit on them together", AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "machine-readable output" };
        var verbose = new Option<bool>("--verbose") { Description = "show stack traces on errors" };
        var cmd = new Command("twin", "CPU twin: measure this machine and the engine, predict with the planner, compare (one run).")
        {
            model, shape, type, threads, pp, tg, reps, streams, servePrompt, serveOutput, waves, bw, kernelSeconds, effFile, fitOut, fitOn, stepsOut, obsOut, fitFrom, json, verbose,
        };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            var options = new CpuTwinOptions
            {
                Threads = p.GetValue(threads),
                Prompt = p.GetValue(pp),
                Gen = p.GetValue(tg),
                Repetitions = p.GetValue(reps),
                Streams = ParseList(p.GetValue(streams) ?? "4,16"),
                ServePrompt = p.GetValue(servePrompt),
                ServeOutput = p.GetValue(serveOutput),
                Waves = p.GetValue(waves),
                BandwidthSeconds = p.GetValue(bw),
                KernelSeconds = p.GetValue(kernelSeconds),
            };
            options.Validate();
            var eff = p.GetValue(effFile) is string ef ? EfficiencyParameters.Load(ef) : CpuTwin.BuiltInEfficiency();
            if (p.GetValue(fitFrom) is { Length: > 0 } from)
            {
                if (p.GetValue(model) is { Length: > 0 } || p.GetValue(shape) is not null) throw new ArgumentException("--fit-from reads runs instead of measuring: leave out --model and --shape");
                return FitFrom(from, eff, p.GetValue(fitOut), p.GetValue(fitOn), p.GetValue(stepsOut), Console.Out);
            }
            var paths = (p.GetValue(model) ?? []).ToList();
            string? temp = null;
            using var progress = new Progress("plan twin");
            try
            {
                if (p.GetValue(shape) is string shapes)
                {
                    if (!GgufQuantType.TryParse(p.GetValue(type) ?? "Q4_0", out GgufQuantType qt)) throw new ArgumentException($"unknown --type '{p.GetValue(type)}'");
                    temp = Directory.CreateTempSubdirectory("quanta-twin-").FullName;
                    foreach (string s in shapes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!ModelShape.TryParse(s, out ModelShape ms)) throw new ArgumentException($"unknown --shape '{s}' (choose {string.Join(", ", ModelShape.Named.Select(x => x.Name))})");
                        string dest = Path.Combine(temp, $"{ms.Name}-{qt.Name}.gguf");
                        progress.LineSink()($"generating {Path.GetFileName(dest)}");
                        ModelGenerator.Generate(ms, qt, dest);
                        paths.Add(dest);
                    }
                }
                if (paths.Count == 0) throw new ArgumentException("give --model FILE.gguf or --shape NAME");
                var reports = new List<CpuTwinReport>();
                foreach (string path in paths) reports.Add(CpuTwinRunner.Run(path, options, eff, progress.LineSink()));
                progress.Done($"{reports.Sum(r => r.Rows.Count)} quantities compared");
                Fitted? fitted = null;
                if (p.GetValue(fitOut) is string fo)
                {
                    string? on = p.GetValue(fitOn);
                    var fitSet = reports.Where(r => on is null || r.Model.Contains(on, StringComparison.OrdinalIgnoreCase)).ToList();
                    if (fitSet.Count == 0) throw new ArgumentException($"--fit-on '{on}' matches none of the models ({string.Join(", ", reports.Select(r => r.Model))})");
                    var parameters = CpuTwinRunner.Fit(fitSet, eff);
                    File.WriteAllText(fo, parameters.ToJson() + Environment.NewLine);
                    fitted = new Fitted(parameters, reports.SelectMany(r => r.Repredict(parameters).Select(x => (Row: x, Fit: fitSet.Contains(r)))).ToList());
                }
                else if (p.GetValue(fitOn) is not null) throw new ArgumentException("--fit-on needs --fit-out");
                if (p.GetValue(stepsOut) is string so) WriteSteps(reports, fitted?.Parameters ?? eff, so);
                if (p.GetValue(obsOut) is string oo)
                    File.WriteAllText(oo, CpuTwinObservationFile.ToJson(reports.Select(r => r.Observation
                        ?? throw new InvalidOperationException($"{r.Model}: the report keeps no observation"))) + Environment.NewLine);
                if (p.GetValue(json)) WriteJson(reports, eff, fitted, Console.Out); else WriteText(reports, eff, fitted, Console.Out);
                return 0;
            }
            finally
            {
                if (temp != null) Directory.Delete(temp, recursive: true);
            }
        }));
        return cmd;
    }

    /// <summary>
    /// --fit-from: the runs of the given observation files (each model's name prefixed with its file's name when there
    /// are several files), predicted with <paramref name="eff"/> from their own machine figures; with
    /// <paramref name="fitOut"/> fitted together (those whose name contains <paramref name="fitOn"/>, the others held
    /// out) and re-predicted. Each row's state: its bracket's bandwidth and the bound (and overlap) of its typical step.
    /// </summary>
    private static int FitFrom(IReadOnlyList<string> files, EfficiencyParameters eff, string? fitOut, string? fitOn, string? stepsOut, TextWriter o)
    {
        var runs = files.SelectMany(f => CpuTwinObservationFile.Load(f)
            .Select(r => files.Count > 1 ? r with { Name = Path.GetFileNameWithoutExtension(f) + "/" + r.Name } : r)).ToList();
        if (runs.Count == 0) throw new ArgumentException("--fit-from: the files hold no runs");
        List<(CpuTwinRow Row, string Tag)> Rows(EfficiencyParameters e, Func<CpuTwinObservation, string> tag) =>
            runs.SelectMany(r => r.Predict(e).Select(x => (new CpuTwinRow(r.Name, x.Quantity, CpuTwinRunner.UnitOf(x.Quantity), x.Predicted, x.Measured)
            {
                State = string.Create(CultureInfo.InvariantCulture,
                    $"bw {(r.Bandwidths.TryGetValue(x.Quantity.StartsWith("tpot@", StringComparison.Ordinal) ? "ttft" + x.Quantity[4..] : x.Quantity, out double b) ? b : r.Machine.ReadBytesPerSecond) / 1e9:F1} GB/s{(r.JitSeconds.TryGetValue(x.Quantity, out double jit) ? $", jit {jit * 1e3:0.#} ms" : "")}, {r.BoundOf(e, x.Quantity)}"),
            }, tag(r)))).ToList();
        o.WriteLine($"{runs.Count} runs from {files.Count} file(s); CPU efficiency ({eff.FitDate}): {Describe(eff)}");
        o.WriteLine();
        WriteTable(Rows(eff, _ => ""), o);
        WriteSteps(runs, eff, o);
        if (fitOut is null)
        {
            if (fitOn is not null) throw new ArgumentException("--fit-on needs --fit-out");
            if (stepsOut is not null) WriteSteps(runs, eff, stepsOut);
            return 0;
        }
        var fitSet = runs.Where(r => fitOn is null || r.Name.Contains(fitOn, StringComparison.OrdinalIgnoreCase)).ToList();
        if (fitSet.Count == 0) throw new ArgumentException($"--fit-on '{fitOn}' matches none of the runs ({string.Join(", ", runs.Select(r => r.Name))})");
        var fitted = CpuTwinFit.Fit(fitSet, eff) with
        {
            RefitWith = "quanta plan twin --fit-from " + string.Join(' ', files.Select(Path.GetFileName)) + " --fit-out efficiency-cpu.json" + (fitOn is null ? "" : " --fit-on " + fitOn),
        };
        File.WriteAllText(fitOut, fitted.ToJson() + Environment.NewLine);
        o.WriteLine();
        o.WriteLine($"fitted on these runs (written to --fit-out): {Describe(fitted)}");
        o.WriteLine("re-predicted with the fitted parameters:");
        WriteTable(Rows(fitted, r => fitSet.Contains(r) ? "(fit)" : "(held out)"), o);
        WriteSteps(runs, fitted, o);
        if (stepsOut is not null) WriteSteps(runs, fitted, stepsOut);
        return 0;
    }

    private static List<int> ParseList(string text)
    {
        var list = new List<int>();
        foreach (string s in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            list.Add(int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0 ? v
                : throw new ArgumentException($"--streams takes positive counts separated by commas, got '{text}'"));
        return list;
    }

    private static double Mean(IReadOnlyList<double> x) => x.Count == 0 ? double.NaN : x.Average();

    private sealed record Fitted(EfficiencyParameters Parameters, IReadOnlyList<(CpuTwinRow Row, bool Fit)> Rows);

    private static string Describe(EfficiencyParameters e) => string.Create(CultureInfo.InvariantCulture,
        $"bandwidth {e.EffBandwidth:0.###}, compute {e.EffComputePrefill:0.###}, step overhead {e.StepOverheadS * 1e3:0.###} ms, per layer {e.LayerOverheadS * 1e3:0.###} ms, host {e.HostElementS * 1e9:0.###} ns/element, overlap k {e.OverlapK:0.###} where not measured{(e.SampleRowS > 0 ? $", sampling {e.SampleRowS * 1e6:0.###} µs/row (beyond the measured loop)" : "")}");

    private static void WriteTable(IEnumerable<(CpuTwinRow Row, string Tag)> rows, TextWriter o)
    {
        var ci = CultureInfo.InvariantCulture;
        var list = rows.ToList();
        o.WriteLine($"{"model",-28} {"quantity",-10} {"unit",-9} {"predicted",10} {"measured",10} {"error",8}");
        foreach (var (x, tag) in list)
            o.WriteLine(string.Create(ci, $"{x.Model,-28} {x.Quantity,-10} {x.Unit,-9} {x.Predicted,10:F2} {x.Measured,10:F2} {x.ErrorPercent,7:+0.0;-0.0}% {tag} {(x.State.Length > 0 ? "[" + x.State + "]" : "")}").TrimEnd());
        o.WriteLine(string.Create(ci, $"within 15%: {list.Count(x => Math.Abs(x.Row.ErrorPercent) <= 15)} of {list.Count}; mean |error| {list.Average(x => Math.Abs(x.Row.ErrorPercent)):F1}%, max {list.Max(x => Math.Abs(x.Row.ErrorPercent)):F1}%"));
    }

    private static void WriteText(IReadOnlyList<CpuTwinReport> reports, EfficiencyParameters eff, Fitted? fitted, TextWriter o)
    {
        var ci = CultureInfo.InvariantCulture;
        foreach (var r in reports)
        {
            var m = r.Machine;
            o.WriteLine(string.Create(ci, $"{r.Model}: read bandwidth {m.ReadBytesPerSecond / 1e9:F2} GB/s (mean of {r.Bandwidths.Count} readings: {string.Join(", ", r.Bandwidths.Select(b => (b / 1e9).ToString("F1", ci)))}), weight dot kernels {m.MatmulOpsPerSecond / 1e9:F1} GOP/s (readings: {string.Join(", ", r.MatmulRates.Select(b => (b / 1e9).ToString("F1", ci)))}), FP32 dot {m.Fp32OpsPerSecond / 1e9:F1} GFLOP/s, {m.Threads} threads, {r.WeightBytes / 1e6:F1} MB of weights per token"));
            o.WriteLine(string.Create(ci, $"  layers' GEMM GOP/s at m = {string.Join(", ", m.GemmRates.Select(g => $"{g.M}: {g.OpsPerSecond / 1e9:F1}"))}"));
            if (m.HeadGemmRates.Count > 0)
                o.WriteLine(string.Create(ci, $"  output head's GEMM GOP/s at m = {string.Join(", ", m.HeadGemmRates.Select(g => $"{g.M}: {g.OpsPerSecond / 1e9:F1}"))}"));
            o.WriteLine(string.Create(ci, $"  attention GFLOP/s: decode row {m.AttentionRate / 1e9:F2} (readings: {string.Join(", ", r.AttentionRates.Select(b => (b / 1e9).ToString("F2", ci)))}), prefill 4-row blocks {m.PrefillAttentionRate / 1e9:F2} (readings: {string.Join(", ", r.PrefillAttentionRates.Select(b => (b / 1e9).ToString("F2", ci)))}); serving engine's paged cache: decode row {Mean(r.PagedAttentionRates) / 1e9:F2}, prefill blocks {Mean(r.PagedPrefillAttentionRates) / 1e9:F2}"));
            o.WriteLine(string.Create(ci, $"  serving loop outside the executor (from {r.RecordedWaves.Sum(w => w.Steps.Count)} recorded steps): {m.LoopStepSeconds * 1e3:0.###} ms per step + {m.LoopRowSeconds * 1e6:0.#} µs per sampled row"));
        }
        o.WriteLine($"CPU efficiency ({eff.FitDate}): {Describe(eff)}");
        o.WriteLine();
        WriteTable(reports.SelectMany(r => r.Rows).Select(x => (x, "")), o);
        WriteSteps(reports, eff, o);
        // the same rows with the roofline's overlap not read from the brackets' streamed products (k = overlap_k): what
        // the measured overlap changed
        var plain = reports.Where(r => r.Observation is { StreamedRates.Count: > 0 })
            .Select(r => r with { Observation = r.Observation! with { StreamedRates = new Dictionary<string, double>() } }).ToList();
        if (plain.Count > 0)
        {
            o.WriteLine();
            o.WriteLine(string.Create(ci, $"the same without the measured overlap (every product at k = overlap_k {eff.OverlapK:0.###}):"));
            WriteTable(plain.SelectMany(r => r.Repredict(eff)).Select(x => (x, "")), o);
        }
        if (fitted != null)
        {
            o.WriteLine();
            o.WriteLine($"fitted on this run (written to --fit-out): {Describe(fitted.Parameters)}");
            o.WriteLine("re-predicted with the fitted parameters:");
            WriteTable(fitted.Rows.Select(x => (x.Row, x.Fit ? "(fit)" : "(held out)")), o);
            WriteSteps(reports, fitted.Parameters, o);
        }
    }

    private static void WriteSteps(IReadOnlyList<CpuTwinReport> reports, EfficiencyParameters eff, string path) =>
        WriteSteps(reports.Select(r => r.Observation).OfType<CpuTwinObservation>().ToList(), eff, path);

    private static void WriteSteps(IReadOnlyList<CpuTwinObservation> runs, EfficiencyParameters eff, string path)
    {
        var ci = CultureInfo.InvariantCulture;
        using var w = new StreamWriter(path);
        w.WriteLine("model,streams,wave,step,sequences,tokens,prefill,decode,logits,kv_read,pairs,start_s,execute_s,gap_s,model_s,body_s,head_s,attention_s,host_s,overhead_s");
        foreach (var obs in runs)
            foreach (var g in obs.ServeSteps.GroupBy(x => x.Streams))
            {
                var model = obs.ModelFor(eff, string.Create(ci, $"ttft@{g.Key}"));
                int wave = 0;
                foreach (var steps in g.Select(x => x.Steps))
                {
                    for (int i = 0; i < steps.Count; i++)
                    {
                        var s = steps[i];
                        var sh = s.Shape;
                        var c = model.Cost(sh.Tokens, sh.LogitsRows, 0, sh.KvReadTokens, sh.AttendedPairs,
                            sh.PrefillTokens == 0 ? sh.AttendedPairs : Math.Min(sh.DecodePairs, sh.AttendedPairs));
                        w.WriteLine(string.Create(ci, $"{obs.Name},{g.Key},{wave},{i},{sh.Sequences},{sh.Tokens},{sh.PrefillTokens},{sh.DecodeTokens},{sh.LogitsRows},{sh.KvReadTokens},{sh.AttendedPairs},{s.StartSeconds:G6},{s.ExecuteSeconds:G6},{s.GapSeconds:G6},{c.Seconds:G6},{c.MatmulSeconds:G6},{c.HeadSeconds:G6},{c.AttentionSeconds:G6},{c.HostSeconds:G6},{c.OverheadSeconds:G6}"));
                    }
                    wave++;
                }
            }
    }

    private static void WriteSteps(IReadOnlyList<CpuTwinReport> reports, EfficiencyParameters eff, TextWriter o) =>
        WriteSteps(reports.Select(r => r.Observation).OfType<CpuTwinObservation>().ToList(), eff, o);

    private static void WriteSteps(IReadOnlyList<CpuTwinObservation> runs, EfficiencyParameters eff, TextWriter o)
    {
        var ci = CultureInfo.InvariantCulture;
        var rows = runs.SelectMany(r => r.PredictSteps(eff).Select(x => (r.Name, x.Quantity, x.Predicted, x.Measured))).ToList();
        if (rows.Count == 0) return;
        o.WriteLine("serving engine's executor time, recorded steps summed (the fit's step rows):");
        foreach (var (model, q, p, m) in rows)
            o.WriteLine(string.Create(ci, $"  {model,-26} {q,-18} predicted {p * 1e3,10:F1} ms, measured {m * 1e3,10:F1} ms, {100 * (p - m) / m,7:+0.0;-0.0}%"));
    }

    private static object Params(EfficiencyParameters e) => new
    {
        fit_date = e.FitDate, eff_bandwidth = e.EffBandwidth, eff_compute = e.EffComputePrefill, step_overhead_s = e.StepOverheadS,
        layer_overhead_s = e.LayerOverheadS, host_element_s = e.HostElementS, sample_row_s = e.SampleRowS, overlap_k = e.OverlapK,
    };

    private static void WriteJson(IReadOnlyList<CpuTwinReport> reports, EfficiencyParameters eff, Fitted? fitted, TextWriter o)
    {
        var doc = new
        {
            efficiency = Params(eff),
            fitted = fitted is null ? null : Params(fitted.Parameters),
            refit_rows = fitted?.Rows.Select(x => new { model = x.Row.Model, quantity = x.Row.Quantity, predicted = x.Row.Predicted, measured = x.Row.Measured, error = x.Row.ErrorPercent, fit = x.Fit, state = x.Row.State }),
            models = reports.Select(r => new
            {
                model = r.Model,
                read_bytes_per_second = r.Machine.ReadBytesPerSecond,
                bandwidth_readings = r.Bandwidths,
                matmul_rate_readings = r.MatmulRates,
                matmul_ops_per_second = r.Machine.MatmulOpsPerSecond,
                fp32_ops_per_second = r.Machine.Fp32OpsPerSecond,
                gemm_ops_per_second = r.Machine.GemmRates.Select(g => new { m = g.M, ops_per_second = g.OpsPerSecond }),
                head_gemm_ops_per_second = r.Machine.HeadGemmRates.Select(g => new { m = g.M, ops_per_second = g.OpsPerSecond }),
                gemm_readings = r.GemmReadings.Select(x => x.Select(g => new { m = g.M, ops_per_second = g.OpsPerSecond })),
                head_gemm_readings = r.HeadGemmReadings.Select(x => x.Select(g => new { m = g.M, ops_per_second = g.OpsPerSecond })),
                attention_ops_per_second = r.Machine.AttentionRate,
                prefill_attention_ops_per_second = r.Machine.PrefillAttentionRate,
                loop_step_seconds = r.Machine.LoopStepSeconds,
                loop_row_seconds = r.Machine.LoopRowSeconds,
                step_rows = r.Observation?.PredictSteps(eff).Select(x => new { quantity = x.Quantity, predicted_s = x.Predicted, measured_s = x.Measured }),
                attention_rate_readings = r.AttentionRates,
                threads = r.Machine.Threads,
                weight_bytes = r.WeightBytes,
                rows = r.Rows.Select(x => new { quantity = x.Quantity, unit = x.Unit, predicted = x.Predicted, measured = x.Measured, error = x.ErrorPercent, state = x.State }),
            }),
        };
        o.WriteLine(JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
    }
}
