using SkiaSharp;

namespace Quanta.Planner.Charts;

/// <summary>
/// Makes sure charts have a font. The SkiaSharp native build Quanta ships (NativeAssets.Linux.NoDependencies) has no
/// fontconfig, so on Linux it finds no system typeface and ScottPlot would draw charts without any text. When the
/// default typeface has no glyphs, the first TrueType file found among the usual font folders (DejaVu Sans, Liberation
/// Sans, Arial, Helvetica preferred; QUANTA_CHART_FONT names a file explicitly) is registered with ScottPlot and made
/// the default. Runs once per process.
/// </summary>
public static class ChartFonts
{
    /// <summary>Name the registered font is known by.</summary>
    public const string Name = "Quanta Chart Sans";

    private static readonly Lazy<string?> Registered = new(Register);

    /// <summary>The font file in use, or null when the platform's default typeface already renders text (or none was found).</summary>
    public static string? EnsureFont() => Registered.Value;

    private static string? Register()
    {
        using (var probe = SKTypeface.Default)
        {
            if (probe != null && probe.GlyphCount > 0) return null;
        }
        string? file = Find();
        if (file == null) return null;
        ScottPlot.Fonts.AddFontFile(Name, file, bold: false, italic: false);
        // titles and axis labels are bold: register the family's bold face beside it (or the same file)
        string bold = Path.Combine(Path.GetDirectoryName(file)!, Path.GetFileNameWithoutExtension(file).Replace("-Regular", "", StringComparison.Ordinal) + "-Bold.ttf");
        ScottPlot.Fonts.AddFontFile(Name, File.Exists(bold) ? bold : file, bold: true, italic: false);
        ScottPlot.Fonts.Default = Name;
        ScottPlot.Fonts.Sans = Name;
        return file;
    }

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("QUANTA_CHART_FONT") is string env && File.Exists(env)) return env;
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string[] dirs = ["/usr/share/fonts", "/usr/local/share/fonts", Path.Combine(home, ".fonts"), Path.Combine(home, ".local/share/fonts"),
            "/System/Library/Fonts", "/Library/Fonts", Environment.GetFolderPath(Environment.SpecialFolder.Fonts)];
        string[] preferred = ["DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf", "arial.ttf", "Helvetica.ttf", "NotoSans-Regular.ttf"];
        var all = new List<string>();
        foreach (string d in dirs)
        {
            if (string.IsNullOrEmpty(d) || !Directory.Exists(d)) continue;
            try { all.AddRange(Directory.EnumerateFiles(d, "*.ttf", SearchOption.AllDirectories)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        foreach (string name in preferred)
            if (all.FirstOrDefault(f => string.Equals(Path.GetFileName(f), name, StringComparison.OrdinalIgnoreCase)) is string hit) return hit;
        return all.OrderBy(f => f, StringComparer.Ordinal).FirstOrDefault();
    }
}
