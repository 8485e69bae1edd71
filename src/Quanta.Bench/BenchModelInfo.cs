using System.Globalization;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Models.Conversion;
using Quanta.Models.KvCache;

namespace Quanta.Bench;

/// <summary>
/// What llama-bench reports about a model, read from its GGUF file: file name, description "arch size ftype"
/// (model_type), total tensor bytes (model_size), total elements (model_n_params), plus the per-token read footprint.
/// </summary>
public sealed record BenchModelInfo(string FileName, string ModelType, long ModelSize, long ParamCount, TokenFootprint Footprint)
{
    /// <summary>Reads the info of the GGUF at <paramref name="path"/>.</summary>
    public static BenchModelInfo FromGguf(string path, KvCacheType kvType)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"model file not found: {path}", path);
        using var file = GgufFile.Open(path);
        return FromGguf(file, path, kvType);
    }

    /// <summary>Reads the info of an opened GGUF file.</summary>
    public static BenchModelInfo FromGguf(GgufFile file, string path, KvCacheType kvType)
    {
        ArgumentNullException.ThrowIfNull(file);
        long size = 0, pars = 0;
        foreach (var t in file.Tensors)
        {
            size += t.ByteCount;
            pars += t.ElementCount;
        }
        string arch = file.TryGetString("general.architecture", out string a) ? a : "?";
        string ftype = file.ContainsKey("general.file_type")
            ? GgufQuantType.All.FirstOrDefault(q => q.FileType == file.GetInteger("general.file_type"))?.Name ?? $"ftype{file.GetInteger("general.file_type")}"
            : "?";
        return new BenchModelInfo(path, $"{arch} {SizeLabel(pars)} {ftype}", size, pars, TokenFootprint.FromGguf(file, kvType));
    }

    /// <summary>Parameter count as a short label: "112K", "162M", "1B", "8B".</summary>
    public static string SizeLabel(long parameters) => parameters switch
    {
        >= 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{Math.Round(parameters / 1e9):F0}B"),
        >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{Math.Round(parameters / 1e6):F0}M"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Math.Round(parameters / 1e3):F0}K"),
    };
}
