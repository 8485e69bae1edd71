using System.Text.Json;

namespace Quanta.Core.ModelFiles.Safetensors;

/// <summary>
/// A safetensors checkpoint that may be sharded: either one .safetensors file, or a
/// "model.safetensors.index.json" whose "weight_map" maps each tensor name to a shard file in the same
/// folder. Opening maps every shard once and checks that each tensor the index lists exists in its
/// shard; a missing shard, a tensor absent from its shard, or a shard name that leaves the folder throws
/// <see cref="ModelFileException"/>. Disposing closes all shards (and invalidates their views).
/// </summary>
public sealed class SafetensorsCheckpoint : IDisposable
{
    /// <summary>The index file name Hugging Face uses for sharded checkpoints.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    private const long MaxIndexBytes = 100_000_000;

    private readonly List<SafetensorsFile> _shards;
    private readonly Dictionary<string, (SafetensorsFile Shard, SafetensorsTensorInfo Info)> _tensors;
    private readonly List<string> _names;

    private SafetensorsCheckpoint(List<SafetensorsFile> shards, Dictionary<string, (SafetensorsFile, SafetensorsTensorInfo)> tensors, List<string> names)
    {
        _shards = shards;
        _tensors = tensors;
        _names = names;
    }

    /// <summary>
    /// Opens <paramref name="path"/>: a .safetensors file, an index .json, or a folder holding either
    /// model.safetensors.index.json or model.safetensors.
    /// </summary>
    /// <exception cref="ModelFileException">A file is malformed, missing, or inconsistent with the index.</exception>
    public static SafetensorsCheckpoint Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            string index = Path.Combine(path, IndexFileName);
            string single = Path.Combine(path, "model.safetensors");
            if (File.Exists(index)) return OpenIndex(index);
            if (File.Exists(single)) return OpenSingle(single);
            throw new ModelFileException(path, $"folder holds neither {IndexFileName} nor model.safetensors");
        }
        if (!File.Exists(path)) throw new ModelFileException(path, "file does not exist");
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? OpenIndex(path) : OpenSingle(path);
    }

    private static SafetensorsCheckpoint OpenSingle(string path)
    {
        SafetensorsFile file = SafetensorsFile.Open(path);
        var map = new Dictionary<string, (SafetensorsFile, SafetensorsTensorInfo)>(StringComparer.Ordinal);
        var names = new List<string>();
        foreach (SafetensorsTensorInfo t in file.Tensors)
        {
            map.Add(t.Name, (file, t));
            names.Add(t.Name);
        }
        return new SafetensorsCheckpoint([file], map, names);
    }

    private static SafetensorsCheckpoint OpenIndex(string indexPath)
    {
        var weightMap = ReadWeightMap(indexPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var shards = new List<SafetensorsFile>();
        var byShardName = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            var map = new Dictionary<string, (SafetensorsFile, SafetensorsTensorInfo)>(StringComparer.Ordinal);
            var names = new List<string>(weightMap.Count);
            foreach (var (tensor, shardName) in weightMap)
            {
                if (!byShardName.TryGetValue(shardName, out SafetensorsFile? shard))
                {
                    string shardPath = Path.Combine(folder, shardName);
                    if (!File.Exists(shardPath))
                        throw new ModelFileException(indexPath, $"shard '{shardName}' (listed for tensor '{tensor}') does not exist");
                    shard = SafetensorsFile.Open(shardPath);
                    shards.Add(shard);
                    byShardName.Add(shardName, shard);
                }
                if (!shard.TryGetTensor(tensor, out SafetensorsTensorInfo info))
                    throw new ModelFileException(shard.FilePath, $"tensor '{tensor}' listed in {Path.GetFileName(indexPath)} is missing from this shard");
                map.Add(tensor, (shard, info));
                names.Add(tensor);
            }
            return new SafetensorsCheckpoint(shards, map, names);
        }
        catch
        {
            foreach (SafetensorsFile s in shards) s.Dispose();
            throw;
        }
    }

    private static List<(string Tensor, string Shard)> ReadWeightMap(string indexPath)
    {
        long size = new FileInfo(indexPath).Length;
        if (size > MaxIndexBytes) throw new ModelFileException(indexPath, $"index of {size} bytes exceeds the {MaxIndexBytes}-byte limit");
        byte[] bytes = File.ReadAllBytes(indexPath);
        var result = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 8 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out JsonElement wm) || wm.ValueKind != JsonValueKind.Object)
                throw new ModelFileException(indexPath, "index has no 'weight_map' object");
            foreach (JsonProperty p in wm.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                    throw new ModelFileException(indexPath, $"weight_map entry '{p.Name}' is not a string");
                string shard = p.Value.GetString()!;
                if (shard.Length == 0 || shard.IndexOfAny(['/', '\\', ':']) >= 0 || shard is "." or "..")
                    throw new ModelFileException(indexPath, $"weight_map entry '{p.Name}' names shard '{shard}', which is not a plain file name in the index's folder");
                if (!seen.Add(p.Name)) throw new ModelFileException(indexPath, $"duplicate weight_map entry '{p.Name}'");
                result.Add((p.Name, shard));
            }
        }
        catch (JsonException e)
        {
            throw new ModelFileException(indexPath, $"index JSON is malformed: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new ModelFileException(indexPath, $"index JSON is malformed: {e.Message}", e);
        }
        return result;
    }

    /// <summary>The shard files (one for an unsharded checkpoint).</summary>
    public IReadOnlyList<SafetensorsFile> Shards => _shards;

    /// <summary>All tensor names (index order, or header order for a single file).</summary>
    public IReadOnlyList<string> TensorNames => _names;

    /// <summary>True when the checkpoint has the tensor.</summary>
    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>The tensor and the shard holding it; a missing tensor throws <see cref="ModelFileException"/>.</summary>
    public SafetensorsTensorInfo GetTensor(string name, out SafetensorsFile shard)
    {
        if (!_tensors.TryGetValue(name, out var entry))
            throw new ModelFileException(_shards.Count == 1 ? _shards[0].FilePath : "checkpoint", $"tensor '{name}' is missing");
        shard = entry.Shard;
        return entry.Info;
    }

    /// <summary>Zero-copy view of the tensor's bytes; valid only until this checkpoint is disposed.</summary>
    public ReadOnlySpan<byte> GetTensorData(string name)
    {
        SafetensorsTensorInfo info = GetTensor(name, out SafetensorsFile shard);
        return shard.GetTensorData(info);
    }

    /// <summary>Closes every shard.</summary>
    public void Dispose()
    {
        foreach (SafetensorsFile s in _shards) s.Dispose();
    }
}
