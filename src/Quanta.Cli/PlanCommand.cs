using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Quanta.Planner.Catalogs;
using Quanta.Planner.Performance;
using Quanta.Planner.Validation;

namespace Quanta.Cli;

/// <summary>
/// `quanta plan ...`: the GPU-twin planner. `validate FILE.csv` predicts measured rows and prints the errors;
/// `fit` prints the memory fit of a model on a device; `devices` / `models` list the catalogs; `calibrate` re-fits
/// the efficiency parameters on chosen rows. Results go to stdout; errors are one line on stderr.
/// </summary>
internal static class PlanCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var cmd = new Command("plan", "Plan deployments: memory fit, performance model, validation against measurements.")
        {
            Validate(), Fit(), Devices(), Models(), Calibrate(),
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
        var verbose = Verbose(); var dev = DeviceFiles(); var mod = ModelFiles();
        var cmd = new Command("calibrate", "Fit the efficiency parameters by least squares on chosen rows.") { file, rowsOpt, output, verbose, dev, mod };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            var rows = CalibrationRow.Load(p.GetValue(file)!);
            var ids = p.GetValue(rowsOpt)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var predictor = new RowPredictor(DeviceCatalog.Load(p.GetValue(dev) ?? []), ModelCatalog.Load(p.GetValue(mod) ?? []));
            var fitted = EfficiencyFitter.Fit(rows, ids, predictor, EfficiencyParameters.BuiltIn(), DateOnly.FromDateTime(DateTime.UtcNow));
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
            o.WriteLine($"{x.Id,-5} {x.Quantity,-10} {x.Unit,-9} {F(x.Predicted, "0.##"),11} {F(x.Measured, "0.##"),11} {F(x.ErrorPercent, "+0.0;-0.0") + "%",8} {(x.Fitted ? "yes" : "no"),-4} {x.Detail}{(x.Excluded != null ? $"; EXCLUDED from MAPE: {x.Excluded}" : "")}");
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
}
