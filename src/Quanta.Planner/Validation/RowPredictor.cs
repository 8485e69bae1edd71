using System.Globalization;
using System.Text.RegularExpressions;
using Quanta.Planner.Catalogs;
using Quanta.Planner.Performance;

namespace Quanta.Planner.Validation;

/// <summary>
/// Turns a calibration row into a prediction: finds the device and model, reads precision, tensor parallelism,
/// prompt/output lengths and batch from the row's text (falling back to the benchmark's documented workload), and runs
/// the performance model. Rows lacking an input the model needs are skipped with the reason.
/// </summary>
public sealed partial class RowPredictor(DeviceCatalog devices, ModelCatalog models)
{
    /// <summary>
    /// Predicts row <paramref name="row"/> with efficiency parameters <paramref name="eff"/>. Rows the model does not
    /// describe are still predicted but marked excluded from the error summaries: user issue reports of an unresolved
    /// performance problem (the planner predicts a tuned deployment; the engine settings are not stated) and
    /// power-capped systems (power caps are not modelled).
    /// </summary>
    public RowPrediction Predict(CalibrationRow row, EfficiencyParameters eff)
    {
        var p = PredictCore(row, eff);
        if (p.SkipReason != null) return p;
        if (row["kind"].StartsWith("Issue report", StringComparison.OrdinalIgnoreCase))
            return p with { Excluded = "user issue report of an unresolved performance problem; engine settings (batch) not stated" };
        if (row["accelerator"].Contains("power-capped", StringComparison.OrdinalIgnoreCase) || row["round"].Contains("MaxQ", StringComparison.OrdinalIgnoreCase))
            return p with { Excluded = "power-capped (MaxQ) system; power caps are not modelled" };
        return p;
    }

    private RowPrediction PredictCore(CalibrationRow row, EfficiencyParameters eff)
    {
        string metric = row["metric"];
        bool latency = metric.Contains("latency", StringComparison.OrdinalIgnoreCase);
        bool samples = metric.Contains("samples/s", StringComparison.OrdinalIgnoreCase);
        string quantity = latency ? "latency" : "throughput";
        string unit = latency ? "ms" : samples ? "samples/s" : "tokens/s";
        double? measured = latency ? row.Number("value_system") : row.Number("value_per_accelerator") ?? row.Number("value_system");
        bool fitted = eff.RowsUsed.Contains(row.Id, StringComparer.Ordinal);
        RowPrediction Skip(string why) => new(row.Id, quantity, unit, null, measured, fitted, why, "");
        if (measured is null) return Skip("no measured value");

        var device = devices.Find(row["accelerator"]);
        if (device is null) return Skip($"accelerator '{row["accelerator"]}' is not in the device catalog");
        var bench = BenchmarkCatalog.Find(row["benchmark_model"]);
        string modelName = bench?.Model ?? PrecisionSuffix().Replace(row["benchmark_model"], "");
        var model = models.Find(modelName);
        if (model is null) return Skip($"model '{row["benchmark_model"]}' is not in the model catalog");

        string text = string.Join(" | ", row["extra"], row["scenario"], row["benchmark_model"], row["notes"]);
        var precision = PrecisionIn(text)
            ?? (bench?.PrecisionOnFp4Devices is string p4 && device.Fp4Tflops.Value is not null ? PrecisionInfo.Parse(p4) : (Precision?)null)
            ?? (bench != null ? PrecisionInfo.Parse(bench.Precision) : Precision.Fp16);
        bool server = row["scenario"].Contains("Server", StringComparison.OrdinalIgnoreCase);
        int accelerators = (int)(row.Number("num_accelerators") ?? 1);

        try
        {
            if (!model.IsLlm)
            {
                if (latency) return Skip("latency of vision/recommendation models is not modelled");
                double sps = ServingModel.SamplesPerSecond(model, device, precision, eff) * (server ? eff.ServerUtilization : 1);
                return new(row.Id, quantity, unit, sps, measured, fitted, null,
                    $"{device.Id} {PrecisionInfo.Name(precision)} {(server ? "server" : "offline")}");
            }

            var (isl, osl) = Lengths(row["scenario"]);
            double? input = isl ?? (bench?.InputTokens > 0 ? bench.InputTokens : null);
            double? output = osl ?? OutputPerSample(row["extra"]) ?? (bench?.OutputTokens > 0 ? bench.OutputTokens : null);
            if (input is null || output is null) return Skip("prompt/output lengths not stated");
            int beams = bench?.Beams ?? 1;
            double? batch = Match(BatchRegex(), row["scenario"]);
            var kv = PrecisionInfo.DefaultKv(precision);
            bool defaults = RunAtDefaultSettings(row);
            double? tpotLimit = server ? bench?.TpotLimitS ?? TpotLimit(row["latency_constraints"]) : null;
            int? statedTp = (int?)Match(TpRegex(), text);

            if (latency)
            {
                if (!metric.Contains("first", StringComparison.OrdinalIgnoreCase)) return Skip($"latency metric '{metric}' is not modelled");
                int ltp = statedTp ?? AutoTp(model, device, precision, accelerators);
                var lroof = new RooflineModel(model, device, precision, kv, ltp, eff);
                double ttft = ServingModel.TtftSeconds(lroof, input.Value) * 1000;
                return new(row.Id, quantity, unit, ttft, measured, fitted, null,
                    $"{device.Id} TP{ltp} {PrecisionInfo.Name(precision)} ISL {input:0.#} OSL {output:0.#} batch 1");
            }

            // Throughput: the stated TP degree, else the one a tuned deployment would pick (most output per accelerator).
            ServingEstimate? best = null;
            int tp = 0;
            foreach (int cand in statedTp is int st ? [st] : TpCandidates(accelerators))
            {
                try
                {
                    var roof = new RooflineModel(model, device, precision, kv, cand, eff);
                    var est = ServingModel.Throughput(roof, input.Value, output.Value, beams, batch, tpotLimit, reserveFullSequence: defaults);
                    if (best is null || est.OutputTokensPerSecond / cand > best.OutputTokensPerSecond / tp) { best = est; tp = cand; }
                }
                catch (ArgumentException) when (statedTp is null)
                {
                    // does not fit at this degree: try the next
                }
            }
            if (best is null) return Skip($"{model.Id} at {PrecisionInfo.Name(precision)} fits on no tensor-parallel group of up to {accelerators} x {device.Id}");
            double perGroup = best.OutputTokensPerSecond * (server ? eff.ServerUtilization : 1) * (defaults ? eff.DefaultSettingsThroughput : 1);
            double perAccelerator = perGroup / tp;
            if (samples) perAccelerator /= output.Value;
            return new(row.Id, quantity, unit, perAccelerator, measured, fitted, null,
                $"{device.Id} TP{tp} {PrecisionInfo.Name(precision)} ISL {input:0.#} OSL {output:0.#} batch {best.Batch:0} ({best.Limit}){(server ? " server" : "")}"
                + (defaults ? " default-settings run (full-sequence KV reservation)" : ""));
        }
        catch (ArgumentException e)
        {
            return Skip(e.Message);
        }
    }

