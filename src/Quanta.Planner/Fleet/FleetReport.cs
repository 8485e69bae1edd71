using System.Globalization;
using System.Text;
using Quanta.Planner.Catalogs;
using Quanta.Planner.Simulation;

namespace Quanta.Planner.Fleet;

/// <summary>Markdown tables and JSON-ready objects (snake_case when serialized) for fleet plans and simulations.</summary>
public static class FleetReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Seconds as milliseconds ("-" for NaN/null).</summary>
    public static string Ms(double? s) => s is double v && double.IsFinite(v) ? (v * 1e3).ToString(v * 1e3 >= 100 ? "0" : "0.0", Inv) : "-";

    /// <summary>A number with a format ("-" for NaN/null).</summary>
    public static string N(double? v, string fmt) => v is double x && double.IsFinite(x) ? x.ToString(fmt, Inv) : "-";

    /// <summary>A USD amount with about three significant digits ("-" when unknown).</summary>
    public static string Usd(double? v)
    {
        if (v is not double x || !double.IsFinite(x)) return "-";
        if (x == 0) return "$0";
        int digits = Math.Max(0, 2 - (int)Math.Floor(Math.Log10(Math.Abs(x))));
        return "$" + Math.Round(x, Math.Min(digits, 12)).ToString("#,0." + new string('#', Math.Min(digits, 12)), Inv);
    }

    /// <summary>The objectives in words.</summary>
    public static string Describe(ServiceLevel s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var parts = new List<string>();
        if (s.TtftP99S is double a) parts.Add($"p99 TTFT <= {Ms(a)} ms");
        if (s.TpotP99S is double b) parts.Add($"p99 TPOT <= {Ms(b)} ms");
        if (s.E2eMeanS is double c) parts.Add($"mean end-to-end <= {Ms(c)} ms");
        if (s.E2eP99S is double d) parts.Add($"p99 end-to-end <= {Ms(d)} ms");
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    /// <summary>Markdown report of an LLM fleet plan: the workload, the ranked table and the infeasible devices with reasons.</summary>
    public static string LlmMarkdown(LlmWorkload w, IReadOnlyList<LlmDeviceOption> options)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(options);
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(Inv, $"Workload: {w.Model.Id} at {PrecisionInfo.Name(w.Weights)} (KV {PrecisionInfo.Name(w.Kv)}), prompt {w.Prompt} / output {w.Output} tokens, {w.RequestsPerSecond:0.##} requests/s ({w.RequestsPerSecond * 86400:#,0} per day), {w.Arrival} arrivals"));
        sb.AppendLine(string.Create(Inv, $"Objectives: {Describe(w.Slo)}; utilization cap {w.UtilizationCap * 100:0.#}% of a replica's simulated saturation throughput"));
        sb.AppendLine();
        sb.AppendLine("| rank | device | tier | tp | replicas | devices | max req/s per replica | load | p99 TTFT ms | p99 TPOT ms | mean e2e ms | p99 e2e ms | $/device-h | $/hour | $/M tokens | $/request | W/device | J/token | J/request |");
        sb.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        int rank = 0;
        foreach (var o in options.Where(o => o.Feasible))
        {
            SimulationResult r = o.Operating!;
            sb.AppendLine(string.Create(Inv,
                $"| {++rank} | {o.Device.Id} | {o.Device.Tier} | {o.TensorParallel} | {o.Replicas:#,0} | {o.Devices:#,0} | {N(o.MaxRequestsPerSecond, "0.##")} | {N(o.Load, "0%")} | {Ms(r.Ttft.P99)} | {Ms(r.Tpot.P99)} | {Ms(r.E2e.Mean)} | {Ms(r.E2e.P99)} | {Usd(o.PricePerDeviceHour)} | {Usd(o.UsdPerHour)} | {Usd(o.UsdPerMillionTokens)} | {Usd(o.UsdPerRequest)} | {N(o.WattsPerDevice, "0")} | {N(o.JoulesPerToken, "0.###")} | {N(o.JoulesPerRequest, "0.#")} |"));
        }
        var no = options.Where(o => !o.Feasible).ToList();
        if (no.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("Not feasible:");
            foreach (var o in no) sb.AppendLine($"- {o.Device.Id}: {o.Reason}");
        }
        sb.AppendLine();
        sb.AppendLine("Per replica: the engine's scheduler simulated on roofline step times (Poisson arrivals unless stated), then scaled by replicas. " +
            "Load = replica rate / simulated saturation throughput. Power per device = idle + (TDP - idle) x load. $/M tokens counts prompt + output tokens; " +
            "'-' = the catalog has no price or TDP for that device (give --price ID=USD).");
        return sb.ToString();
    }

    /// <summary>JSON-ready object of an LLM fleet plan.</summary>
    public static object LlmJson(LlmWorkload w, IReadOnlyList<LlmDeviceOption> options)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(options);
        return new
        {
            workload = new
            {
                model = w.Model.Id, precision = PrecisionInfo.Name(w.Weights), kv_precision = PrecisionInfo.Name(w.Kv),
                prompt = w.Prompt.ToString(), output = w.Output.ToString(), mean_prompt_tokens = w.Prompt.Mean, mean_output_tokens = w.Output.Mean,
                requests_per_second = w.RequestsPerSecond, requests_per_day = w.RequestsPerSecond * 86400, arrival = w.Arrival.ToString(),
                ttft_p99_s = w.Slo.TtftP99S, tpot_p99_s = w.Slo.TpotP99S, e2e_mean_s = w.Slo.E2eMeanS, e2e_p99_s = w.Slo.E2eP99S,
                utilization_cap = w.UtilizationCap, max_batch_tokens = w.MaxBatchTokens, max_running = w.MaxRunning,
                search_requests = w.SearchRequests, operating_requests = w.OperatingRequests, seed = w.Seed,
            },
            options = options.Select(o => new
            {
                device = o.Device.Id, tier = o.Device.Tier, feasible = o.Feasible, reason = o.Reason,
                min_tensor_parallel = o.MinTensorParallel, tensor_parallel = o.TensorParallel, kv_tokens = Math.Floor(o.KvTokens),
                saturation_requests_per_second = o.SaturationRequestsPerSecond, max_requests_per_second = o.MaxRequestsPerSecond,
                replicas = o.Replicas, devices = o.Devices, operating_requests_per_second = o.OperatingRequestsPerSecond, load = o.Load,
                price_usd_per_device_hour = o.PricePerDeviceHour, usd_per_hour = o.UsdPerHour, usd_per_million_tokens = o.UsdPerMillionTokens,
                usd_per_million_output_tokens = o.UsdPerMillionOutputTokens, usd_per_request = o.UsdPerRequest,
                watts_per_device = o.WattsPerDevice, fleet_watts = o.FleetWatts, joules_per_token = o.JoulesPerToken,
                joules_per_output_token = o.JoulesPerOutputToken, joules_per_request = o.JoulesPerRequest,
                operating = o.Operating is null ? null : SimulationJson(o.Operating),
            }),
        };
    }

    /// <summary>JSON-ready object of one simulation result (seconds, requests/s, tokens/s).</summary>
    public static object SimulationJson(SimulationResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        static object S(LatencyStats s) => new { count = s.Count, mean = F(s.Mean), p50 = F(s.P50), p90 = F(s.P90), p99 = F(s.P99), max = F(s.Max) };
        return new
        {
            requests = r.Requests, measured = r.Measured, completed = r.Completed, aborted = r.Aborted, preemptions = r.Preemptions, steps = r.Steps,
            ttft_s = S(r.Ttft), tpot_s = S(r.Tpot), e2e_s = S(r.E2e),
            request_throughput = F(r.RequestsPerSecond), output_throughput = F(r.OutputTokensPerSecond), total_token_throughput = F(r.TotalTokensPerSecond),
            goodput_requests_per_second = F(r.GoodputRequestsPerSecond), offered_requests_per_second = F(r.OfferedRequestsPerSecond),
            busy_fraction = F(r.Utilization), makespan_s = F(r.MakespanSeconds), mean_in_system = F(r.MeanInSystem),
            mean_time_in_system_s = F(r.MeanTimeInSystem), backlog_at_last_arrival = r.BacklogAtLastArrival, max_waiting = r.MaxWaiting,
            slo_violation = r.SloViolation, wall_seconds = F(r.WallSeconds),
        };
    }

    /// <summary>Markdown table of one simulation result.</summary>
    public static string SimulationMarkdown(SimulationResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var sb = new StringBuilder();
        sb.AppendLine("| metric | mean | p50 | p90 | p99 | max |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, s) in new[] { ("TTFT ms", r.Ttft), ("TPOT ms", r.Tpot), ("end-to-end ms", r.E2e) })
            sb.AppendLine($"| {name} | {Ms(s.Mean)} | {Ms(s.P50)} | {Ms(s.P90)} | {Ms(s.P99)} | {Ms(s.Max)} |");
        sb.AppendLine();
        sb.AppendLine("| quantity | value |");
        sb.AppendLine("|---|---:|");
        void Row(string k, string v) => sb.AppendLine($"| {k} | {v} |");
        Row("requests (measured after warm-up)", string.Create(Inv, $"{r.Requests:#,0} ({r.Measured:#,0})"));
        Row("completed / aborted", string.Create(Inv, $"{r.Completed:#,0} / {r.Aborted:#,0}"));
        Row("offered rate (req/s)", double.IsInfinity(r.OfferedRequestsPerSecond) ? "offline (all at t=0)" : N(r.OfferedRequestsPerSecond, "0.###"));
        Row("throughput (req/s)", N(r.RequestsPerSecond, "0.###"));
        Row("output tokens/s", N(r.OutputTokensPerSecond, "#,0.#"));
        Row("total tokens/s (prompt + output)", N(r.TotalTokensPerSecond, "#,0"));
        Row("goodput (req/s meeting the SLOs)", N(r.GoodputRequestsPerSecond, "0.###"));
        Row("busy fraction of the device", N(r.Utilization, "0.0%"));
        Row("preemptions", r.Preemptions.ToString("#,0", Inv));
        Row("engine steps", r.Steps.ToString("#,0", Inv));
        Row("max waiting / backlog at last arrival", string.Create(Inv, $"{r.MaxWaiting:#,0} / {r.BacklogAtLastArrival:#,0}"));
        Row("Little's law: L vs lambda x W", string.Create(Inv, $"{N(r.MeanInSystem, "0.###")} vs {N(r.ArrivalRateOverRun * r.MeanTimeInSystem, "0.###")}"));
        Row("virtual time simulated (s)", N(r.MakespanSeconds, "#,0.###"));
        Row("wall time (s)", N(r.WallSeconds, "0.###"));
        Row("SLO verdict", r.SloViolation ?? "met");
        return sb.ToString();
    }

    /// <summary>Markdown report of a dense (vision / recommendation) fleet plan.</summary>
    public static string DenseMarkdown(DenseWorkload w, IReadOnlyList<DenseDeviceOption> options)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(options);
        var sb = new StringBuilder();
        string unit = string.Equals(w.Model.Kind, "recsys", StringComparison.OrdinalIgnoreCase) ? "queries" : "images";
        sb.AppendLine(string.Create(Inv, $"Workload: {w.Model.Id} ({w.Model.Kind}) at {PrecisionInfo.Name(w.Precision)}, {w.SamplesPerSecond:#,0.##} {unit}/s, latency bound {(w.LatencyBoundS is double b ? Ms(b) + " ms" : "none")}, utilization cap {w.UtilizationCap * 100:0.#}%"));
        sb.AppendLine();
        sb.AppendLine($"| rank | device | tier | batch | latency ms | {unit}/s per device | devices | load | $/device-h | $/hour | $/M {unit} | W/device | J/{unit[..^1]} |");
        sb.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        int rank = 0;
        foreach (var o in options.Where(o => o.Feasible))
            sb.AppendLine(string.Create(Inv,
                $"| {++rank} | {o.Device.Id} | {o.Device.Tier} | {o.Batch} | {Ms(o.LatencySeconds)} | {N(o.SamplesPerSecondPerDevice, "#,0")} | {o.Devices:#,0} | {N(o.Load, "0%")} | {Usd(o.PricePerDeviceHour)} | {Usd(o.UsdPerHour)} | {Usd(o.UsdPerMillionSamples)} | {N(o.WattsPerDevice, "0")} | {N(o.JoulesPerSample, "0.####")} |"));
        var no = options.Where(o => !o.Feasible).ToList();
        if (no.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("Not feasible:");
            foreach (var o in no) sb.AppendLine($"- {o.Device.Id}: {o.Reason}");
        }
        sb.AppendLine();
        sb.AppendLine("Batch model: a batch of B takes B / S + step overhead (S: roofline samples/s); worst-case latency = 2 x batch time (waiting for the batch, then computing it). Power per device = idle + (TDP - idle) x load.");
        return sb.ToString();
    }

    /// <summary>JSON-ready object of a dense fleet plan.</summary>
    public static object DenseJson(DenseWorkload w, IReadOnlyList<DenseDeviceOption> options)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(options);
        return new
        {
            workload = new { model = w.Model.Id, kind = w.Model.Kind, precision = PrecisionInfo.Name(w.Precision), samples_per_second = w.SamplesPerSecond, latency_bound_s = w.LatencyBoundS, utilization_cap = w.UtilizationCap },
            options = options.Select(o => new
            {
                device = o.Device.Id, tier = o.Device.Tier, feasible = o.Feasible, reason = o.Reason, batch = o.Batch, batch_seconds = o.BatchSeconds,
                latency_seconds = o.LatencySeconds, samples_per_second_per_device = o.SamplesPerSecondPerDevice, devices = o.Devices, load = o.Load,
                price_usd_per_device_hour = o.PricePerDeviceHour, usd_per_hour = o.UsdPerHour, usd_per_million_samples = o.UsdPerMillionSamples,
                watts_per_device = o.WattsPerDevice, joules_per_sample = o.JoulesPerSample,
            }),
        };
    }

    private static double? F(double v) => double.IsFinite(v) ? v : null;
}
