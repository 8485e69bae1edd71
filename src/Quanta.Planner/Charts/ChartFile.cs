using ScottPlot;

namespace Quanta.Planner.Charts;

/// <summary>Saves a ScottPlot plot as PNG or SVG, chosen by the file's extension.</summary>
public static class ChartFile
{
    /// <summary>Default width in pixels.</summary>
    public const int Width = 1000;

    /// <summary>Default height in pixels.</summary>
    public const int Height = 600;

    /// <summary>Writes <paramref name="plot"/> to <paramref name="path"/> (.png or .svg).</summary>
    /// <exception cref="ArgumentException">Another extension.</exception>
    public static void Save(Plot plot, string path, int width = Width, int height = Height)
    {
        ArgumentNullException.ThrowIfNull(plot);
        ArgumentNullException.ThrowIfNull(path);
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".png" or ".svg")) throw new ArgumentException($"chart file '{path}': use a .png or .svg extension");
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir != null) Directory.CreateDirectory(dir);
        switch (ext)
        {
            case ".png": plot.SavePng(path, width, height); break;
            case ".svg": plot.SaveSvg(path, width, height); break;
            default: throw new ArgumentException($"chart file '{path}': use a .png or .svg extension");
        }
    }

    /// <summary>The file extension for a format name ("png" or "svg").</summary>
    public static string Extension(string format) => format.Trim().ToLowerInvariant() switch
    {
        "png" => ".png",
        "svg" => ".svg",
        _ => throw new ArgumentException($"chart format '{format}': expected png or svg"),
    };
}
