using Quanta.Core.ModelFiles.Gguf;

namespace Quanta.Models.Conversion;

/// <summary>Output helpers shared by the converters.</summary>
internal static class GgufFiles
{
    /// <summary>Writes to a temporary file beside <paramref name="destination"/> and renames it, so a failed run leaves no partial file.</summary>
    public static void WriteAtomically(GgufWriter w, string destination)
    {
        string full = Path.GetFullPath(destination);
        string? dir = Path.GetDirectoryName(full);
        if (dir != null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");
        string tmp = full + ".tmp-" + Environment.ProcessId;
        try
        {
            w.WriteTo(tmp);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
