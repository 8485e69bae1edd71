namespace Quanta.Core.Tokenizers;

/// <summary>
/// Everything a tokenizer is built from, as read from a model file before llama.cpp's defaults are applied
/// (GGUF tokenizer.ggml.* keys, a Hugging Face tokenizer.json, or a llama2.c tokenizer). Null members mean
/// "absent from the file". Consumed by <see cref="VocabTokenizer.Create"/>.
/// </summary>
public sealed class VocabularyDefinition
{
    /// <summary>tokenizer.ggml.model: "llama", "gpt2" or "bert".</summary>
    public required string Model { get; init; }
    /// <summary>tokenizer.ggml.pre (byte-level BPE only).</summary>
    public string? Pre { get; init; }
    /// <summary>Token texts by id.</summary>
    public required IReadOnlyList<string> Tokens { get; init; }
    /// <summary>Scores by id (SentencePiece merge priority).</summary>
    public IReadOnlyList<float>? Scores { get; init; }
    /// <summary>GGUF token types by id (<see cref="GgufTokenType"/> values).</summary>
    public IReadOnlyList<int>? TokenTypes { get; init; }
    /// <summary>BPE merges in rank order, each "left right".</summary>
    public IReadOnlyList<string>? Merges { get; init; }
    /// <summary>tokenizer.ggml.bos_token_id.</summary>
    public long? BosId { get; init; }
    /// <summary>tokenizer.ggml.eos_token_id.</summary>
    public long? EosId { get; init; }
    /// <summary>tokenizer.ggml.eot_token_id.</summary>
    public long? EotId { get; init; }
    /// <summary>tokenizer.ggml.unknown_token_id.</summary>
    public long? UnkId { get; init; }
    /// <summary>tokenizer.ggml.seperator_token_id.</summary>
    public long? SepId { get; init; }
    /// <summary>tokenizer.ggml.padding_token_id.</summary>
    public long? PadId { get; init; }
    /// <summary>tokenizer.ggml.add_bos_token.</summary>
    public bool? AddBos { get; init; }
    /// <summary>tokenizer.ggml.add_eos_token.</summary>
    public bool? AddEos { get; init; }
    /// <summary>tokenizer.ggml.add_space_prefix.</summary>
    public bool? AddSpacePrefix { get; init; }
    /// <summary>tokenizer.ggml.normalizer.lowercase (WordPiece).</summary>
    public bool? Lowercase { get; init; }
    /// <summary>tokenizer.ggml.normalizer.strip_accents (WordPiece).</summary>
    public bool? StripAccents { get; init; }
    /// <summary>general.name (llama.cpp adjusts some token attributes by model name, e.g. Phi-3).</summary>
    public string? ModelName { get; init; }
    /// <summary>
    /// Whether llama.cpp's per-model default special ids apply where the file gives none (true for GGUF;
    /// false for sources that always name their special tokens, such as tokenizer.json).
    /// </summary>
    public bool DefaultSpecialIds { get; init; } = true;
    /// <summary>Label for error messages (a file path).</summary>
    public string Source { get; init; } = "<tokenizer>";
}
