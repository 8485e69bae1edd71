using System.Text.Json;
using Quanta.Core.ModelFiles;

namespace Quanta.Planner.Catalogs;

/// <summary>
/// The model catalog: the built-in models.json, user files of the same format, and models read from a file (GGUF,
/// safetensors with config.json beside it, or a Hugging Face config.json read directly).
/// </summary>
public sealed class ModelCatalog
{
    private sealed record FileShape(string? Format, IReadOnlyList<ModelSpec>? Models);

    private readonly List<ModelSpec> _models;

    private ModelCatalog(List<ModelSpec> models) => _models = models;

    /// <summary>The models, in catalog order.</summary>
    public IReadOnlyList<ModelSpec> Models => _models;

    /// <summary>The built-in catalog.</summary>
    public static ModelCatalog BuiltIn() => Load([]);

    /// <summary>The built-in catalog plus the models of <paramref name="userFiles"/>, later ones replacing by id.</summary>
    public static ModelCatalog Load(IEnumerable<string> userFiles)
    {
        var list = Parse(CatalogJson.BuiltIn("models.json"), "built-in models.json");
        foreach (string f in userFiles)
        {
            if (!File.Exists(f)) throw new FileNotFoundException($"model catalog not found: {f}", f);
            foreach (var m in Parse(File.ReadAllText(f), f))
            {
                int i = list.FindIndex(x => string.Equals(x.Id, m.Id, StringComparison.OrdinalIgnoreCase));
                if (i >= 0) list[i] = m; else list.Add(m);
            }
        }
        return new ModelCatalog(list);
    }

    /// <summary>Finds a model by id, name or alias (case and punctuation ignored); null when none matches.</summary>
    public ModelSpec? Find(string name)
    {
        string k = CatalogJson.Key(name);
        return _models.FirstOrDefault(m => CatalogJson.Key(m.Id) == k || CatalogJson.Key(m.Name) == k
            || (m.Aliases ?? []).Any(a => CatalogJson.Key(a) == k));
    }

    /// <summary>A catalog model by name, or else a model file / config.json at that path.</summary>
    /// <exception cref="ArgumentException">Neither a known name nor an existing file.</exception>
    public ModelSpec Resolve(string nameOrPath)
    {
        if (Find(nameOrPath) is { } m) return m;
        if (File.Exists(nameOrPath) || Directory.Exists(nameOrPath)) return FromFile(nameOrPath);
        throw new ArgumentException($"unknown model '{nameOrPath}': not in the catalog (known: {string.Join(", ", _models.Select(x => x.Id))}) and no such file");
    }

    /// <summary>
    /// Reads a model's shape from a Hugging Face config.json (directly) or any model file Quanta can inspect (GGUF,
    /// safetensors + config.json). Mixture-of-experts counts are read from config.json (num_local_experts,
    /// num_experts_per_tok); a GGUF file is treated as dense.
    /// </summary>
    public static ModelSpec FromFile(string path)
    {
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && File.Exists(path) && !path.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase))
            return FromConfigJson(path);
        var s = ModelFileInspector.Inspect(path);
        var h = s.Hyper;
        if (h.Layers is not int layers || h.EmbeddingLength is not int hidden || h.Heads is not int heads)
            throw new InvalidDataException($"{path}: the file states no transformer shape (layers, embedding length, heads)");
        bool tied = !s.Tensors.Any(t => t.Name is "output.weight" or "lm_head.weight");
        return new ModelSpec(Path.GetFileNameWithoutExtension(path), Path.GetFileName(path), "llm", [], $"read from {path} ({s.Kind})",
            Layers: layers, Hidden: hidden, Intermediate: h.FeedForwardLength ?? 4 * hidden, Heads: heads, KvHeads: h.KvHeads ?? heads,
            HeadDim: h.HeadDim ?? hidden / heads, Vocab: h.VocabSize ?? 0, TiedEmbeddings: tied, ContextLength: h.ContextLength);
    }

    private static ModelSpec FromConfigJson(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var r = doc.RootElement;
            if (r.TryGetProperty("text_config", out var tc) && tc.ValueKind == JsonValueKind.Object) r = tc;
            int? I(params string[] keys)
            {
                foreach (string k in keys)
                    if (r.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int x)) return x;
                return null;
            }
            int layers = I("num_hidden_layers", "n_layer") ?? throw new InvalidDataException($"{path}: no num_hidden_layers");
            int hidden = I("hidden_size", "n_embd") ?? throw new InvalidDataException($"{path}: no hidden_size");
            int heads = I("num_attention_heads", "n_head") ?? throw new InvalidDataException($"{path}: no num_attention_heads");
            bool tied = r.TryGetProperty("tie_word_embeddings", out var te) && te.ValueKind == JsonValueKind.True;
            string mt = r.TryGetProperty("model_type", out var mtv) && mtv.ValueKind == JsonValueKind.String ? mtv.GetString() ?? "" : "";
            bool plain = mt is "gptj" or "gpt2" or "gpt_neox" or "opt" or "falcon";
            return new ModelSpec(Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? "model", mt, "llm", [], $"read from {path}",
                Layers: layers, Hidden: hidden, Intermediate: I("intermediate_size", "n_inner") ?? 4 * hidden, Heads: heads,
                KvHeads: I("num_key_value_heads") ?? heads, HeadDim: I("head_dim") ?? hidden / heads, Vocab: I("vocab_size") ?? 0,
                TiedEmbeddings: tied, Mlp: plain ? "plain" : "gated", Experts: I("num_local_experts", "num_experts") ?? 1,
                ActiveExperts: I("num_experts_per_tok") ?? 1, ContextLength: I("max_position_embeddings"));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: config.json is not valid JSON: {e.Message}", e);
        }
    }

    private static List<ModelSpec> Parse(string json, string origin)
    {
        var shape = CatalogJson.Parse<FileShape>(json, origin);
        var list = (shape.Models ?? throw new InvalidDataException($"{origin}: no \"models\" array")).ToList();
        foreach (var m in list)
        {
            if (string.IsNullOrWhiteSpace(m.Id) || string.IsNullOrWhiteSpace(m.Kind)) throw new InvalidDataException($"{origin}: a model lacks \"id\" or \"kind\"");
            if (string.IsNullOrWhiteSpace(m.Source)) throw new InvalidDataException($"{origin}: model {m.Id} has no source");
            if (m.IsLlm && (m.Layers <= 0 || m.Hidden <= 0 || m.Heads <= 0 || m.KvHeads <= 0 || m.HeadDim <= 0))
                throw new InvalidDataException($"{origin}: model {m.Id} lacks layers/hidden/heads/kv_heads/head_dim");
            if (!m.IsLlm && m.FlopsPerSample <= 0) throw new InvalidDataException($"{origin}: model {m.Id} lacks flops_per_sample");
        }
        return list;
    }
}
