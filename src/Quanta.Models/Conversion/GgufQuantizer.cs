using Quanta.Core.Formats;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Gguf;

namespace Quanta.Models.Conversion;

/// <summary>
/// GGUF → GGUF quantization like llama-quantize (no importance matrix): every tensor's type comes from
/// <see cref="GgufQuantizationRules"/>; a tensor whose type changes is decoded to F32 with its codec and re-encoded with
/// the target's <see cref="CodecRegistry"/> codec (bit-identical to ggml's reference quantizers, which llama-quantize
/// runs when no importance matrix is given); others are copied byte for byte. Metadata is copied, with
/// general.file_type set to the target and general.quantization_version 2. Tensors keep the source order.
/// </summary>
public static class GgufQuantizer
{
    /// <summary>Quantizes <paramref name="source"/> into <paramref name="destination"/>; returns the chosen type of every tensor.</summary>
    public static IReadOnlyDictionary<string, GgmlType> Quantize(string source, string destination, GgufQuantType target, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(target);
        using var src = OpenGguf(source);
        string arch = src.TryGetString("general.architecture", out string a) ? a : "llama";
        int Meta(string key, int fallback) => src.ContainsKey($"{arch}.{key}") ? checked((int)src.GetInteger($"{arch}.{key}")) : fallback;
        int heads = Meta("attention.head_count", 1);
        var tensors = src.Tensors.Select(t => (t.Name, t.Rank, t.Shape[0], t.Type)).ToList();
        var plan = GgufQuantizationRules.Plan(target, tensors, Meta("block_count", 0), heads, Meta("attention.head_count_kv", heads));

        var w = new GgufWriter(src.Version >= 3 ? 3u : 2u);
        foreach (var kv in src.MetadataInOrder)
            if (kv.Key is not ("general.file_type" or "general.quantization_version")) w.Add(kv.Key, kv.Value);
        w.Add("general.quantization_version", 2u);
        w.Add("general.file_type", target.FileType);

        long before = 0, after = 0;
        int i = 0;
        foreach (GgufTensorInfo t in src.Tensors)
        {
            GgmlType to = plan[t.Name];
            ReadOnlySpan<byte> data = src.GetTensorData(t);
            byte[] bytes;
            if (to == t.Type) bytes = data.ToArray();
            else
            {
                int cols = checked((int)t.Shape[0]);
                if (!CodecRegistry.TryGet(t.Type, out _))
                    throw new NotSupportedException($"tensor '{t.Name}' is {t.Type}, which Quanta cannot decode for re-quantization");
                float[] f32 = TensorEncoding.Decode(data, t.RowCount, cols, t.Type);
                bytes = TensorEncoding.Encode(f32, checked((int)t.RowCount), cols, to);
            }
            w.AddTensor(t.Name, to, t.Shape, bytes);
            before += t.ByteCount;
            after += bytes.Length;
            log?.Invoke($"[{++i,4}/{src.Tensors.Count}] {t.Name,-32} {t.Type,-5} -> {to,-5} [{string.Join(", ", t.Shape.ToArray())}]");
        }
        log?.Invoke($"size {before / 1048576.0:F2} MiB -> {after / 1048576.0:F2} MiB ({target.Name})");
        GgufFiles.WriteAtomically(w, destination);
        return plan;
    }

    private static GgufFile OpenGguf(string path)
    {
        if (Directory.Exists(path)) throw new ArgumentException($"{path} is a folder; GGUF quantization types need a .gguf source (FP8/INT8 take safetensors)");
        if (!File.Exists(path)) throw new FileNotFoundException($"model file not found: {path}", path);
        using (var fs = File.OpenRead(path))
        {
            Span<byte> magic = stackalloc byte[4];
            if (fs.ReadAtLeast(magic, 4, throwOnEndOfStream: false) != 4 || !magic.SequenceEqual("GGUF"u8))
                throw new ModelFileException(path, "not a GGUF file; GGUF quantization types need a .gguf source (convert it first)");
        }
        return GgufFile.Open(path);
    }
}
