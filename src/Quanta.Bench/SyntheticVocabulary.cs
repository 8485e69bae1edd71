using Quanta.Core.ModelFiles.Gguf;

namespace Quanta.Bench;

/// <summary>
/// A made-up SentencePiece ("llama") vocabulary of any size ≥ 259 that llama.cpp loads: id 0 "&lt;unk&gt;" UNKNOWN,
/// 1 "&lt;s&gt;" and 2 "&lt;/s&gt;" CONTROL, ids 3..258 the byte tokens "&lt;0x00&gt;".."&lt;0xFF&gt;" BYTE, then NORMAL pieces
/// "▁t259", "▁t260", ... with descending scores. Benchmarks feed random token ids, so only the size matters.
/// </summary>
public static class SyntheticVocabulary
{
    /// <summary>Adds the tokenizer.ggml.* keys for a vocabulary of <paramref name="size"/> tokens.</summary>
    public static void Write(GgufWriter w, int size)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (size < 259) throw new ArgumentOutOfRangeException(nameof(size), size, "a byte-fallback vocabulary needs at least 259 tokens");
        var tokens = new string[size];
        var scores = new float[size];
        var types = new int[size];
        tokens[0] = "<unk>"; types[0] = 2;
        tokens[1] = "<s>"; types[1] = 3;
        tokens[2] = "</s>"; types[2] = 3;
        for (int b = 0; b < 256; b++)
        {
            tokens[3 + b] = $"<0x{b:X2}>";
            types[3 + b] = 6;
        }
        for (int i = 259; i < size; i++)
        {
            tokens[i] = $"\u2581t{i}";
            types[i] = 1;
            scores[i] = -(i - 259);
        }
        w.Add("tokenizer.ggml.model", "llama");
        w.AddArray<string>("tokenizer.ggml.tokens", tokens);
        w.AddArray<float>("tokenizer.ggml.scores", scores);
        w.AddArray<int>("tokenizer.ggml.token_type", types);
        w.Add("tokenizer.ggml.bos_token_id", 1u);
        w.Add("tokenizer.ggml.eos_token_id", 2u);
        w.Add("tokenizer.ggml.unknown_token_id", 0u);
    }
}
