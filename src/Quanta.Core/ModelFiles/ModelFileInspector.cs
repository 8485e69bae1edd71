using System.Globalization;
using System.Text;
using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Llama2c;
using Quanta.Core.ModelFiles.Safetensors;

namespace Quanta.Core.ModelFiles;

/// <summary>Which container a model file uses.</summary>
public enum ModelFileKind
{
    Gguf,
    Safetensors,
    Llama2c,
}

/// <summary>One tensor as <see cref="ModelFileInspector"/> reports it.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType">Storage type name (GGUF type, safetensors dtype or F32 for llama2.c).</param>
/// <param name="Shape">Dimensions in the file's own order.</param>
/// <param name="Bytes">Bytes of tensor data.</param>
public sealed record TensorSummary(string Name, string DType, long[] Shape, long Bytes);

/// <summary>
/// Transformer hyper-parameters found in the file, where it states them (null when absent).
/// </summary>
public sealed record Hyperparameters(string? Architecture, int? Layers, int? EmbeddingLength, int? FeedForwardLength,
    int? Heads, int? KvHeads, int? HeadDim, int? ContextLength, int? VocabSize)
{
    /// <summary>Bytes of KV cache one token occupies across all layers at <paramref name="bytesPerElement"/> (2 for F16).</summary>
    public long? KvBytesPerToken(int bytesPerElement) =>
        Layers is int l && KvHeads is int kv && HeadDim is int hd ? 2L * l * kv * hd * bytesPerElement : null;
}

/// <summary>What a model file holds: container, metadata, tensors, hyper-parameters.</summary>
public sealed record ModelFileSummary(string Path, ModelFileKind Kind, string? Version,
    IReadOnlyList<KeyValuePair<string, string>> Metadata, IReadOnlyList<TensorSummary> Tensors, Hyperparameters Hyper)
{
    /// <summary>Total bytes of tensor data.</summary>
    public long TensorBytes => Tensors.Sum(t => t.Bytes);

    /// <summary>Total parameters (elements over all tensors).</summary>
    public long Parameters => Tensors.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));

    /// <summary>Bytes and tensor counts per storage type, largest first.</summary>
    public IReadOnlyList<(string DType, int Count, long Bytes)> ByType =>
        Tensors.GroupBy(t => t.DType, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count(), g.Sum(t => t.Bytes)))
            .OrderByDescending(g => g.Item3).ToList();
}

/// <summary>
/// Reads any supported model file (GGUF, safetensors file / sharded index / folder, llama2.c checkpoint) and
/// summarizes it. The kind is recognized from the content, not the extension. Malformed files raise
/// <see cref="ModelFileException"/>; a file of no known kind raises it too, naming the kinds tried.
/// </summary>
public static class ModelFileInspector
{
    /// <summary>Longest metadata value preview (arrays show their first elements and their count).</summary>
    public const int PreviewChars = 80;

    /// <summary>Recognizes the container of <paramref name="path"/>.</summary>
    public static ModelFileKind Detect(string path)
    {
        if (Directory.Exists(path) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return ModelFileKind.Safetensors;
        if (!File.Exists(path)) throw new FileNotFoundException($"model file not found: {path}", path);
        Span<byte> head = stackalloc byte[9];
        int n;
        using (var fs = File.OpenRead(path)) n = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (n >= 4 && head[0] == (byte)'G' && head[1] == (byte)'G' && head[2] == (byte)'U' && head[3] == (byte)'F') return ModelFileKind.Gguf;
        if (n >= 9 && head[8] == (byte)'{') return ModelFileKind.Safetensors;
        if (n >= 4 && BitConverter.ToUInt32(head) == Llama2cCheckpoint.VersionMagic) return ModelFileKind.Llama2c;
        if (path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase)) return ModelFileKind.Llama2c;
        throw new ModelFileException(path, "not a model file Quanta can read (expected GGUF, safetensors or a llama2.c .bin checkpoint)");
    }

    /// <summary>Summarizes the model file at <paramref name="path"/>.</summary>
    public static ModelFileSummary Inspect(string path) => Detect(path) switch
    {
        ModelFileKind.Gguf => InspectGguf(path),
        ModelFileKind.Safetensors => InspectSafetensors(path),
        _ => InspectLlama2c(path),
    };

    private static ModelFileSummary InspectGguf(string path)
    {
        using var f = GgufFile.Open(path);
        var meta = f.MetadataInOrder.Select(kv => new KeyValuePair<string, string>(kv.Key, Preview(kv.Value))).ToList();
        var tensors = f.Tensors.Select(t => new TensorSummary(t.Name, t.Type.ToString(), t.Shape.ToArray(), t.ByteCount)).ToList();
        string? arch = f.TryGetString("general.architecture", out string a) ? a : null;
        int? Int(string key) => arch != null && f.ContainsKey($"{arch}.{key}") ? (int)f.GetInteger($"{arch}.{key}") : null;
        int? emb = Int("embedding_length"), heads = Int("attention.head_count");
        int? headDim = Int("attention.key_length") ?? (emb is int e && heads is int h && h > 0 ? e / h : null);
        int? vocab = f.TryGetArray<string>("tokenizer.ggml.tokens", out var toks) ? toks.Length : Int("vocab_size");
        var hp = new Hyperparameters(arch, Int("block_count"), emb, Int("feed_forward_length"), heads,
            Int("attention.head_count_kv") ?? heads, headDim, Int("context_length"), vocab);
        return new ModelFileSummary(path, ModelFileKind.Gguf, $"v{f.Version}", meta, tensors, hp);
    }

