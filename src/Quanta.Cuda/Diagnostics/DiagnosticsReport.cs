using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Quanta.Cuda.Diagnostics;

/// <summary>Writes check results and benchmark figures as JSON (snake_case) and Markdown tables.</summary>
public static class DiagnosticsReport
{
    /// <summary>JSON of a device description, the checks and the figures.</summary>
    public static string Json(string device, IReadOnlyList<CheckResult> checks, IReadOnlyList<BenchFigure> figures)
    {
        ArgumentNullException.ThrowIfNull(checks);
        ArgumentNullException.ThrowIfNull(figures);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("device", device);
            w.WriteString("utc", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            w.WriteStartArray("checks");
            foreach (var c in checks)
            {
                w.WriteStartObject();
                w.WriteString("name", c.Name);
                w.WriteString("metric", c.Metric);
                WriteNumber(w, "error", c.Error);
                WriteNumber(w, "tolerance", c.Tolerance);
                w.WriteBoolean("passed", c.Passed);
                w.WriteString("detail", c.Detail);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("figures");
            foreach (var f in figures)
            {
                w.WriteStartObject();
                w.WriteString("name", f.Name);
                WriteNumber(w, "value", f.Value);
                w.WriteString("unit", f.Unit);
                w.WriteString("detail", f.Detail);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>Markdown tables of the checks and the figures.</summary>
    public static string Markdown(string device, IReadOnlyList<CheckResult> checks, IReadOnlyList<BenchFigure> figures)
    {
        ArgumentNullException.ThrowIfNull(checks);
        ArgumentNullException.ThrowIfNull(figures);
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.AppendLine(ci, $"Device: {device}").AppendLine();
        if (checks.Count > 0)
        {
            sb.AppendLine("| check | metric | error | tolerance | result | detail |").AppendLine("|---|---|---|---|---|---|");
            foreach (var c in checks)
                sb.AppendLine(ci, $"| {Cell(c.Name)} | {Cell(c.Metric)} | {c.Error:G3} | {c.Tolerance:G3} | {(c.Passed ? "pass" : "FAIL")} | {Cell(c.Detail)} |");
            sb.AppendLine();
        }
        if (figures.Count > 0)
        {
            sb.AppendLine("| figure | value | unit | detail |").AppendLine("|---|---|---|---|");
            foreach (var f in figures) sb.AppendLine(ci, $"| {Cell(f.Name)} | {f.Value:G4} | {Cell(f.Unit)} | {Cell(f.Detail)} |");
        }
        return sb.ToString();
    }

    private static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal);

    private static void WriteNumber(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v);
        else w.WriteString(name, v.ToString(CultureInfo.InvariantCulture));
    }
}