    /// <summary>
    /// True when the row was measured at an engine's default settings rather than tuned: trtllm-bench runs (the
    /// TensorRT-LLM performance tables state they left options at their defaults, whose capacity scheduler reserves
    /// each request's whole sequence of KV cache).
    /// </summary>
    public static bool RunAtDefaultSettings(CalibrationRow row) =>
        string.Join(" | ", row["scenario"], row["notes"], row["extra"]).Contains("trtllm-bench", StringComparison.OrdinalIgnoreCase);

    /// <summary>Tensor-parallel degrees a deployment of <paramref name="accelerators"/> devices can use: powers of two up to the count.</summary>
    public static IEnumerable<int> TpCandidates(int accelerators)
    {
        for (int tp = 1; tp <= Math.Max(accelerators, 1); tp *= 2) yield return tp;
    }

    /// <summary>
    /// Tensor-parallel degree when the row states none: the smallest power of two (at most the row's accelerator count)
    /// at which the weights take at most half of a device's usable memory, leaving the rest for KV cache.
    /// </summary>
    public static int AutoTp(ModelSpec m, DeviceSpec d, Precision p, int accelerators)
    {
        int tp = 1;
        while (tp * 2 <= Math.Max(accelerators, 1) && m.WeightBytes(p) / tp > 0.5 * MemoryFit.UsableBytes(d)) tp *= 2;
        return tp;
    }

    private static Precision? PrecisionIn(string text)
    {
        var m = PrecisionRegex().Match(text);
        return m.Success && PrecisionInfo.TryParse(m.Groups[1].Value, out var p) ? p : null;
    }

    private static (double? Isl, double? Osl) Lengths(string scenario)
    {
        var m = IslOslRegex().Match(scenario);
        if (m.Success) return (Num(m.Groups[1].Value), Num(m.Groups[2].Value));
        m = IslOslSeparateRegex().Match(scenario);
        return m.Success ? (Num(m.Groups[1].Value), Num(m.Groups[2].Value)) : (null, null);
    }

    private static double? OutputPerSample(string extra) => Match(OutputPerSampleRegex(), extra);

    private static double? TpotLimit(string constraints)
    {
        var m = TpotRegex().Match(constraints);
        return m.Success ? Num(m.Groups[1].Value) / (m.Groups[2].Value.Equals("ms", StringComparison.OrdinalIgnoreCase) ? 1000 : 1) : null;
    }

    private static double? Match(Regex r, string text)
    {
        var m = r.Match(text);
        return m.Success ? Num(m.Groups[1].Value) : null;
    }

    private static double Num(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\b(NVFP4|FP4|FP8|FP16|BF16|INT8|INT4)\b", RegexOptions.IgnoreCase)]
    private static partial Regex PrecisionRegex();

    [GeneratedRegex(@"[-_ ](NVFP4|FP4|FP8|FP16|BF16|INT8|INT4)$", RegexOptions.IgnoreCase)]
    private static partial Regex PrecisionSuffix();

    [GeneratedRegex(@"ISL/OSL\s*(\d+)\s*/\s*(\d+)", RegexOptions.IgnoreCase)]
    private static partial Regex IslOslRegex();

    [GeneratedRegex(@"ISL\s*(\d+)\s*/\s*OSL\s*(\d+)", RegexOptions.IgnoreCase)]
    private static partial Regex IslOslSeparateRegex();

    [GeneratedRegex(@"\bbatch\s+(\d+)", RegexOptions.IgnoreCase)]
    private static partial Regex BatchRegex();

    [GeneratedRegex(@"\bTP(\d+)\b")]
    private static partial Regex TpRegex();

    [GeneratedRegex(@"[~]?([\d.]+)\s+(?:output\s+)?tokens/sample", RegexOptions.IgnoreCase)]
    private static partial Regex OutputPerSampleRegex();

    [GeneratedRegex(@"TPOT[^<]*<=\s*([\d.]+)\s*(ms|s)", RegexOptions.IgnoreCase)]
    private static partial Regex TpotRegex();
}