    private static ModelFileSummary InspectSafetensors(string path)
    {
        using var ckpt = SafetensorsCheckpoint.Open(path);
        var tensors = new List<TensorSummary>();
        foreach (string name in ckpt.TensorNames)
        {
            var t = ckpt.GetTensor(name, out _);
            tensors.Add(new TensorSummary(name, SafetensorsDTypeInfo.Name(t.DType), t.Shape.ToArray(), t.ByteCount));
        }
        var meta = ckpt.Shards.SelectMany(s => s.Metadata).Select(kv => new KeyValuePair<string, string>(kv.Key, Truncate(kv.Value)))
            .DistinctBy(kv => kv.Key).ToList();
        var hp = HyperparametersFromConfig(path);
        return new ModelFileSummary(path, ModelFileKind.Safetensors, null, meta, tensors, hp);
    }

    /// <summary>Reads a Hugging Face config.json next to a safetensors checkpoint, if there is one.</summary>
    private static Hyperparameters HyperparametersFromConfig(string path)
    {
        string dir = Directory.Exists(path) ? path : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? ".";
        string cfg = System.IO.Path.Combine(dir, "config.json");
        if (!File.Exists(cfg)) return new Hyperparameters(null, null, null, null, null, null, null, null, null);
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(cfg));
            var root = doc.RootElement;
            int? I(string k) => root.TryGetProperty(k, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.Number && v.TryGetInt32(out int x) ? x : null;
            string? arch = root.TryGetProperty("architectures", out var archs) && archs.ValueKind == System.Text.Json.JsonValueKind.Array && archs.GetArrayLength() > 0
                ? archs[0].GetString() : null;
            int? emb = I("hidden_size"), heads = I("num_attention_heads");
            return new Hyperparameters(arch, I("num_hidden_layers"), emb, I("intermediate_size"), heads,
                I("num_key_value_heads") ?? heads, I("head_dim") ?? (emb is int e && heads is int h && h > 0 ? e / h : null),
                I("max_position_embeddings"), I("vocab_size"));
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ModelFileException(cfg, $"config.json is not valid JSON: {e.Message}", e);
        }
    }

    private static ModelFileSummary InspectLlama2c(string path)
    {
        using var c = Llama2cCheckpoint.Open(path);
        var cfg = c.Config;
        var tensors = c.Tensors.Select(t => new TensorSummary(t.Name, "F32", t.Shape.ToArray(), t.ElementCount * 4)).ToList();
        var meta = new List<KeyValuePair<string, string>>
        {
            new("format", c.Format.ToString()),
            new("shared_classifier", cfg.SharedClassifier ? "true" : "false"),
        };
        var hp = new Hyperparameters("llama", cfg.NLayers, cfg.Dim, cfg.HiddenDim, cfg.NHeads, cfg.NKvHeads, cfg.HeadSize, cfg.SeqLen, cfg.VocabSize);
        return new ModelFileSummary(path, ModelFileKind.Llama2c, c.Format.ToString(), meta, tensors, hp);
    }

    private static string Preview(GgufValue v)
    {
        if (v.Type != GgufValueType.Array) return Truncate(v.ToString());
        var arr = v.As<GgufArray>();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"[{arr.ElementType} x {arr.Count}]");
        if (arr.ElementType != GgufValueType.Array && arr.Count > 0)
        {
            sb.Append(' ');
            for (int i = 0; i < arr.Count && sb.Length < PreviewChars; i++)
            {
                if (i > 0) sb.Append(", ");
                sb.Append(ElementText(arr, i));
            }
        }
        return Truncate(sb.ToString());
    }

    private static string ElementText(GgufArray arr, int i) => arr.ElementType switch
    {
        GgufValueType.String => Escape(arr.AsSpan<string>()[i]),
        GgufValueType.Float32 => arr.AsSpan<float>()[i].ToString(CultureInfo.InvariantCulture),
        GgufValueType.Int32 => arr.AsSpan<int>()[i].ToString(CultureInfo.InvariantCulture),
        GgufValueType.UInt32 => arr.AsSpan<uint>()[i].ToString(CultureInfo.InvariantCulture),
        GgufValueType.Int64 => arr.AsSpan<long>()[i].ToString(CultureInfo.InvariantCulture),
        GgufValueType.UInt8 => arr.AsSpan<byte>()[i].ToString(CultureInfo.InvariantCulture),
        GgufValueType.Int8 => arr.AsSpan<sbyte>()[i].ToString(CultureInfo.InvariantCulture),
        GgufValueType.Bool => arr.AsSpan<bool>()[i] ? "true" : "false",
        _ => "…",
    };

    private static string Escape(string s) => "'" + s.Replace("\n", "\\n", StringComparison.Ordinal) + "'";

    private static string Truncate(string s)
    {
        s = s.Replace("\n", "\\n", StringComparison.Ordinal);
        return s.Length <= PreviewChars ? s : string.Concat(s.AsSpan(0, PreviewChars - 1), "…");
    }
}
