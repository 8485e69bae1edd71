using System.Text.Json;
using Quanta.Core.Memory;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Llama2c;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Models.Architectures;
using Quanta.Models.Architectures.Llama;

namespace Quanta.Models;

/// <summary>
/// Loads a model from disk, detecting the format: a GGUF file (magic "GGUF"), a Hugging Face directory or
/// .safetensors file with config.json beside it, or otherwise a llama2.c checkpoint. The architecture comes from
/// GGUF general.architecture or config.json "architectures" through <see cref="ArchitectureRegistry"/>.
/// </summary>
public static class ModelLoader
{
    /// <summary>Loads <paramref name="path"/> in whatever supported format it is; a GGUF file's weights are held as
    /// <paramref name="residency"/> says (null: <see cref="DefaultResidency"/>; other formats ignore it).</summary>
    public static LoadedModel Load(string path, FileResidency? residency = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) return LoadSafetensors(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"model file not found: {path}", path);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".safetensors.index.json", StringComparison.OrdinalIgnoreCase))
            return LoadSafetensors(path);
        Span<byte> magic = stackalloc byte[4];
        using (var fs = File.OpenRead(path))
        {
            if (fs.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual("GGUF"u8)) { }
            else magic.Clear();
        }
        return magic[0] == (byte)'G' ? (residency is { } r ? LoadGguf(path, r) : LoadGguf(path)) : LoadLlama2c(path);
    }

    /// <summary>Loads a GGUF file, its weights held as <see cref="DefaultResidency"/> chooses for its size.</summary>
    public static LoadedModel LoadGguf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return LoadGguf(path, DefaultResidency(new FileInfo(path).Length));
    }

    /// <summary>
    /// How <see cref="Load"/> holds a GGUF file of <paramref name="fileBytes"/>: read into huge pages where the kernel
    /// offers them (<see cref="HugePages.Available"/>) and the file takes at most half the memory the runtime sees, else
    /// mapped. Decode streams every weight once per step, and with the mapping's 4 KiB pages the TLB misses cost the
    /// 160M F16 model 29% of its CPU time per token on the development VM (<see cref="HugePages"/>); a mapping stays the
    /// choice for files too large to copy.
    /// </summary>
    public static FileResidency DefaultResidency(long fileBytes) =>
        HugePages.Available && fileBytes <= GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2 ? FileResidency.HugePages : FileResidency.Mapped;

    /// <summary>Loads a GGUF file, its weights mapped (zero-copy) or read into huge pages (<see cref="FileResidency"/>).</summary>
    public static LoadedModel LoadGguf(string path, FileResidency residency)
    {
        var file = GgufFile.Open(path, residency);
        try
        {
            var arch = ArchitectureRegistry.ForGguf(file.GetString("general.architecture"));
            var config = arch.ReadConfig(file);
            var weights = arch.LoadWeights(file, config);
            return new LoadedModel(path, ModelSourceKind.Gguf, arch, config, weights, file, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Loads a llama2.c checkpoint (F32 weights zero-copy from the mapping).</summary>
    public static LoadedModel LoadLlama2c(string path)
    {
        var ckpt = Llama2cCheckpoint.Open(path);
        try
        {
            var config = Llama2cLoader.ReadConfig(ckpt.Config);
            var weights = Llama2cLoader.LoadWeights(ckpt, config);
            return new LoadedModel(path, ModelSourceKind.Llama2c, LlamaArchitecture.Instance, config, weights, null, ckpt);
        }
        catch
        {
            ckpt.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads a Hugging Face checkpoint: <paramref name="path"/> is the directory, a .safetensors file or the index;
    /// config.json must sit in the same directory. F32/F16/BF16 matrices are used in place; quantized checkpoints
    /// (config.json quantization_config: compressed-tensors FP8/INT8/pack-quantized INT4, modelopt FP8 (also via
    /// hf_quant_config.json), gptq, awq gemm) are converted to Quanta rows (see <see cref="HuggingFace.QuantizedTensorLoader"/>);
    /// an unsupported configuration throws <see cref="NotSupportedException"/> naming its quant_method / format.
    /// </summary>
    public static LoadedModel LoadSafetensors(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string dir = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
        string configPath = Path.Combine(dir, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"config.json not found next to {path}", configPath);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(configPath));
        JsonElement root = doc.RootElement;
        var names = root.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray().Select(e => e.GetString() ?? "").ToList() : [];
        var arch = ArchitectureRegistry.ForHuggingFace(names);
        var ckpt = SafetensorsCheckpoint.Open(path);
        try
        {
            var config = arch.ReadConfig(root);
            var weights = arch.LoadWeights(ckpt, config);
            return new LoadedModel(path, ModelSourceKind.Safetensors, arch, config, weights, null, ckpt);
        }
        catch
        {
            ckpt.Dispose();
            throw;
        }
    }
}
