using System.Globalization;
using System.Text;

namespace Quanta.Engine.Metrics;

/// <summary>Formatting rules of the Prometheus text exposition format 0.0.4.</summary>
internal static class PrometheusText
{
    /// <summary>
    /// A sample value: shortest round-trip decimal (invariant culture), "+Inf", "-Inf" or "NaN".
    /// </summary>
    public static void WriteValue(TextWriter w, double v)
    {
        if (double.IsPositiveInfinity(v)) { w.Write("+Inf"); return; }
        if (double.IsNegativeInfinity(v)) { w.Write("-Inf"); return; }
        if (double.IsNaN(v)) { w.Write("NaN"); return; }
        Span<char> buf = stackalloc char[32];
        if (v.TryFormat(buf, out int n, "R", CultureInfo.InvariantCulture)) w.Write(buf[..n]);
        else w.Write(v.ToString("R", CultureInfo.InvariantCulture));
    }

    /// <summary>A value as the text of an "le" label.</summary>
    public static string FormatBound(double v)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        WriteValue(sw, v);
        return sw.ToString();
    }

    /// <summary>Label value escaping: backslash → \\, double quote → \", line feed → \n.</summary>
    public static void AppendLabelValue(StringBuilder sb, string value)
    {
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append(@"\n"); break;
                default: sb.Append(c); break;
            }
        }
    }

    /// <summary>HELP text escaping: backslash → \\, line feed → \n.</summary>
    public static string EscapeHelp(string text)
    {
        if (text.AsSpan().IndexOfAny('\\', '\n') < 0) return text;
        return text.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("\n", @"\n", StringComparison.Ordinal);
    }

    /// <summary>
    /// The rendered label block of a series: "" for no labels, else {a="x",b="y"}; with <paramref name="openForLe"/> the
    /// block is left open for an appended le label: {a="x",b="y", or { when there are none.
    /// </summary>
    public static string Labels(LabelSet labels, bool openForLe)
    {
        if (labels.Count == 0) return openForLe ? "{" : "";
        var sb = new StringBuilder("{");
        for (int i = 0; i < labels.Count; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(labels.Name(i)).Append("=\"");
            AppendLabelValue(sb, labels.Value(i));
            sb.Append('"');
        }
        sb.Append(openForLe ? "," : "}");
        return sb.ToString();
    }
}
