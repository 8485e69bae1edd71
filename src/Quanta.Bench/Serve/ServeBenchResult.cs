using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Quanta.Bench.Serve;

/// <summary>Mean, median, standard deviation (population) and 99th percentile (linear interpolation, as numpy) in ms.</summary>
public readonly record struct LatencyStats(double Mean, double Median, double Std, double P99)
{
    /// <summary>Statistics of <paramref name="seconds"/> reported in milliseconds; all zero for an empty list.</summary>
    public static LatencyStats FromSeconds(IReadOnlyList<double> seconds)
    {
        ArgumentNullException.ThrowIfNull(seconds);
        if (seconds.Count == 0) return default;
        var ms = new double[seconds.Count];
        for (int i = 0; i < ms.Length; i++) ms[i] = seconds[i] * 1000;
        Array.Sort(ms);
        double mean = 0;
        foreach (double v in ms) mean += v;
        mean /= ms.Length;
        double var = 0;
        foreach (double v in ms) var += (v - mean) * (v - mean);
        return new LatencyStats(mean, Percentile(ms, 50), Math.Sqrt(var / ms.Length), Percentile(ms, 99));
    }

    /// <summary>numpy's default (linear) percentile of sorted values.</summary>
    public static double Percentile(double[] sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        double pos = p / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}

/// <summary>The summary of a serving benchmark, with vLLM's result field names in <see cref="ToJson"/>.</summary>
public sealed class ServeBenchResult
{
    /// <summary>Seconds from the first measured send to the end of the last request.</summary>
    public double Duration { get; init; }

    /// <summary>Successful requests.</summary>
    public int Completed { get; init; }

    /// <summary>Failed requests.</summary>
    public int Failed { get; init; }

    /// <summary>Prompt tokens over successful requests.</summary>
    public long TotalInputTokens { get; init; }

    /// <summary>Generated tokens over successful requests.</summary>
    public long TotalOutputTokens { get; init; }

    /// <summary>Completed / duration.</summary>
    public double RequestThroughput { get; init; }

    /// <summary>Output tokens / duration.</summary>
    public double OutputThroughput { get; init; }

    /// <summary>(Input + output tokens) / duration.</summary>
    public double TotalTokenThroughput { get; init; }

    /// <summary>Requests meeting every SLO / duration; null when no SLO was given.</summary>
    public double? RequestGoodput { get; init; }

    /// <summary>Time to first token.</summary>
    public LatencyStats Ttft { get; init; }

    /// <summary>Time per output token after the first (requests with more than one token).</summary>
    public LatencyStats Tpot { get; init; }

    /// <summary>Inter-token (inter-chunk) latency over all requests.</summary>
    public LatencyStats Itl { get; init; }

    /// <summary>End-to-end latency.</summary>
    public LatencyStats E2el { get; init; }

    /// <summary>Sum of usage.energy_joules / output tokens; null when no output.</summary>
    public double? JoulesPerOutputToken { get; init; }

    /// <summary>Sum of usage.cost_usd per million tokens (input + output); null when the server reported no cost.</summary>
    public double? UsdPerMillionTokens { get; init; }

    /// <summary>Request rate asked for (infinity: all at once).</summary>
    public double RequestRate { get; init; }

    /// <summary>Burstiness asked for.</summary>
    public double Burstiness { get; init; }

    /// <summary>Concurrency bound; null: none.</summary>
    public int? MaxConcurrency { get; init; }

    /// <summary>Every measured request, in send order.</summary>
    public IReadOnlyList<ServeRequestOutcome> Requests { get; init; } = [];

    /// <summary>Summarizes <paramref name="requests"/> measured over <paramref name="duration"/> seconds.</summary>
    public static ServeBenchResult From(IReadOnlyList<ServeRequestOutcome> requests, double duration, ServeBenchOptions options)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(options);
        var ok = requests.Where(r => r.Success).ToList();
        long input = ok.Sum(r => (long)r.PromptTokens), output = ok.Sum(r => (long)r.OutputTokens);
        double joules = ok.Sum(r => r.EnergyJoules);
        bool anyCost = ok.Any(r => r.CostUsd is not null);
        double cost = ok.Sum(r => r.CostUsd ?? 0);
        int good = ok.Count(options.Goodput.IsMetBy);
        double d = duration > 0 ? duration : double.Epsilon;
        return new ServeBenchResult
        {
            Duration = duration,
            Completed = ok.Count,
            Failed = requests.Count - ok.Count,
            TotalInputTokens = input,
            TotalOutputTokens = output,
            RequestThroughput = ok.Count / d,
            OutputThroughput = output / d,
            TotalTokenThroughput = (input + output) / d,
            RequestGoodput = options.Goodput.Any ? good / d : null,
            Ttft = LatencyStats.FromSeconds(ok.Select(r => r.Ttft).ToList()),
            Tpot = LatencyStats.FromSeconds(ok.Where(r => r.OutputTokens > 1).Select(r => r.Tpot).ToList()),
            Itl = LatencyStats.FromSeconds(ok.SelectMany(r => r.Itl).ToList()),
            E2el = LatencyStats.FromSeconds(ok.Select(r => r.E2el).ToList()),
            JoulesPerOutputToken = output > 0 ? joules / output : null,
            UsdPerMillionTokens = anyCost && input + output > 0 ? cost / (input + output) * 1e6 : null,
            RequestRate = options.RequestRate,
            Burstiness = options.Burstiness,
            MaxConcurrency = options.MaxConcurrency,
            Requests = requests,
        };
    }

    /// <summary>vLLM-style JSON: summary fields plus per-request input_lens, output_lens, ttfts, itls, errors (seconds).</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("date", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
            if (double.IsInfinity(RequestRate)) w.WriteString("request_rate", "inf"); else w.WriteNumber("request_rate", RequestRate);
            w.WriteNumber("burstiness", Burstiness);
            if (MaxConcurrency is int mc) w.WriteNumber("max_concurrency", mc); else w.WriteNull("max_concurrency");
            w.WriteNumber("duration", Duration);
            w.WriteNumber("completed", Completed);
            w.WriteNumber("failed", Failed);
            w.WriteNumber("total_input_tokens", TotalInputTokens);
            w.WriteNumber("total_output_tokens", TotalOutputTokens);
            w.WriteNumber("request_throughput", RequestThroughput);
            if (RequestGoodput is double g) w.WriteNumber("request_goodput", g); else w.WriteNull("request_goodput");
            w.WriteNumber("output_throughput", OutputThroughput);
            w.WriteNumber("total_token_throughput", TotalTokenThroughput);
            foreach (var (name, s) in Metrics())
            {
                w.WriteNumber($"mean_{name}_ms", s.Mean);
                w.WriteNumber($"median_{name}_ms", s.Median);
                w.WriteNumber($"std_{name}_ms", s.Std);
                w.WriteNumber($"p99_{name}_ms", s.P99);
            }
            if (JoulesPerOutputToken is double j) w.WriteNumber("joules_per_output_token", j); else w.WriteNull("joules_per_output_token");
            if (UsdPerMillionTokens is double u) w.WriteNumber("usd_per_million_tokens", u); else w.WriteNull("usd_per_million_tokens");
            w.WriteStartArray("input_lens");
            foreach (var r in Requests) w.WriteNumberValue(r.PromptTokens);
            w.WriteEndArray();
            w.WriteStartArray("output_lens");
            foreach (var r in Requests) w.WriteNumberValue(r.OutputTokens);
            w.WriteEndArray();
            w.WriteStartArray("ttfts");
            foreach (var r in Requests) w.WriteNumberValue(r.Ttft);
            w.WriteEndArray();
            w.WriteStartArray("itls");
            foreach (var r in Requests)
            {
                w.WriteStartArray();
                foreach (double x in r.Itl) w.WriteNumberValue(x);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteStartArray("errors");
            foreach (var r in Requests) w.WriteStringValue(r.Error ?? "");
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>vLLM's "Serving Benchmark Result" table.</summary>
    public string ToTable()
    {
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        void Row(string label, string value) => sb.Append(ci, $"{label,-40}{value,10}\n");
        void Num(string label, double v) => Row(label, v.ToString("F2", ci));
        sb.Append("============ Serving Benchmark Result ============\n");
        Row("Successful requests:", Completed.ToString(ci));
        Row("Failed requests:", Failed.ToString(ci));
        if (MaxConcurrency is int mc) Row("Maximum request concurrency:", mc.ToString(ci));
        Num("Benchmark duration (s):", Duration);
        Row("Total input tokens:", TotalInputTokens.ToString(ci));
        Row("Total generated tokens:", TotalOutputTokens.ToString(ci));
        Num("Request throughput (req/s):", RequestThroughput);
        if (RequestGoodput is double g) Num("Request goodput (req/s):", g);
        Num("Output token throughput (tok/s):", OutputThroughput);
        Num("Total token throughput (tok/s):", TotalTokenThroughput);
        if (JoulesPerOutputToken is double j) Row("Energy per output token (J):", j.ToString("G4", ci));
        if (UsdPerMillionTokens is double u) Row("Cost per million tokens (USD):", u.ToString("G4", ci));
        foreach (var (name, s) in Metrics())
        {
            string title = name switch { "ttft" => "Time to First Token", "tpot" => "Time per Output Token (excl. 1st token)", "itl" => "Inter-token Latency", _ => "End-to-end Latency" };
            sb.Append(ci, $"{("-" + title + "-").PadLeft(25 + (title.Length + 2) / 2, '-').PadRight(50, '-')}\n");
            string up = name.ToUpperInvariant();
            Num($"Mean {up} (ms):", s.Mean);
            Num($"Median {up} (ms):", s.Median);
            Num($"P99 {up} (ms):", s.P99);
        }
        sb.Append(new string('=', 50)).Append('\n');
        return sb.ToString();
    }

    private (string Name, LatencyStats Stats)[] Metrics() => [("ttft", Ttft), ("tpot", Tpot), ("itl", Itl), ("e2el", E2el)];
}
