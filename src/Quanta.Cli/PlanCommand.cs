using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Quanta.Planner.Catalogs;
using Quanta.Planner.Charts;
using Quanta.Planner.Fleet;
using Quanta.Planner.Performance;
using Quanta.Planner.Simulation;
using Quanta.Planner.Validation;

namespace Quanta.Cli;

/// <summary>
/// `quanta plan ...`: the GPU-twin planner. `validate FILE.csv` predicts measured rows and prints the errors;
/// `fit` prints the memory fit of a model on a device; `devices` / `models` list the catalogs; `calibrate` re-fits
/// the efficiency parameters on chosen rows; `size` sizes a fleet per device type (simulating one replica) with costs,
/// energy and charts; `simulate` runs one replica against an arrival process. Results go to stdout (markdown tables or
/// --json); chart paths and progress go to stderr; errors are one line on stderr.
/// </summary>
internal static class PlanCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var cmd = new Command("plan", "Plan deployments: memory fit, performance model, validation against measurements.")
        {
            Validate(), Fit(), Devices(), Models(), Calibrate(), Size(), Simulate(), PlanTwinCommand.Create(),
        };
        return cmd;
    }

    private static Option<string[]> DeviceFiles() => new("--devices-file") { Description = "extra device catalog (devices.json format); repeatable", AllowMultipleArgumentsPerToken = false };

    private static Option<string[]> ModelFiles() => new("--models-file") { Description = "extra model catalog (models.json format); repeatable" };

    private static Option<string?> EfficiencyFile() => new("--efficiency") { Description = "efficiency parameters file (efficiency.json format; default: the built-in fit)" };

    private static Option<bool> Json() => new("--json") { Description = "machine-readable output (snake_case JSON)" };

    private static Option<bool> Verbose() => new("--verbose") { Description = "show stack traces on errors" };

    private static Command Validate()
    {
        var file = new Argument<string>("file") { Description = "CSV of measured results in the calibration.csv format" };
        var json = Json(); var verbose = Verbose(); var dev = DeviceFiles(); var mod = ModelFiles(); var eff = EfficiencyFile();
        var cmd = new Command("validate", "Predict each measured row and print the signed error and the MAPE summary.") { file, json, verbose, dev, mod, eff };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            var rows = CalibrationRow.Load(p.GetValue(file)!);
            var e = p.GetValue(eff) is string ef ? EfficiencyParameters.Load(ef) : EfficiencyParameters.BuiltIn();
            var predictor = new RowPredictor(DeviceCatalog.Load(p.GetValue(dev) ?? []), ModelCatalog.Load(p.GetValue(mod) ?? []));
            var report = Validator.Run(rows, predictor, e);
            if (p.GetValue(json)) WriteValidationJson(report, e, Console.Out); else WriteValidationText(report, e, Console.Out);
            return 0;
        }));
        return cmd;
    }

    private static Command Calibrate()
    {
        var file = new Argument<string>("file") { Description = "CSV of measured results in the calibration.csv format" };
        var rowsOpt = new Option<string>("--rows") { Description = "comma-separated ids of the rows to fit on", Required = true };
        var output = new Option<string?>("--out", "-o") { Description = "write the fitted efficiency.json here (default: stdout)" };
        var holdOpt = new Option<string[]>("--hold") { Description = "keep a parameter at a value instead of fitting it, NAME=VALUE (e.g. step_overhead_s=0.001); repeatable" };
        var verbose = Verbose(); var dev = DeviceFiles(); var mod = ModelFiles();
        var cmd = new Command("calibrate", "Fit the efficiency parameters by least squares on chosen rows.") { file, rowsOpt, output, holdOpt, verbose, dev, mod };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            var rows = CalibrationRow.Load(p.GetValue(file)!);
            var ids = p.GetValue(rowsOpt)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var predictor = new RowPredictor(DeviceCatalog.Load(p.GetValue(dev) ?? []), ModelCatalog.Load(p.GetValue(mod) ?? []));
            var hold = new Dictionary<string, double>();
            foreach (string h in p.GetValue(holdOpt) ?? [])
            {
                int eq = h.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0 || !double.TryParse(h.AsSpan(eq + 1), System.Globalization.NumberStyles.Float, Inv, out double hv))
                    throw new ArgumentException($"--hold expects NAME=VALUE, got '{h}'");
                hold[h[..eq].Trim()] = hv;
            }
            var fitted = EfficiencyFitter.Fit(rows, ids, predictor, EfficiencyParameters.BuiltIn(), DateOnly.FromDateTime(DateTime.UtcNow), hold);
            string text = fitted.ToJson();
            if (p.GetValue(output) is string o) File.WriteAllText(o, text + Environment.NewLine); else Console.Out.WriteLine(text);
            return 0;
        }));
        return cmd;
    }

    private static Command Fit()
    {
        var model = new Option<string>("--model", "-m") { Description = "catalog model name, GGUF / safetensors file, or config.json", Required = true };
        var device = new Option<string>("--device", "-d") { Description = "catalog device name", Required = true };
        var precision = new Option<string>("--precision") { Description = "weight precision: bf16, fp16, fp8, int8, int4, fp4", DefaultValueFactory = _ => "bf16" };
        var kvPrecision = new Option<string?>("--kv-precision") { Description = "KV-cache precision (default: fp8 with 8/4-bit weights, else fp16)" };
        var context = new Option<int?>("--context", "-c") { Description = "tokens per sequence (default: 4096)" };
        var json = Json(); var verbose = Verbose(); var dev = DeviceFiles(); var mod = ModelFiles();
        var cmd = new Command("fit", "Memory fit of a model on a device: tier, max batch x context, devices needed.") { model, device, precision, kvPrecision, context, json, verbose, dev, mod };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            int ctx = p.GetValue(context) ?? 4096;
            if (ctx <= 0) throw new ArgumentException($"--context must be positive, got {ctx}");
            var m = ModelCatalog.Load(p.GetValue(mod) ?? []).Resolve(p.GetValue(model)!);
            var d = DeviceCatalog.Load(p.GetValue(dev) ?? []).Get(p.GetValue(device)!);
            var w = PrecisionInfo.Parse(p.GetValue(precision)!);
            var kv = p.GetValue(kvPrecision) is string k ? PrecisionInfo.Parse(k) : PrecisionInfo.DefaultKv(w);
            var f = MemoryFit.Compute(m, d, w, kv, ctx);
            if (p.GetValue(json)) WriteFitJson(m, d, w, kv, ctx, f, Console.Out); else WriteFitText(m, d, w, kv, ctx, f, Console.Out);
            return 0;
        }));
        return cmd;
    }

    private static Command Devices()
    {
        var json = Json(); var verbose = Verbose(); var dev = DeviceFiles();
        var cmd = new Command("devices", "List the device catalog.") { json, verbose, dev };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            var cat = DeviceCatalog.Load(p.GetValue(dev) ?? []);
            var o = Console.Out;
            if (p.GetValue(json))
            {
                o.WriteLine(JsonSerializer.Serialize(new { devices = cat.Devices }, JsonOpts));
                return 0;
            }
            o.WriteLine($"{"id",-22} {"memory",8} {"TB/s",7} {"fp16",8} {"fp8",8} {"int8",8} {"fp4",8} {"TDP W",7} {"$/h",6}  tier");
            foreach (var d in cat.Devices)
                o.WriteLine($"{d.Id,-22} {N(d.MemoryGb),8} {N(d.MemBwTbS),7} {N(d.Fp16Tflops),8} {N(d.Fp8Tflops),8} {N(d.Int8Tops),8} {N(d.Fp4Tflops),8} {N(d.TdpW),7} {N(d.PriceUsdPerHour),6}  {d.Tier}");
            return 0;
        }));
        return cmd;
    }

    private static Command Models()
    {
        var json = Json(); var verbose = Verbose(); var mod = ModelFiles();
        var cmd = new Command("models", "List the model catalog.") { json, verbose, mod };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            var cat = ModelCatalog.Load(p.GetValue(mod) ?? []);
            var o = Console.Out;
            if (p.GetValue(json))
            {
                o.WriteLine(JsonSerializer.Serialize(new { models = cat.Models }, JsonOpts));
                return 0;
            }
            o.WriteLine($"{"id",-16} {"kind",-7} {"params",9} {"layers",6} {"hidden",6} {"heads",5} {"kv",3} {"experts",7}  source");
            foreach (var m in cat.Models)
                o.WriteLine(string.Create(Inv, $"{m.Id,-16} {m.Kind,-7} {m.TotalParams / 1e9,8:0.00}B {m.Layers,6} {m.Hidden,6} {m.Heads,5} {m.KvHeads,3} {(m.Experts > 1 ? $"{m.ActiveExperts}/{m.Experts}" : "-"),7}  {m.Source}"));
            return 0;
        }));
        return cmd;
    }

    private static readonly JsonSerializerOptions JsonOpts = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    private static string N(Figure f) => f.Value is double v ? v.ToString("0.###", Inv) : "-";

    private static string F(double? v, string fmt) => v is double x && !double.IsNaN(x) ? x.ToString(fmt, Inv) : "-";

    private static void WriteValidationText(ValidationReport r, EfficiencyParameters e, TextWriter o)
    {
        o.WriteLine($"{"id",-5} {"quantity",-10} {"unit",-9} {"predicted",11} {"measured",11} {"error",8} {"fit",-4} detail");
        foreach (var x in r.Rows)
        {
            if (x.SkipReason != null)
            {
                o.WriteLine($"{x.Id,-5} {x.Quantity,-10} {x.Unit,-9} {"-",11} {F(x.Measured, "0.##"),11} {"-",8} {(x.Fitted ? "yes" : "no"),-4} skipped: {x.SkipReason}");
                continue;
            }
            o.WriteLine($"{x.Id,-5} {x.Quantity,-10} {x.Unit,-9} {F(x.Predicted, "0.##"),11} {F(x.Measured, "0.##"),11} {F(x.ErrorPercent is double ep ? Math.Round(ep, 1) + 0.0 : null, "+0.0;-0.0;0.0") + "%",8} {(x.Fitted ? "yes" : "no"),-4} {x.Detail}{(x.Excluded != null ? $"; EXCLUDED from MAPE: {x.Excluded}" : "")}");
        }
        o.WriteLine();
        o.WriteLine($"predicted {r.Predicted.Count()} of {r.Rows.Count} rows ({F(100 * r.Coverage, "0")}%), {r.Predicted.Count(x => x.Excluded != null)} of them excluded from MAPE; efficiency fit {e.FitDate} on rows {string.Join(",", e.RowsUsed)}");
        foreach (string q in (string[])["throughput", "latency"])
        {
            var all = r.Mape(q, null); var fit = r.Mape(q, true); var held = r.Mape(q, false);
            o.WriteLine($"MAPE {q,-10}: all {F(all.Mape, "0.0")}% ({all.Count} rows), fitted {F(fit.Mape, "0.0")}% ({fit.Count}), held-out {F(held.Mape, "0.0")}% ({held.Count})");
        }
    }

    private static void WriteValidationJson(ValidationReport r, EfficiencyParameters e, TextWriter o)
    {
        object Summary(string q) => new
        {
            mape_all = Nan(r.Mape(q, null).Mape), rows_all = r.Mape(q, null).Count,
            mape_fitted = Nan(r.Mape(q, true).Mape), rows_fitted = r.Mape(q, true).Count,
            mape_held_out = Nan(r.Mape(q, false).Mape), rows_held_out = r.Mape(q, false).Count,
        };
        var doc = new
        {
            rows = r.Rows.Select(x => new
            {
                id = x.Id, quantity = x.Quantity, unit = x.Unit, predicted = x.Predicted, measured = x.Measured,
                error = x.ErrorPercent, fitted = x.Fitted, skipped = x.SkipReason, excluded = x.Excluded, detail = x.Detail,
            }),
            summary = new { predicted = r.Predicted.Count(), total = r.Rows.Count, fit_date = e.FitDate, rows_used = e.RowsUsed, throughput = Summary("throughput"), latency = Summary("latency") },
        };
        o.WriteLine(JsonSerializer.Serialize(doc, JsonOpts));
    }

    private static double? Nan(double v) => double.IsNaN(v) ? null : Math.Round(v, 3);

    private static void WriteFitText(ModelSpec m, DeviceSpec d, Precision w, Precision kv, int ctx, MemoryFitResult f, TextWriter o)
    {
        o.WriteLine($"model:          {m.Id} ({F(m.TotalParams / 1e9, "0.00")}B parameters)");
        o.WriteLine($"device:         {d.Id} ({F(d.MemoryGb.Value, "0.#")} GB, tier: {f.Tier})");
        o.WriteLine($"weights:        {F(f.WeightBytes / 1e9, "0.00")} GB at {PrecisionInfo.Name(w)}");
        o.WriteLine($"kv cache:       {F(f.KvBytesPerToken, "0")} B per token at {PrecisionInfo.Name(kv)} ({F(f.KvBytesPerToken * ctx / 1e9, "0.000")} GB per {ctx}-token sequence)");
        o.WriteLine($"activations:    {F(f.ActivationBytes / 1e9, "0.00")} GB per device; runtime overhead {F(f.OverheadBytes / 1e9, "0.0")} GB per device");
        if (f.DevicesNeeded == 0) { o.WriteLine("devices needed: does not fit on 64 devices"); return; }
        o.WriteLine($"devices needed: {f.DevicesNeeded} (tensor parallel)");
        o.WriteLine($"max batch:      {f.MaxBatchAtContext} x {ctx} tokens ({F(f.MaxKvTokens, "0")} KV tokens)");
    }

    private static void WriteFitJson(ModelSpec m, DeviceSpec d, Precision w, Precision kv, int ctx, MemoryFitResult f, TextWriter o)
    {
        var doc = new
        {
            model = m.Id, device = d.Id, tier = f.Tier, precision = PrecisionInfo.Name(w), kv_precision = PrecisionInfo.Name(kv), context = ctx,
            parameters = m.TotalParams, weight_bytes = f.WeightBytes, kv_bytes_per_token = f.KvBytesPerToken, activation_bytes = f.ActivationBytes,
            overhead_bytes = f.OverheadBytes, devices_needed = f.DevicesNeeded, max_kv_tokens = Math.Floor(f.MaxKvTokens), max_batch = f.MaxBatchAtContext,
        };
        o.WriteLine(JsonSerializer.Serialize(doc, JsonOpts));
    }

    // ---- fleet sizing and simulation (quanta plan size | simulate) ----

    private sealed record WorkloadOptions(Option<string> Model, Option<string> Precision, Option<string?> KvPrecision, Option<string?> Prompt,
        Option<string?> Output, Option<string?> Arrival, Option<string?> TtftP99, Option<string?> TpotP99, Option<string?> E2eMean,
        Option<string?> E2eP99, Option<int> MaxBatch, Option<int> MaxBatchTokens, Option<int> Seed)
    {
        public static WorkloadOptions Create() => new(
            new Option<string>("--model", "-m") { Description = "catalog model name, GGUF / safetensors file, or config.json" },
            new Option<string>("--precision") { Description = "weight precision: bf16, fp16, fp8, int8, int4, fp4 (default: bf16 for LLMs, int8 for vision/recsys)", DefaultValueFactory = _ => "" },
            new Option<string?>("--kv-precision") { Description = "KV-cache precision (default: fp8 with 8/4-bit weights, else fp16)" },
            new Option<string?>("--prompt", "-p") { Description = "prompt tokens: N, uniform:MIN-MAX or lognormal:MEAN:CV[:MAX]" },
            new Option<string?>("--output", "-n") { Description = "output tokens: N, uniform:MIN-MAX or lognormal:MEAN:CV[:MAX]" },
            new Option<string?>("--arrival") { Description = "arrival process: poisson (default; = server), gamma:CV, onoff:ON_S:OFF_S, offline" },
            new Option<string?>("--ttft-p99") { Description = "p99 time-to-first-token bound, e.g. 500ms" },
            new Option<string?>("--tpot-p99") { Description = "p99 time-per-output-token bound, e.g. 50ms" },
            new Option<string?>("--e2e-mean") { Description = "mean end-to-end latency bound, e.g. 180ms" },
            new Option<string?>("--e2e-p99") { Description = "p99 end-to-end latency bound, e.g. 1s" },
            new Option<int>("--max-batch") { Description = "most sequences a replica runs at once (default: TensorRT-LLM's max_batch_size, as the serving model)", DefaultValueFactory = _ => ServingModel.EngineBatchCap },
            new Option<int>("--max-batch-tokens") { Description = "scheduler token budget per step (decodes + prefill chunks)", DefaultValueFactory = _ => 8192 },
            new Option<int>("--seed") { Description = "seed of every random draw", DefaultValueFactory = _ => 1 });

        public IEnumerable<Option> All() => [Model, Precision, KvPrecision, Prompt, Output, Arrival, TtftP99, TpotP99, E2eMean, E2eP99, MaxBatch, MaxBatchTokens, Seed];

        public ServiceLevel Slo(ParseResult p) => new()
        {
            TtftP99S = p.GetValue(TtftP99) is string a ? PlanArguments.Duration(a, "--ttft-p99") : null,
            TpotP99S = p.GetValue(TpotP99) is string b ? PlanArguments.Duration(b, "--tpot-p99") : null,
            E2eMeanS = p.GetValue(E2eMean) is string c ? PlanArguments.Duration(c, "--e2e-mean") : null,
            E2eP99S = p.GetValue(E2eP99) is string d ? PlanArguments.Duration(d, "--e2e-p99") : null,
        };

        public (Precision Weights, Precision Kv) Precisions(ParseResult p, ModelSpec m)
        {
            string given = p.GetValue(Precision) ?? "";
            Precision w = given.Length > 0 ? PrecisionInfo.Parse(given) : m.IsLlm ? Quanta.Planner.Catalogs.Precision.Bf16 : Quanta.Planner.Catalogs.Precision.Int8;
            Precision kv = p.GetValue(KvPrecision) is string k ? PrecisionInfo.Parse(k) : PrecisionInfo.DefaultKv(w);
            return (w, kv);
        }

        public (LengthDistribution Prompt, LengthDistribution Output) Lengths(ParseResult p)
        {
            string prompt = p.GetValue(Prompt) ?? throw new ArgumentException("--prompt is required for a language model (tokens per prompt, e.g. 1500)");
            string output = p.GetValue(Output) ?? throw new ArgumentException("--output is required for a language model (tokens per completion, e.g. 32)");
            return (LengthDistribution.Parse(prompt), LengthDistribution.Parse(output));
        }

        public void CheckLimits(ParseResult p)
        {
            if (p.GetValue(MaxBatch) is < 1 or > 65536) throw new ArgumentException($"--max-batch must lie in [1, 65536], got {p.GetValue(MaxBatch)}");
            if (p.GetValue(MaxBatchTokens) is < 1 or > 1 << 20) throw new ArgumentException($"--max-batch-tokens must lie in [1, 1048576], got {p.GetValue(MaxBatchTokens)}");
        }
    }

    private static Command Size()
    {
        var wo = WorkloadOptions.Create();
        var perDay = new Option<string?>("--requests-per-day") { Description = "total requests (LLM) or samples (vision/recsys) per day, e.g. 15e6" };
        var rate = new Option<string?>("--rate") { Description = "total requests (or samples) per second; alternative to --requests-per-day" };
        var util = new Option<string>("--util") { Description = "utilization cap: most of a replica's saturation throughput it may carry (0.8 or 80%)", DefaultValueFactory = _ => "1" };
        var latency = new Option<string?>("--latency") { Description = "vision/recsys: latency bound per sample, e.g. 15ms" };
        var devices = new Option<string?>("--devices", "-d") { Description = "comma-separated device ids to consider (default: the whole catalog)" };
        var maxTp = new Option<int>("--max-tp") { Description = "largest tensor-parallel group tried", DefaultValueFactory = _ => 8 };
        var simRequests = new Option<int>("--sim-requests") { Description = "requests per simulation in the rate search", DefaultValueFactory = _ => 1000 };
        var opRequests = new Option<int>("--operating-requests") { Description = "requests simulated at the chosen operating point", DefaultValueFactory = _ => 3000 };
        var price = new Option<string[]>("--price") { Description = "device-hour price override ID=USD (repeatable), e.g. --price l4=0.8" };
        var chartDir = new Option<string?>("--chart-dir") { Description = "write charts here: throughput vs p99 latency, $ per million tokens, memory fit per tier" };
        var chartFormat = new Option<string>("--chart-format") { Description = "png or svg", DefaultValueFactory = _ => "png" };
        var json = Json(); var verbose = Verbose(); var dev = DeviceFiles(); var mod = ModelFiles(); var eff = EfficiencyFile();
        var cmd = new Command("size", "Fleet sizing and cost per device type: devices, $/hour, $/M tokens, $/request, energy; ranked by cost.");
        foreach (Option o in wo.All()) cmd.Options.Add(o);
        foreach (Option o in (Option[])[perDay, rate, util, latency, devices, maxTp, simRequests, opRequests, price, chartDir, chartFormat, json, verbose, dev, mod, eff]) cmd.Options.Add(o);
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            var models = ModelCatalog.Load(p.GetValue(mod) ?? []);
            var cat = DeviceCatalog.Load(p.GetValue(dev) ?? []);
            var e = p.GetValue(eff) is string ef ? EfficiencyParameters.Load(ef) : EfficiencyParameters.BuiltIn();
            var m = models.Resolve(p.GetValue(wo.Model) ?? throw new ArgumentException("--model is required"));
            var (w, kv) = wo.Precisions(p, m);
            double total = (p.GetValue(perDay), p.GetValue(rate)) switch
            {
                (string d, null) => PlanArguments.Positive(d, "--requests-per-day") / 86400,
                (null, string r) => PlanArguments.Positive(r, "--rate"),
                (null, null) => throw new ArgumentException("give the load: --requests-per-day N or --rate N (per second)"),
                _ => throw new ArgumentException("give either --requests-per-day or --rate, not both"),
            };
            double cap = PlanArguments.Fraction(p.GetValue(util)!, "--util");
            var list = p.GetValue(devices) is string ds
                ? ds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(cat.Get).ToList()
                : cat.Devices.ToList();
            var prices = PlanArguments.Prices(p.GetValue(price) ?? []);
            string? charts = p.GetValue(chartDir);
            string ext = ChartFile.Extension(p.GetValue(chartFormat)!);
            wo.CheckLimits(p);
            if (!m.IsLlm)
            {
                var dw = new DenseWorkload
                {
                    Model = m, Precision = w, SamplesPerSecond = total, UtilizationCap = cap,
                    LatencyBoundS = p.GetValue(latency) is string lb ? PlanArguments.Duration(lb, "--latency") : null,
                };
                var dres = DenseFleetSizer.Size(dw, list, e, prices);
                if (p.GetValue(json)) Console.Out.WriteLine(JsonSerializer.Serialize(FleetReport.DenseJson(dw, dres), JsonOpts));
                else Console.Out.Write(FleetReport.DenseMarkdown(dw, dres));
                if (charts != null)
                {
                    string cp = Path.Combine(charts, "cost-per-million-samples" + ext);
                    FleetCharts.CostPerMillionSamples(dres, $"{m.Id}: USD per million samples", cp);
                    Console.Error.WriteLine($"chart: {cp}");
                }
                return 0;
            }
            if (p.GetValue(latency) != null) throw new ArgumentException("--latency applies to vision/recsys models; for LLMs use --ttft-p99, --tpot-p99, --e2e-mean or --e2e-p99");
            var (prompt, output) = wo.Lengths(p);
            var arrival = ArrivalProcess.Parse(p.GetValue(wo.Arrival) ?? "poisson");
            var lw = new LlmWorkload
            {
                Model = m, Weights = w, Kv = kv, Prompt = prompt, Output = output, RequestsPerSecond = total, Slo = wo.Slo(p),
                UtilizationCap = cap, Arrival = arrival, MaxTensorParallel = p.GetValue(maxTp), SearchRequests = p.GetValue(simRequests),
                OperatingRequests = p.GetValue(opRequests), Seed = p.GetValue(wo.Seed), MaxRunning = p.GetValue(wo.MaxBatch),
                MaxBatchTokens = p.GetValue(wo.MaxBatchTokens),
            };
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var res = LlmFleetSizer.Size(lw, list, e, prices);
            Console.Error.WriteLine(string.Create(Inv, $"sized {list.Count} device types in {sw.Elapsed.TotalSeconds:0.0} s (wall)"));
            if (p.GetValue(json)) Console.Out.WriteLine(JsonSerializer.Serialize(FleetReport.LlmJson(lw, res), JsonOpts));
            else Console.Out.Write(FleetReport.LlmMarkdown(lw, res));
            if (charts != null)
            {
                double[] fractions = [0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95];
                var feasible = res.Where(o => o.Feasible).ToList();
                var sweeps = new (string, int, IReadOnlyList<RateProbe>)[feasible.Count];
                Parallel.For(0, feasible.Count, i => sweeps[i] = (feasible[i].Device.Id, feasible[i].TensorParallel, LlmFleetSizer.Sweep(lw, feasible[i], e, fractions)));
                string a = Path.Combine(charts, "throughput-vs-p99-latency" + ext);
                FleetCharts.ThroughputVsLatency(sweeps, $"{m.Id} {PrecisionInfo.Name(w)}, prompt {prompt} / output {output}: p99 latency vs load", a);
                string b = Path.Combine(charts, "cost-per-million-tokens" + ext);
                FleetCharts.CostPerMillionTokens(res, $"{m.Id} {PrecisionInfo.Name(w)}: USD per million tokens at {total:0.#} req/s", b);
                string c = Path.Combine(charts, "memory-fit-per-tier" + ext);
                FleetCharts.MemoryFitPerTier(m, list, w, kv, prompt.Max + output.Max, c);
                foreach (string f in (string[])[a, b, c]) Console.Error.WriteLine($"chart: {f}");
            }
            return 0;
        }));
        return cmd;
    }

    private static Command Simulate()
    {
        var wo = WorkloadOptions.Create();
        var device = new Option<string>("--device", "-d") { Description = "catalog device name", Required = true };
        var tp = new Option<int?>("--tp") { Description = "tensor-parallel degree (default: the smallest that fits)" };
        var rate = new Option<string?>("--rate") { Description = "arrival rate per replica, requests/s (not needed for --arrival offline)" };
        var requests = new Option<int>("--requests") { Description = "requests to simulate", DefaultValueFactory = _ => 2000 };
        var warmup = new Option<double>("--warmup") { Description = "fraction of requests (by arrival) left out of the statistics", DefaultValueFactory = _ => 0.1 };
        var benchmark = new Option<string?>("--benchmark") { Description = "MLPerf task (llama2-70b, mixtral-8x7b, gptj): its model, precision, mean lengths and latency limits unless given" };
        var maxRate = new Option<bool>("--max-rate") { Description = "search the highest Poisson rate meeting the objectives (MLPerf Server style) and report the run at that rate" };
        var json = Json(); var verbose = Verbose(); var dev = DeviceFiles(); var mod = ModelFiles(); var eff = EfficiencyFile();
        var cmd = new Command("simulate", "Simulate one replica (the engine's scheduler on roofline step times): TTFT, TPOT, end-to-end, throughput, goodput.");
        foreach (Option o in wo.All()) cmd.Options.Add(o);
        foreach (Option o in (Option[])[device, tp, rate, requests, warmup, benchmark, maxRate, json, verbose, dev, mod, eff]) cmd.Options.Add(o);
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            BenchmarkSpec? bench = null;
            if (p.GetValue(benchmark) is string bn)
                bench = BenchmarkCatalog.Find(bn) ?? throw new ArgumentException($"unknown benchmark '{bn}' (known: {string.Join(", ", BenchmarkCatalog.Benchmarks.Select(b => b.Id))})");
            if (bench != null && !string.Equals(ModelCatalog.BuiltIn().Find(bench.Model)?.Kind, "llm", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"benchmark {bench.Id} is not a language-model task: size it with `quanta plan size --model {bench.Model} --rate N --latency T`");
            string modelName = p.GetValue(wo.Model) ?? bench?.Model ?? throw new ArgumentException("--model (or --benchmark) is required");
            var m = ModelCatalog.Load(p.GetValue(mod) ?? []).Resolve(modelName);
            if (!m.IsLlm) throw new ArgumentException($"{m.Id} is a {m.Kind} model: simulate serves language models; size it with `quanta plan size --model {m.Id} --rate N --latency T`");
            var d = DeviceCatalog.Load(p.GetValue(dev) ?? []).Get(p.GetValue(device)!);
            var e = p.GetValue(eff) is string ef ? EfficiencyParameters.Load(ef) : EfficiencyParameters.BuiltIn();
            var (w, kv) = wo.Precisions(p, m);
            if (bench != null && (p.GetValue(wo.Precision) ?? "").Length == 0)
            {
                w = PrecisionInfo.Parse(d.Fp4Tflops.Value != null && bench.PrecisionOnFp4Devices is string f4 ? f4 : bench.Precision);
                kv = p.GetValue(wo.KvPrecision) is string k ? PrecisionInfo.Parse(k) : PrecisionInfo.DefaultKv(w);
            }
            LengthDistribution prompt, output;
            if (bench != null)
            {
                prompt = p.GetValue(wo.Prompt) is string ps ? LengthDistribution.Parse(ps) : new LengthDistribution.Fixed((int)Math.Round(bench.InputTokens));
                output = p.GetValue(wo.Output) is string os ? LengthDistribution.Parse(os) : new LengthDistribution.Fixed((int)Math.Round(bench.OutputTokens));
            }
            else (prompt, output) = wo.Lengths(p);
            wo.CheckLimits(p);
            var slo = wo.Slo(p);
            if (bench != null)
                slo = slo with { TtftP99S = slo.TtftP99S ?? bench.TtftLimitS, TpotP99S = slo.TpotP99S ?? bench.TpotLimitS, E2eP99S = slo.E2eP99S ?? bench.E2eLimitS };
            bool searchRate = p.GetValue(maxRate);
            var arrival = ArrivalProcess.Parse(p.GetValue(wo.Arrival) ?? "poisson");
            if (searchRate && arrival.IsOffline) throw new ArgumentException("--max-rate searches an arrival rate: use it with poisson/server, gamma or onoff arrivals");
            if (searchRate && slo.IsEmpty) throw new ArgumentException("--max-rate needs latency objectives (--ttft-p99, --tpot-p99, --e2e-mean, --e2e-p99 or a --benchmark with limits)");
            double r = 1;
            if (!arrival.IsOffline && !searchRate)
                r = p.GetValue(rate) is string rs ? PlanArguments.Positive(rs, "--rate") : throw new ArgumentException("--rate is required unless --arrival offline or --max-rate");
            int context = prompt.Max + output.Max;
            var fit = MemoryFit.Compute(m, d, w, kv, context);
            int degree = p.GetValue(tp) ?? fit.DevicesNeeded;
            if (degree < 1) throw new ArgumentException($"{m.Id} with a {context}-token sequence does not fit on 64 x {d.Id}");
            if (degree > 64) throw new ArgumentException($"--tp must lie in [1, 64], got {degree}");
            var lw = new LlmWorkload
            {
                Model = m, Weights = w, Kv = kv, Prompt = prompt, Output = output, RequestsPerSecond = r, Slo = slo,
                MaxRunning = p.GetValue(wo.MaxBatch), MaxBatchTokens = p.GetValue(wo.MaxBatchTokens), Seed = p.GetValue(wo.Seed),
                Arrival = arrival.IsOffline ? new ArrivalProcess.Poisson() : arrival, SearchRequests = Math.Max(100, p.GetValue(requests)),
            };
            RateSearch? search = null;
            if (searchRate)
            {
                search = LlmFleetSizer.MaxRate(lw, d, e, degree);
                if (search.Reason != null) throw new ArgumentException($"no rate meets the objectives on {degree} x {d.Id}: {search.Reason}");
                r = search.MaxRequestsPerSecond;
            }
            var o = LlmFleetSizer.ReplicaOptions(lw, d, degree) with
            {
                Arrival = arrival, Rate = r, Requests = p.GetValue(requests), WarmupFraction = p.GetValue(warmup),
            };
            if ((o.KvBlocks - 1) * (long)o.BlockSize < context) throw new ArgumentException($"tp {degree}: the KV cache of {m.Id} on {d.Id} holds {(o.KvBlocks - 1) * (long)o.BlockSize} tokens, fewer than one {context}-token sequence");
            var res = ServingSimulator.Run(o, new RooflineStepTime(new RooflineModel(m, d, w, kv, degree, e)));
            if (p.GetValue(json))
            {
                var doc = new
                {
                    model = m.Id, device = d.Id, tensor_parallel = degree, precision = PrecisionInfo.Name(w), kv_precision = PrecisionInfo.Name(kv),
                    benchmark = bench?.Id, prompt = prompt.ToString(), output = output.ToString(), arrival = arrival.ToString(), rate = arrival.IsOffline ? (double?)null : r,
                    saturation_requests_per_second = search?.SaturationRequestsPerSecond, max_rate_search = search is not null,
                    kv_blocks = o.KvBlocks, block_size = o.BlockSize, max_batch = o.MaxRunning, max_batch_tokens = o.MaxBatchTokens, seed = o.Seed,
                    result = FleetReport.SimulationJson(res),
                };
                Console.Out.WriteLine(JsonSerializer.Serialize(doc, JsonOpts));
            }
            else
            {
                Console.Out.WriteLine(string.Create(Inv, $"{m.Id} at {PrecisionInfo.Name(w)} (KV {PrecisionInfo.Name(kv)}) on {degree} x {d.Id}: prompt {prompt} / output {output} tokens, {(arrival.IsOffline ? "offline (all at t=0)" : $"{arrival} at {r:0.###} req/s")}, KV cache {Math.Floor(MemoryFit.KvTokens(m, d, w, kv, degree)):#,0} tokens, max batch {o.MaxRunning}, {o.MaxBatchTokens} tokens/step"));
                if (search != null)
                    Console.Out.WriteLine(string.Create(Inv, $"highest rate meeting {FleetReport.Describe(slo)}: {search.MaxRequestsPerSecond:0.###} req/s per replica ({search.MaxRequestsPerSecond / degree:0.###} per device; Offline saturation {search.SaturationRequestsPerSecond:0.###} req/s); the run below is at that rate"));
                Console.Out.WriteLine();
                Console.Out.Write(FleetReport.SimulationMarkdown(res));
            }
            return 0;
        }));
        return cmd;
    }
}
