using System.Globalization;
using ScottPlot;
using SkiaSharp;

namespace Quanta.Bench.Serve;

/// <summary>One measured load point of a sweep: its label (e.g. "rate 4" or "c 16") and its result.</summary>
/// <param name="Label">How the point was loaded, shown beside it.</param>
/// <param name="Result">The benchmark result at that load.</param>
public sealed record ServeSweepPoint(string Label, ServeBenchResult Result);

/// <summary>
/// The latency-versus-throughput chart of a `quanta bench serve` sweep: x = output tokens/s, four series — TTFT p50 and
/// p99 on the left axis, TPOT p50 and p99 on the right axis (both in ms) — one marker per load point, joined in
/// sweep order and labelled with the load. PNG or SVG by the file extension.
/// </summary>
public static class ServeChart
{
    /// <summary>Series names, in the order they are drawn.</summary>
    public static IReadOnlyList<string> SeriesNames { get; } = ["TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99"];

    /// <summary>Series colours (#RRGGBB), one per <see cref="SeriesNames"/> entry: blues for TTFT, reds for TPOT.</summary>
    public static IReadOnlyList<string> SeriesColors { get; } = ["#1F4E9E", "#6FA8F5", "#C0392B", "#F39C7A"];

    /// <summary>Writes the chart of <paramref name="points"/> to <paramref name="path"/> (.png or .svg).</summary>
    /// <exception cref="ArgumentException">No points, or an extension other than .png / .svg.</exception>
    public static void Write(IReadOnlyList<ServeSweepPoint> points, string path, int width = 900, int height = 560)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (points.Count == 0) throw new ArgumentException("the chart needs at least one load point", nameof(points));
        string ext = Path.GetExtension(path).ToUpperInvariant();
        if (ext is not (".PNG" or ".SVG")) throw new ArgumentException($"--chart must name a .png or .svg file, got '{path}'", nameof(path));

        EnsureFont();
        using var plot = new Plot();
        double[] x = points.Select(p => p.Result.OutputThroughput).ToArray();
        var series = new (double[] Y, bool Right, LinePattern Pattern)[]
        {
            (points.Select(p => p.Result.Ttft.Median).ToArray(), false, LinePattern.Solid),
            (points.Select(p => p.Result.Ttft.P99).ToArray(), false, LinePattern.Dashed),
            (points.Select(p => p.Result.Tpot.Median).ToArray(), true, LinePattern.Solid),
            (points.Select(p => p.Result.Tpot.P99).ToArray(), true, LinePattern.Dashed),
        };
        Color[] colors = SeriesColors.Select(Color.FromHex).ToArray();
        for (int i = 0; i < series.Length; i++)
        {
            var scatter = plot.Add.Scatter(x, series[i].Y, colors[i]);
            scatter.LegendText = SeriesNames[i];
            scatter.LinePattern = series[i].Pattern;
            scatter.MarkerSize = 7;
            if (series[i].Right) scatter.Axes.YAxis = plot.Axes.Right;
        }
        for (int i = 0; i < points.Count; i++)
        {
            var text = plot.Add.Text(points[i].Label, x[i], series[0].Y[i]);
            text.LabelFontSize = 11;
            text.LabelOffsetY = -14;
        }
        plot.Title("Latency vs throughput");
        plot.XLabel("output throughput (tokens/s)");
        plot.Axes.Left.Label.Text = "time to first token (ms)";
        plot.Axes.Right.Label.Text = "time per output token (ms)";
        plot.ShowLegend(Alignment.UpperLeft);
        if (ext == ".PNG") plot.SavePng(path, width, height);
        else plot.SaveSvg(path, width, height);
    }

    private static readonly Lock FontGate = new();
    private static bool s_fontChecked;

    /// <summary>Name under which a font file found on disk is registered when Skia sees no system fonts.</summary>
    internal const string FallbackFontName = "Quanta Chart Sans";

    /// <summary>
    /// The Skia build this project ships (NativeAssets.Linux.NoDependencies) has no fontconfig, so on Linux its default
    /// typeface has no glyphs and the chart would have no text. Then a TrueType file is looked up in the usual font folders
    /// (DejaVu Sans or Liberation Sans first) and registered as the default font; without one the chart has no text.
    /// </summary>
    private static void EnsureFont()
    {
        lock (FontGate)
        {
            if (s_fontChecked) return;
            s_fontChecked = true;
            using (SKTypeface? system = SKTypeface.FromFamilyName(Fonts.Default))
            {
                if (system is { GlyphCount: > 0 }) return;
            }
            string? file = FindFontFile();
            if (file is null) return;
            Fonts.AddFontFile(FallbackFontName, file, bold: false, italic: false);
            Fonts.AddFontFile(FallbackFontName, file, bold: true, italic: false);
            Fonts.Default = FallbackFontName;
        }
    }

    private static string? FindFontFile()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string[] folders = ["/usr/share/fonts", "/usr/local/share/fonts", Path.Combine(home, ".fonts"), Path.Combine(home, ".local/share/fonts"), "/System/Library/Fonts", "/Library/Fonts"];
        string[] preferred = ["DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf", "NotoSans-Regular.ttf", "FreeSans.ttf"];
        var found = new List<string>();
        foreach (string folder in folders.Where(Directory.Exists))
        {
            try
            {
                found.AddRange(Directory.EnumerateFiles(folder, "*.ttf", SearchOption.AllDirectories).Take(2000));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // an unreadable folder: look elsewhere
            }
        }
        foreach (string name in preferred)
        {
            string? hit = found.FirstOrDefault(f => string.Equals(Path.GetFileName(f), name, StringComparison.OrdinalIgnoreCase));
            if (hit is not null) return hit;
        }
        return found.FirstOrDefault(f => !Path.GetFileName(f).Contains("Bold", StringComparison.OrdinalIgnoreCase) && !Path.GetFileName(f).Contains("Italic", StringComparison.OrdinalIgnoreCase)
            && !Path.GetFileName(f).Contains("Oblique", StringComparison.OrdinalIgnoreCase)) ?? found.FirstOrDefault();
    }

    /// <summary>A short label for a load point: the request rate and/or the concurrency.</summary>
    public static string Label(double rate, int? concurrency)
    {
        string r = double.IsPositiveInfinity(rate) ? "" : string.Create(CultureInfo.InvariantCulture, $"{rate:G4} req/s");
        string c = concurrency is int n ? string.Create(CultureInfo.InvariantCulture, $"c={n}") : "";
        return r.Length > 0 && c.Length > 0 ? r + ", " + c : r.Length > 0 ? r : c.Length > 0 ? c : "inf";
    }
}
