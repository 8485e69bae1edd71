using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Quanta.Bench;

/// <summary>
/// Formats results like llama-bench: a markdown table (model, size, params, backend, threads, test, t/s, then the
/// bandwidth columns: GB/s read per second, bw before/after, bound t/s, % of bound, "!" marking unstable readings),
/// CSV (a header of the JSON field names, every value quoted, samples joined by ';'), or a JSON array of objects with
/// snake_case names (see <see cref="BenchResult"/>).
/// </summary>
public static class BenchReport
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    /// <summary>Column headers of the markdown table.</summary>
    public static IReadOnlyList<string> MarkdownColumns { get; } =
        ["model", "size", "params", "backend", "threads", "test", "t/s", "GB/s", "bw before GB/s", "bw after GB/s", "bound t/s", "of bound"];

    /// <summary>Field names of the CSV header, in order (the JSON names).</summary>
    public static IReadOnlyList<string> CsvColumns { get; } =
    [
        "engine", "model_filename", "model_type", "model_size", "model_n_params", "backends", "n_threads", "type_k", "type_v",
        "n_prompt", "n_gen", "n_depth", "test", "test_time", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts", "samples_ns", "samples_ts",
        "bytes_per_token", "bw_before_gbps", "bw_after_gbps", "effective_gbps", "bound_ts", "bound_fraction", "bw_attempts", "bw_unstable",
    ];

    /// <summary>Formats <paramref name="results"/> as "md", "csv" or "json".</summary>
    public static string Format(IReadOnlyList<BenchResult> results, string format) => format?.ToUpperInvariant() switch
    {
        "MD" => Markdown(results),
        "CSV" => Csv(results),
        "JSON" => ToJson(results),
        _ => throw new ArgumentException($"-o takes md, csv or json, got '{format}'"),
    };

    /// <summary>The markdown table.</summary>
    public static string Markdown(IReadOnlyList<BenchResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var rows = new List<string[]> { MarkdownColumns.ToArray() };
        foreach (var r in results)
        {
            string F(double? v, string fmt) => v is double d ? d.ToString(fmt, CultureInfo.InvariantCulture) : "";
            rows.Add([
                r.ModelType,
                string.Create(CultureInfo.InvariantCulture, $"{r.ModelSize / 1048576.0:F2} MiB"),
                string.Create(CultureInfo.InvariantCulture, $"{r.ModelNParams / 1e9:F2} B"),
                r.Backends,
                r.NThreads.ToString(CultureInfo.InvariantCulture),
                r.Test,
                string.Create(CultureInfo.InvariantCulture, $"{r.AvgTs:F2} ± {r.StddevTs:F2}"),
                F(r.EffectiveGbps, "F2"),
                F(r.BwBeforeGbps, "F2"),
                F(r.BwAfterGbps, "F2"),
                F(r.BoundTs, "F2"),
                r.BoundFraction is double f ? string.Create(CultureInfo.InvariantCulture, $"{f * 100:F1}%{(r.BwUnstable == true ? " !" : "")}") : "",
            ]);
        }
        int[] width = new int[MarkdownColumns.Count];
        foreach (var row in rows)
            for (int i = 0; i < row.Length; i++) width[i] = Math.Max(width[i], row[i].Length);
        bool[] right = [false, true, true, false, true, true, true, true, true, true, true, true];
        var sb = new StringBuilder();
        void Line(string[] cells) => sb.Append("| ").AppendJoin(" | ", cells.Select((c, i) => right[i] ? c.PadLeft(width[i]) : c.PadRight(width[i]))).Append(" |\n");
        Line(rows[0]);
        sb.Append('|').AppendJoin("|", width.Select((w, i) => right[i] ? new string('-', w + 1) + ":" : new string('-', w + 2))).Append("|\n");
        foreach (var row in rows.Skip(1)) Line(row);
        if (results.Any(r => r.BwUnstable == true))
            sb.Append("\n! the bandwidth readings before and after still differed by more than 10% after the last attempt\n");
        return sb.ToString();
    }

    /// <summary>CSV with a header line of <see cref="CsvColumns"/>.</summary>
    public static string Csv(IReadOnlyList<BenchResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var sb = new StringBuilder();
        sb.AppendJoin(",", CsvColumns).Append('\n');
        foreach (var r in results)
        {
            using var doc = JsonDocument.Parse(JsonSerializer.Serialize(r, Json));
            var cells = CsvColumns.Select(c =>
            {
                JsonElement e = doc.RootElement.GetProperty(c);
                string v = e.ValueKind switch
                {
                    JsonValueKind.Null => "",
                    JsonValueKind.String => e.GetString()!,
                    JsonValueKind.Array => string.Join(";", e.EnumerateArray().Select(x => x.GetRawText())),
                    _ => e.GetRawText(),
                };
                return "\"" + v.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
            });
            sb.AppendJoin(",", cells).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>A JSON array of result objects.</summary>
    public static string ToJson(IReadOnlyList<BenchResult> results) => JsonSerializer.Serialize(results, Json) + "\n";
}
