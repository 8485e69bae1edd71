using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Quanta.Bench.Tensor;

/// <summary>
/// Formats tensor benchmark results: a markdown table (model, scenario, batch, threads, queries, samples/s, p50, p90,
/// p99, and the scenario's verdict: SingleStream's p90, Offline's samples/s, Server's VALID/INVALID against its bound)
/// or a JSON array of <see cref="TensorScenarioResult"/> objects with snake_case names.
/// </summary>
public static class TensorBenchReport
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>Formats as "md" or "json".</summary>
    public static string Format(IReadOnlyList<TensorScenarioResult> results, string format) => format?.ToUpperInvariant() switch
    {
        "MD" => Markdown(results),
        "JSON" => ToJson(results),
        _ => throw new ArgumentException($"-o takes md or json, got '{format}'"),
    };

    /// <summary>The JSON array.</summary>
    public static string ToJson(IReadOnlyList<TensorScenarioResult> results) => JsonSerializer.Serialize(results, Json) + "\n";

    /// <summary>The markdown table.</summary>
    public static string Markdown(IReadOnlyList<TensorScenarioResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        static string F(double v, string fmt) => v.ToString(fmt, CultureInfo.InvariantCulture);
        var rows = new List<string[]> { new[] { "model", "scenario", "batch", "threads", "queries", "samples/s", "p50 ms", "p90 ms", "p99 ms", "result" } };
        foreach (var r in results)
        {
            string verdict = r.Scenario switch
            {
                "SingleStream" => $"p90 {F(r.P90Ms, "F2")} ms",
                "Offline" => $"{F(r.SamplesPerSecond, "F1")} {r.Unit}/s",
                _ => string.Create(CultureInfo.InvariantCulture,
                    $"{(r.Valid == true ? "VALID" : "INVALID")}: p99 {r.P99Ms:F1} ms vs {r.LatencyBoundMs:F0} ms at {r.TargetQps:F1} q/s ({r.QueriesPerSecond:F1} achieved{(r.Failed > 0 ? $", {r.Failed} refused" : "")}, {r.Batches} batches)"),
            };
            rows.Add([r.Model, r.Scenario, r.Batch.ToString(CultureInfo.InvariantCulture), r.Threads.ToString(CultureInfo.InvariantCulture),
                r.Queries.ToString(CultureInfo.InvariantCulture), F(r.SamplesPerSecond, "F2"), F(r.P50Ms, "F2"), F(r.P90Ms, "F2"), F(r.P99Ms, "F2"), verdict]);
        }
        var width = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        for (int i = 0; i < rows.Count; i++)
        {
            sb.Append('|');
            for (int c = 0; c < width.Length; c++) sb.Append(' ').Append(c is >= 2 and <= 8 ? rows[i][c].PadLeft(width[c]) : rows[i][c].PadRight(width[c])).Append(" |");
            sb.Append('\n');
            if (i == 0)
            {
                sb.Append('|');
                for (int c = 0; c < width.Length; c++) sb.Append(' ').Append(new string('-', Math.Max(width[c] - 1, 1))).Append(c is >= 2 and <= 8 ? ":" : "-").Append(" |");
                sb.Append('\n');
            }
        }
        return sb.ToString();
    }
}
