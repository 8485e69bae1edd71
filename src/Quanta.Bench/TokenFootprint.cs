using Quanta.Core.ModelFiles.Gguf;
using Quanta.Models.KvCache;

namespace Quanta.Bench;

/// <summary>
/// The bytes one generated token must read from memory, the lower bound on decode time at a given read bandwidth:
/// every tensor of the model except the token-embedding table (all weight matrices, the output head, norms),
/// plus the output head when it is tied to the embedding table (then the whole table is read), plus one row of the
/// embedding table, plus the keys and values of every position the token attends to.
/// </summary>
/// <param name="WeightBytes">Bytes of all tensors except token_embd, plus token_embd itself when the output is tied.</param>
/// <param name="EmbeddingRowBytes">Bytes of one token_embd row.</param>
/// <param name="KvBytesPerPosition">Keys + values of one position over all layers: layers · 2 · kv width · element bytes.</param>
public sealed record TokenFootprint(long WeightBytes, long EmbeddingRowBytes, long KvBytesPerPosition)
{
    /// <summary>Bytes a token attending to <paramref name="positions"/> cached positions (its own included) reads.</summary>
    public double BytesPerToken(double positions) => WeightBytes + EmbeddingRowBytes + KvBytesPerPosition * positions;

    /// <summary>
    /// Mean positions attended to over a tg run of <paramref name="generated"/> tokens after <paramref name="depth"/>
    /// cached ones: token k (0-based) sits at position depth+k and reads depth+k+1 positions, so the mean is depth + (n+1)/2.
    /// </summary>
    public static double MeanPositions(int depth, int generated) => depth + (generated + 1) / 2.0;

    /// <summary>Bytes of one KV element of <paramref name="type"/> (Q8_0: 1.125, a code plus a 4-byte scale per 32).</summary>
    public static double KvElementBytes(KvCacheType type) => KvCacheTypes.BytesPerElement(type);

    /// <summary>The footprint of a GGUF model (any architecture with {arch}.block_count / attention.* keys).</summary>
    public static TokenFootprint FromGguf(GgufFile file, KvCacheType kvType)
    {
        ArgumentNullException.ThrowIfNull(file);
        string arch = file.TryGetString("general.architecture", out string a) ? a : "llama";
        long Meta(string key, long fallback) => file.ContainsKey($"{arch}.{key}") ? file.GetInteger($"{arch}.{key}") : fallback;
        long layers = Meta("block_count", 0);
        long heads = Meta("attention.head_count", 1);
        long kvHeads = Meta("attention.head_count_kv", heads);
        long embd = Meta("embedding_length", 0);
        long keyLen = Meta("attention.key_length", embd / Math.Max(1, heads));
        long valueLen = Meta("attention.value_length", keyLen);
        long weights = 0, embRow = 0;
        bool tied = !file.TryGetTensor("output.weight", out _);
        foreach (var t in file.Tensors)
        {
            if (t.Name == "token_embd.weight")
            {
                embRow = t.ByteCount / t.RowCount;
                if (tied) weights += t.ByteCount;
            }
            else weights += t.ByteCount;
        }
        long kv = (long)Math.Round(layers * kvHeads * (keyLen + valueLen) * KvElementBytes(kvType));
        return new TokenFootprint(weights, embRow, kv);
    }
}
