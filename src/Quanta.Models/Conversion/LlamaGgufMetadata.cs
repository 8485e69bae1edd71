using Quanta.Core.ModelFiles.Gguf;

namespace Quanta.Models.Conversion;

/// <summary>
/// The general.* and llama.* keys llama.cpp reads for the llama architecture, written from a <see cref="ModelConfig"/>:
/// context_length, embedding_length, block_count, feed_forward_length, rope.dimension_count, attention.head_count,
/// attention.head_count_kv, attention.layer_norm_rms_epsilon, rope.freq_base, vocab_size, attention.key_length /
/// value_length (only when the head dim is not embedding/heads) and linear rope scaling.
/// </summary>
public static class LlamaGgufMetadata
{
    /// <summary>Adds the keys to <paramref name="w"/>; <paramref name="fileType"/> is llama.cpp's general.file_type.</summary>
    public static void Write(GgufWriter w, ModelConfig c, string name, uint fileType)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(c);
        const string P = "llama.";
        w.Add("general.architecture", "llama");
        w.Add("general.name", name);
        w.Add("general.file_type", fileType);
        w.Add(P + "context_length", (uint)c.ContextLength);
        w.Add(P + "embedding_length", (uint)c.EmbeddingLength);
        w.Add(P + "block_count", (uint)c.Layers);
        w.Add(P + "feed_forward_length", (uint)c.FeedForwardLength);
        w.Add(P + "rope.dimension_count", (uint)c.Rope.RotaryDims);
        w.Add(P + "attention.head_count", (uint)c.Heads);
        w.Add(P + "attention.head_count_kv", (uint)c.KvHeads);
        w.Add(P + "attention.layer_norm_rms_epsilon", c.NormEps);
        w.Add(P + "rope.freq_base", c.Rope.FreqBase);
        w.Add(P + "vocab_size", (uint)c.VocabSize);
        if (c.HeadDim * c.Heads != c.EmbeddingLength)
        {
            w.Add(P + "attention.key_length", (uint)c.HeadDim);
            w.Add(P + "attention.value_length", (uint)c.HeadDim);
        }
        if (c.Rope.FreqScale != 1f)
        {
            w.Add(P + "rope.scaling.type", "linear");
            w.Add(P + "rope.scaling.factor", 1f / c.Rope.FreqScale);
        }
    }
}
