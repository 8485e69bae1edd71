namespace Quanta.Core.Tokenizers;

/// <summary>The tokenization algorithm of a vocabulary (llama.cpp's vocab types).</summary>
public enum TokenizerKind
{
    /// <summary>SentencePiece BPE (tokenizer.ggml.model "llama"): score-ordered merges, byte fallback.</summary>
    SentencePiece,
    /// <summary>Byte-level BPE (tokenizer.ggml.model "gpt2"): regex pre-tokenizer, ranked merges.</summary>
    BytePairEncoding,
    /// <summary>WordPiece (tokenizer.ggml.model "bert"): greedy longest match per word.</summary>
    WordPiece,
}

/// <summary>
/// Converts text to token ids and back, exactly as llama.cpp does for the same vocabulary. Text is
/// handled as UTF-8 (a lone UTF-16 surrogate counts as U+FFFD). Implementations are immutable and safe
/// for concurrent use.
/// </summary>
public interface ITokenizer
{
    /// <summary>The algorithm.</summary>
    TokenizerKind Kind { get; }

    /// <summary>Number of token ids (valid ids are 0..VocabSize-1).</summary>
    int VocabSize { get; }

    /// <summary>Beginning-of-sequence token (BERT: [CLS]), if any.</summary>
    int? Bos { get; }
    /// <summary>End-of-sequence token, if any.</summary>
    int? Eos { get; }
    /// <summary>End-of-turn token (e.g. &lt;|eot_id|&gt;, &lt;|im_end|&gt;), if any.</summary>
    int? Eot { get; }
    /// <summary>Unknown token, if any.</summary>
    int? Unk { get; }
    /// <summary>Padding token, if any.</summary>
    int? Pad { get; }
    /// <summary>Separator token (BERT: [SEP]), if any.</summary>
    int? Sep { get; }

    /// <summary>Whether <see cref="Encode(string, bool, bool)"/> with addSpecial prepends <see cref="Bos"/>.</summary>
    bool AddBos { get; }
    /// <summary>Whether <see cref="Encode(string, bool, bool)"/> with addSpecial appends <see cref="Eos"/>.</summary>
    bool AddEos { get; }
    /// <summary>Whether <see cref="Decode"/> tidies spaces before punctuation by default (llama.cpp's clean_spaces).</summary>
    bool CleanSpaces { get; }

    /// <summary>
    /// Tokenizes <paramref name="text"/>. <paramref name="addSpecial"/> adds the vocabulary's BOS/EOS
    /// (WordPiece: [CLS] ... [SEP]). With <paramref name="parseSpecial"/>, text equal to a control token's text
    /// becomes that token; otherwise it is plain text. User-defined tokens are always split out.
    /// </summary>
    int[] Encode(string text, bool addSpecial = true, bool parseSpecial = false);

    /// <summary>Like <see cref="Encode(string, bool, bool)"/>, appending to <paramref name="output"/>.</summary>
    void Encode(string text, List<int> output, bool addSpecial = true, bool parseSpecial = false);

    /// <summary>
    /// The UTF-8 bytes token <paramref name="id"/> stands for (llama.cpp's token_to_piece without lstrip).
    /// Control and unknown tokens give their text when <paramref name="renderSpecial"/>, else nothing.
    /// A piece may be an incomplete UTF-8 sequence (byte tokens); join pieces before decoding them.
    /// </summary>
    ReadOnlySpan<byte> TokenToPiece(int id, bool renderSpecial = true);

    /// <summary>
    /// Text of <paramref name="ids"/> (llama.cpp's detokenize): pieces joined as bytes, then UTF-8 decoded
    /// (invalid sequences become U+FFFD). SentencePiece drops one leading space of the first piece.
    /// <paramref name="removeSpecial"/> drops a leading BOS / trailing EOS the vocabulary adds;
    /// <paramref name="renderSpecial"/> renders control tokens' text; <paramref name="cleanSpaces"/> (default:
    /// <see cref="CleanSpaces"/>) removes spaces before ?!., and in a few apostrophe contractions.
    /// </summary>
    string Decode(ReadOnlySpan<int> ids, bool removeSpecial = false, bool renderSpecial = false, bool? cleanSpaces = null);

    /// <summary>The vocabulary text of token <paramref name="id"/> (as stored, e.g. "▁the" or "Ġthe").</summary>
    string TokenText(int id);

    /// <summary>Attributes of token <paramref name="id"/>.</summary>
    TokenAttributes GetAttributes(int id);

    /// <summary>True for control tokens (BOS, EOS, chat markers).</summary>
    bool IsControl(int id);

    /// <summary>True for tokens matched as whole strings before tokenization: control, user-defined and unknown.</summary>
    bool IsSpecial(int id);

    /// <summary>True when <paramref name="id"/> ends generation (EOS, EOT and the end markers llama.cpp lists).</summary>
    bool IsEndOfGeneration(int id);
}
