using System.Text;
using Quanta.Core.ModelFiles;

namespace Quanta.Core.Tokenizers;

/// <summary>
/// A tokenizer over an explicit vocabulary, reproducing llama.cpp's <c>llama_vocab</c>: its load-time
/// defaults (special ids, add_bos/add_eos, pre-tokenizer flags), special-token partitioning
/// (<c>tokenizer_st_partition</c>), the SentencePiece, byte-level BPE and WordPiece algorithms, token_to_piece
/// and detokenize. Build one with <see cref="Create"/> or <see cref="TokenizerFactory"/>. Immutable and
/// thread-safe.
/// </summary>
public sealed class VocabTokenizer : ITokenizer
{
    private readonly string[] _texts;
    private readonly float[] _scores;
    private readonly TokenAttributes[] _attrs;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly Dictionary<string, int>? _merges;
    private readonly int[] _specialCache;
    private readonly byte[][] _pieces;
    private readonly HashSet<int> _eog;

    private VocabTokenizer(TokenizerKind kind, string[] texts, float[] scores, TokenAttributes[] attrs,
        Dictionary<string, int> tokenToId, Dictionary<string, int>? merges, BpePreTokenizer? pre)
    {
        Kind = kind;
        _texts = texts;
        _scores = scores;
        _attrs = attrs;
        _tokenToId = tokenToId;
        _lookup = tokenToId.GetAlternateLookup<ReadOnlySpan<char>>();
        _merges = merges;
        PreTokenizer = pre;
        _specialCache = [];
        _pieces = [];
        _eog = [];
    }

    /// <inheritdoc/>
    public TokenizerKind Kind { get; }
    /// <inheritdoc/>
    public int VocabSize => _texts.Length;
    /// <inheritdoc/>
    public int? Bos { get; private set; }
    /// <inheritdoc/>
    public int? Eos { get; private set; }
    /// <inheritdoc/>
    public int? Eot { get; private set; }
    /// <inheritdoc/>
    public int? Unk { get; private set; }
    /// <inheritdoc/>
    public int? Pad { get; private set; }
    /// <inheritdoc/>
    public int? Sep { get; private set; }
    /// <inheritdoc/>
    public bool AddBos { get; private set; }
    /// <inheritdoc/>
    public bool AddEos { get; private set; }
    /// <summary>Whether WordPiece encoding appends [SEP] with addSpecial (tokenizer.ggml.add_sep_token).</summary>
    public bool AddSep { get; private set; }
    /// <inheritdoc/>
    public bool CleanSpaces { get; private set; }
    /// <summary>SentencePiece: whether a space is prepended to text at the start or after a special token.</summary>
    public bool AddSpacePrefix { get; private set; }
    /// <summary>Byte-level BPE: whether a whole word found in the vocabulary skips merging (Llama 3).</summary>
    public bool IgnoreMerges { get; private set; }
    /// <summary>WordPiece: lower-case the input.</summary>
    public bool Lowercase { get; private set; }
    /// <summary>WordPiece: strip accents (NFD, drop marks).</summary>
    public bool StripAccents { get; private set; }
    /// <summary>Byte-level BPE: the pre-tokenizer variant (null for other kinds).</summary>
    public BpePreTokenizerKind? PreTokenizerKind => PreTokenizer?.Kind;

    internal BpePreTokenizer? PreTokenizer { get; }
    /// <summary>Longest token text in UTF-8 bytes.</summary>
    internal int MaxTokenBytes { get; private set; }

    // ---- construction ------------------------------------------------------------------------------

    /// <summary>The tokenizer model names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> SupportedModels { get; } = ["llama", "gpt2", "bert"];

    private sealed record PreInfo(BpePreTokenizerKind Kind, bool CleanSpaces, bool IgnoreMerges, bool AddBos);

    private static readonly Dictionary<string, PreInfo> s_pre = BuildPreTable();

    private static Dictionary<string, PreInfo> BuildPreTable()
    {
        var t = new Dictionary<string, PreInfo>(StringComparer.Ordinal);
        void Add(PreInfo info, params string[] names) { foreach (string n in names) t.Add(n, info); }
        Add(new(BpePreTokenizerKind.Default, true, false, false), "default");
        Add(new(BpePreTokenizerKind.Llama3, true, true, true), "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2");
        Add(new(BpePreTokenizerKind.Llama3, true, false, false), "dbrx", "smaug-bpe");
        Add(new(BpePreTokenizerKind.DeepSeekLlm, false, false, false), "deepseek-llm");
        Add(new(BpePreTokenizerKind.DeepSeekCoder, false, false, false), "deepseek-coder");
        Add(new(BpePreTokenizerKind.Falcon, true, false, false), "falcon");
        Add(new(BpePreTokenizerKind.Gpt2, true, false, false), "gpt-2", "mpt", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum", "modern-bert", "olmo", "jais", "exaone4");
        Add(new(BpePreTokenizerKind.Gpt2, false, false, false), "trillion", "granite-docling");
        Add(new(BpePreTokenizerKind.StarCoder, true, false, false), "starcoder", "refact", "codeshell", "exaone", "minerva-7b");
        Add(new(BpePreTokenizerKind.StarCoder, false, false, false), "command-r", "smollm");
        Add(new(BpePreTokenizerKind.Qwen2, false, false, false), "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2");
        Add(new(BpePreTokenizerKind.Qwen2, true, false, false), "stablelm2", "megrez");
        return t;
    }

    /// <summary>The byte-level BPE pre-tokenizer names (tokenizer.ggml.pre) <see cref="Create"/> accepts.</summary>
    public static IReadOnlyCollection<string> SupportedPreTokenizers => s_pre.Keys;

    // Texts llama.cpp recognises as end-of-turn (first match in this order wins here) and as end-of-generation.
    private static readonly string[] s_eotTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
        "[EOT]", "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "<end_of_utterance>",
    ];
    private static readonly HashSet<string> s_eogTexts = new(StringComparer.Ordinal)
    {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "[e~[",
    };

    /// <summary>
    /// Builds a tokenizer from <paramref name="def"/>, applying llama.cpp's load rules: per-model default special
    /// ids (llama: BOS 1, EOS 2, UNK 0; bert: [CLS] 101, [UNK] 100, [SEP] 102, [PAD] 0; gpt2: BOS = EOS = 11), out of
    /// range ids disabled, add_bos default true for llama/bert and for Llama-3-style pre-tokenizers, end-of-turn
    /// detection by token text, Phi-3's rstrip attributes.
    /// </summary>
    /// <exception cref="NotSupportedException">Unknown tokenizer model or pre-tokenizer (the message lists the supported names).</exception>
    /// <exception cref="ModelFileException">Inconsistent vocabulary (duplicate token, short score/type arrays, missing merges).</exception>
    public static VocabTokenizer Create(VocabularyDefinition def)
    {
        ArgumentNullException.ThrowIfNull(def);
        TokenizerKind kind = def.Model switch
        {
            "llama" => TokenizerKind.SentencePiece,
            "gpt2" => TokenizerKind.BytePairEncoding,
            "bert" => TokenizerKind.WordPiece,
            _ => throw new NotSupportedException(
                $"{def.Source}: unknown tokenizer model '{def.Model}' (supported: {string.Join(", ", SupportedModels)})"),
        };

        int n = def.Tokens.Count;
        if (n == 0) throw new ModelFileException(def.Source, "the vocabulary is empty");
        if (def.Scores is { } sc && sc.Count < n)
            throw new ModelFileException(def.Source, $"{sc.Count} scores for {n} tokens");
        if (def.TokenTypes is { } tt && tt.Count < n)
            throw new ModelFileException(def.Source, $"{tt.Count} token types for {n} tokens");

        int? bos = null, eos = null, unk = null, sep = null, pad = null;
        bool addBos = false, addEos = false, addSep = false, addSpacePrefix = false, clean = false, ignoreMerges = false;
        BpePreTokenizer? pre = null;
        Dictionary<string, int>? merges = null;
        switch (kind)
        {
            case TokenizerKind.SentencePiece:
                bos = 1; eos = 2; unk = 0;
                addSpacePrefix = true; addBos = true;
                break;
            case TokenizerKind.WordPiece:
                bos = 101; unk = 100; sep = 102; pad = 0;
                addBos = true; addSep = true; clean = true;
                break;
            default:
            {
                bos = 11; eos = 11;
                if (def.Merges is null) throw new ModelFileException(def.Source, "byte-level BPE vocabulary without merges (tokenizer.ggml.merges)");
                PreInfo info;
                if (string.IsNullOrEmpty(def.Pre)) info = s_pre["default"];
                else if (!s_pre.TryGetValue(def.Pre, out info!))
                    throw new NotSupportedException(
                        $"{def.Source}: unknown pre-tokenizer type '{def.Pre}' (supported: {string.Join(", ", s_pre.Keys.Order(StringComparer.Ordinal))})");
                pre = new BpePreTokenizer(info.Kind);
                clean = info.CleanSpaces;
                ignoreMerges = info.IgnoreMerges;
                addBos = info.AddBos;
                merges = new Dictionary<string, int>(def.Merges.Count, StringComparer.Ordinal);
                for (int i = 0; i < def.Merges.Count; i++)
                {
                    string m = def.Merges[i];
                    if (m.IndexOf(' ', 1 < m.Length ? 1 : m.Length) > 0) merges.TryAdd(m, i);
                }
                break;
            }
        }
        if (def.AddSpacePrefix is { } asp) addSpacePrefix = asp;
        if (!def.DefaultSpecialIds) bos = eos = unk = sep = pad = null;

        var texts = new string[n];
        var scores = new float[n];
        var attrs = new TokenAttributes[n];
        var tokenToId = new Dictionary<string, int>(n, StringComparer.Ordinal);
        int maxBytes = 0;
        for (int i = 0; i < n; i++)
        {
            string word = def.Tokens[i];
            if (string.IsNullOrEmpty(word)) word = $"[EMPTY_{i}]";
            if (!tokenToId.TryAdd(word, i))
                throw new ModelFileException(def.Source, $"duplicate token in vocabulary: '{word}' has ids {tokenToId[word]} and {i}");
            texts[i] = word;
            maxBytes = Math.Max(maxBytes, Encoding.UTF8.GetByteCount(word));
            scores[i] = def.Scores?[i] ?? 0f;
            attrs[i] = def.TokenTypes is { } types ? TokenAttributesExtensions.FromTokenType(types[i]) : TokenAttributes.Normal;
        }

        var tok = new VocabTokenizer(kind, texts, scores, attrs, tokenToId, merges, pre);
        tok.MaxTokenBytes = maxBytes;

        int? Pick(int? dflt, long? given)
        {
            if (dflt is { } d && d >= n) dflt = null;
            if (given is { } g && g >= 0 && g < n) return (int)g;
            return dflt;
        }
        tok.Bos = Pick(bos, def.BosId);
        tok.Eos = Pick(eos, def.EosId);
        tok.Unk = Pick(unk, def.UnkId);
        tok.Sep = Pick(sep, def.SepId);
        tok.Pad = Pick(pad, def.PadId);
        tok.Eot = Pick(null, def.EotId);
        if (def.AddBos is { } ab) addBos = ab;
        if (def.AddEos is { } ae) addEos = ae;
        if (addBos && tok.Bos is null) throw new ModelFileException(def.Source, "add_bos_token is true, but no BOS token is set");
        if (addEos && tok.Eos is null) throw new ModelFileException(def.Source, "add_eos_token is true, but no EOS token is set");
        if (kind == TokenizerKind.WordPiece && addSep && tok.Sep is null) throw new ModelFileException(def.Source, "add_sep_token is true, but no SEP token is set");
        tok.AddBos = addBos;
        tok.AddEos = addEos;
        tok.AddSep = addSep;
        tok.AddSpacePrefix = addSpacePrefix;
        tok.CleanSpaces = clean;
        tok.IgnoreMerges = ignoreMerges;
        tok.Lowercase = def.Lowercase ?? true;
        tok.StripAccents = def.StripAccents ?? tok.Lowercase;

        // End-of-turn / end-of-generation tokens found by text; llama.cpp forces them to be control tokens.
        if (tok.Eot is null)
        {
            foreach (string t in s_eotTexts)
            {
                if (tokenToId.TryGetValue(t, out int id))
                {
                    tok.Eot = id;
                    attrs[id] |= TokenAttributes.Control;
                    break;
                }
            }
        }
        foreach (string t in s_eogTexts)
        {
            if (tokenToId.TryGetValue(t, out int id))
            {
                tok._eog.Add(id);
                attrs[id] |= TokenAttributes.Control;
            }
        }
        if (tok.Eos is { } eosId) tok._eog.Add(eosId);
        if (tok.Eot is { } eotId) tok._eog.Add(eotId);

        var special = new List<int>();
        for (int i = 0; i < n; i++)
            if ((attrs[i] & (TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown)) != 0) special.Add(i);
        // Longest text first (ties by id, for determinism).
        special.Sort((a, b) =>
        {
            int c = Encoding.UTF8.GetByteCount(texts[b]).CompareTo(Encoding.UTF8.GetByteCount(texts[a]));
            return c != 0 ? c : a.CompareTo(b);
        });

        // llama.cpp: for Phi-3 models every special token strips whitespace to its right, except <unk>, <s>, <|endoftext|>.
        string name = (def.ModelName ?? "").ToLowerInvariant();
        if (name.Contains("phi-3", StringComparison.Ordinal) || name.Contains("phi3", StringComparison.Ordinal))
        {
            foreach (int id in special) attrs[id] |= TokenAttributes.RStrip;
            if (tokenToId.TryGetValue("</s>", out int s)) attrs[s] |= TokenAttributes.RStrip;
            foreach (string t in new[] { "<unk>", "<s>", "<|endoftext|>" })
                if (tokenToId.TryGetValue(t, out int id)) attrs[id] &= ~TokenAttributes.RStrip;
        }

        var pieces = new byte[n][];
        for (int i = 0; i < n; i++) pieces[i] = tok.ComputePiece(i);
        return new VocabTokenizer(tok, special.ToArray(), pieces);
    }

    // Final instance: copies the configured state and adds the caches.
    private VocabTokenizer(VocabTokenizer t, int[] specialCache, byte[][] pieces)
        : this(t.Kind, t._texts, t._scores, t._attrs, t._tokenToId, t._merges, t.PreTokenizer)
    {
        _specialCache = specialCache;
        _pieces = pieces;
        _eog = t._eog;
        Bos = t.Bos; Eos = t.Eos; Eot = t.Eot; Unk = t.Unk; Pad = t.Pad; Sep = t.Sep;
        AddBos = t.AddBos; AddEos = t.AddEos; AddSep = t.AddSep; CleanSpaces = t.CleanSpaces;
        AddSpacePrefix = t.AddSpacePrefix; IgnoreMerges = t.IgnoreMerges; Lowercase = t.Lowercase;
        StripAccents = t.StripAccents; MaxTokenBytes = t.MaxTokenBytes;
    }

    // ---- lookups used by the algorithms ----------------------------------------------------------------

    /// <summary>Id of the token whose text is <paramref name="text"/>, or -1.</summary>
    internal int Find(ReadOnlySpan<char> text) => _lookup.TryGetValue(text, out int id) ? id : -1;

    internal float Score(int id) => _scores[id];

    /// <summary>Merge rank of (left, right) given as "left right" in <paramref name="pair"/>, or -1.</summary>
    internal int MergeRank(ReadOnlySpan<char> pair) =>
        _merges is not null && _merges.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(pair, out int r) ? r : -1;

    /// <summary>llama.cpp's byte_to_token for SentencePiece: "&lt;0xXX&gt;", else the byte as a one-character token.</summary>
    internal int ByteToToken(byte b)
    {
        Span<char> hex = ['<', '0', 'x', "0123456789ABCDEF"[b >> 4], "0123456789ABCDEF"[b & 15], '>'];
        int id = Find(hex);
        if (id >= 0) return id;
        if (b < 0x80)
        {
            Span<char> one = [(char)b];
            id = Find(one);
            if (id >= 0) return id;
        }
        return Unk ?? throw new InvalidOperationException($"vocabulary has no token for byte 0x{b:X2} and no unknown token");
    }

    // ---- ITokenizer --------------------------------------------------------------------------------

    /// <summary>The id of the token whose vocabulary text is exactly <paramref name="text"/>, or null.</summary>
    public int? FindToken(string text) => _tokenToId.TryGetValue(text, out int id) ? id : null;

    /// <inheritdoc/>
    public string TokenText(int id) => _texts[CheckId(id)];

    /// <inheritdoc/>
    public TokenAttributes GetAttributes(int id) => _attrs[CheckId(id)];

    /// <summary>Score of token <paramref name="id"/> (0 when the vocabulary has none).</summary>
    public float GetScore(int id) => _scores[CheckId(id)];

    /// <inheritdoc/>
    public bool IsControl(int id) => (GetAttributes(id) & TokenAttributes.Control) != 0;

    /// <inheritdoc/>
    public bool IsSpecial(int id) =>
        (GetAttributes(id) & (TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown)) != 0;

    /// <inheritdoc/>
    public bool IsEndOfGeneration(int id) => _eog.Contains(id);

    private int CheckId(int id)
    {
        if ((uint)id >= (uint)_texts.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id outside 0..{_texts.Length - 1}");
        return id;
    }

    /// <inheritdoc/>
    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = false)
    {
        var output = new List<int>();
        Encode(text, output, addSpecial, parseSpecial);
        return output.ToArray();
    }

    /// <inheritdoc/>
    public void Encode(string text, List<int> output, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(output);
        List<Fragment> fragments = text.Length == 0 ? [] : Partition(text, parseSpecial);
        switch (Kind)
        {
            case TokenizerKind.SentencePiece:
            {
                bool prevSpecial = true; // a space prefix goes before the first text
                if (addSpecial && AddBos) output.Add(Bos!.Value);
                var sb = new StringBuilder();
                foreach (Fragment f in fragments)
                {
                    if (f.Token >= 0)
                    {
                        output.Add(f.Token);
                        prevSpecial = true;
                        continue;
                    }
                    sb.Clear();
                    if (AddSpacePrefix && prevSpecial) sb.Append(' ');
                    sb.Append(text, f.Offset, f.Length);
                    sb.Replace(' ', '\u2581');
                    SpmEncoder.Encode(this, sb.ToString(), output);
                    prevSpecial = false;
                }
                if (addSpecial && AddEos) output.Add(Eos!.Value);
                break;
            }
            case TokenizerKind.BytePairEncoding:
            {
                if (addSpecial && AddBos) output.Add(Bos!.Value);
                foreach (Fragment f in fragments)
                {
                    if (f.Token >= 0) output.Add(f.Token);
                    else BpeEncoder.Encode(this, text.Substring(f.Offset, f.Length), output);
                }
                if (addSpecial && AddEos) output.Add(Eos!.Value);
                break;
            }
            default:
            {
                if (addSpecial) output.Add(Bos ?? throw new InvalidOperationException("WordPiece vocabulary without [CLS]/BOS token"));
                foreach (Fragment f in fragments)
                {
                    if (f.Token >= 0) output.Add(f.Token);
                    else WpmEncoder.Encode(this, text.Substring(f.Offset, f.Length), output);
                }
                if (addSpecial) output.Add(Sep ?? throw new InvalidOperationException("WordPiece vocabulary without [SEP] token"));
                break;
            }
        }
    }

    /// <summary>A piece of the input: raw text [Offset, Offset+Length) when Token is -1, else a special token.</summary>
    private readonly record struct Fragment(int Token, int Offset, int Length);

    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    /// <summary>llama.cpp's tokenizer_st_partition: split out special tokens' text, longest tokens first.</summary>
    private List<Fragment> Partition(string text, bool parseSpecial)
    {
        var frags = new List<Fragment> { new(-1, 0, text.Length) };
        var next = new List<Fragment>();
        foreach (int id in _specialCache)
        {
            TokenAttributes attr = _attrs[id];
            if (!parseSpecial && (attr & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0) continue;
            string tokText = _texts[id];
            next.Clear();
            bool changed = false;
            foreach (Fragment f in frags)
            {
                if (f.Token >= 0)
                {
                    next.Add(f);
                    continue;
                }
                int off = f.Offset, len = f.Length;
                while (true)
                {
                    int m = len >= tokText.Length ? text.IndexOf(tokText, off, len, StringComparison.Ordinal) : -1;
                    if (m < 0)
                    {
                        if (len > 0) next.Add(new(-1, off, len));
                        break;
                    }
                    changed = true;
                    if (m > off)
                    {
                        int leftLen = m - off;
                        if ((attr & TokenAttributes.LStrip) != 0)
                            while (leftLen > 0 && IsCSpace(text[off + leftLen - 1])) leftLen--;
                        if (leftLen > 0) next.Add(new(-1, off, leftLen));
                    }
                    next.Add(new(id, 0, 0));
                    int rOff = m + tokText.Length;
                    int rLen = off + len - rOff;
                    if ((attr & TokenAttributes.RStrip) != 0)
                        while (rLen > 0 && IsCSpace(text[rOff])) { rOff++; rLen--; }
                    off = rOff;
                    len = rLen;
                    if (len <= 0) break;
                }
            }
            if (changed) (frags, next) = (next, frags);
        }
        return frags;
    }

    /// <inheritdoc/>
    public ReadOnlySpan<byte> TokenToPiece(int id, bool renderSpecial = true)
    {
        CheckId(id);
        if (!renderSpecial && (_attrs[id] & (TokenAttributes.Unknown | TokenAttributes.Control)) != 0) return [];
        return _pieces[id];
    }

    // llama.cpp's token_to_piece with special = true (the cache it builds at load).
    private byte[] ComputePiece(int id)
    {
        TokenAttributes attr = _attrs[id];
        string text = _texts[id];
        const TokenAttributes shown = TokenAttributes.Unknown | TokenAttributes.Control | TokenAttributes.UserDefined;
        if ((attr & shown) != 0) return Encoding.UTF8.GetBytes(text);
        if ((attr & TokenAttributes.Normal) != 0)
        {
            if (Kind != TokenizerKind.BytePairEncoding) return Encoding.UTF8.GetBytes(text.Replace('\u2581', ' '));
            return DecodeByteLevel(text);
        }
        if ((attr & TokenAttributes.Byte) != 0 && text.Length >= 5)
            return [(byte)Convert.ToInt32(text.Substring(3, 2), 16)];
        return [];
    }

    // llama.cpp's llama_decode_text: each code point maps back to one byte; others are reported inline.
    private static byte[] DecodeByteLevel(string text)
    {
        var bytes = new List<byte>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune r in text.EnumerateRunes())
        {
            int b = ByteLevelMap.CharToByte(r.Value);
            if (b >= 0)
            {
                bytes.Add((byte)b);
                continue;
            }
            int len = r.EncodeToUtf8(utf8);
            var sb = new StringBuilder("[UNK_BYTE_0x");
            for (int k = 0; k < len; k++) sb.Append(utf8[k].ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            sb.Append(text).Append(']');
            bytes.AddRange(Encoding.UTF8.GetBytes(sb.ToString()));
        }
        return bytes.ToArray();
    }

    /// <inheritdoc/>
    public string Decode(ReadOnlySpan<int> ids, bool removeSpecial = false, bool renderSpecial = false, bool? cleanSpaces = null)
    {
        bool removeSpace = AddSpacePrefix;
        if (removeSpecial && AddBos && ids.Length > 0 && ids[0] == Bos)
        {
            removeSpace = false;
            ids = ids[1..];
        }
        if (removeSpecial && AddEos && ids.Length > 0 && ids[^1] == Eos) ids = ids[..^1];

        var bytes = new List<byte>(ids.Length * 4);
        foreach (int id in ids)
        {
            ReadOnlySpan<byte> piece = TokenToPiece(id, renderSpecial);
            if (removeSpace && piece.Length > 0 && piece[0] == (byte)' ') piece = piece[1..];
            removeSpace = false;
            bytes.AddRange(piece);
        }
        byte[] text = bytes.ToArray();
        int total = text.Length;
        if (cleanSpaces ?? CleanSpaces) total = CleanUpSpaces(text, total);
        return Encoding.UTF8.GetString(text, 0, total);
    }

    // llama.cpp's detokenize clean-up, three in-place passes over the bytes.
    private static int CleanUpSpaces(byte[] text, int total)
    {
        // " ?", " !", " .", " ," lose the space
        int total1 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total1; i++)
        {
            byte x = text[i];
            if (text[i - 1] == ' ' && x is (byte)'?' or (byte)'!' or (byte)'.' or (byte)',') total--;
            text[total++] = x;
        }
        // " ' " becomes "'"
        int total2 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total2; i++)
        {
            byte x = text[i];
            if (x == '\'' && i + 1 < total2 && text[i - 1] == ' ' && text[i + 1] == ' ')
            {
                total--;
                text[++i] = 0;
            }
            text[total++] = x;
        }
        // " 's", " 'm", " 're", " 've" lose the space
        int total3 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total3; i++)
        {
            byte x = text[i];
            if (text[i - 1] == ' ' && x == '\'' && i + 1 < total3)
            {
                byte x1 = text[i + 1];
                if (x1 is (byte)'s' or (byte)'m') total--;
                else if (x1 is not ((byte)'t' or (byte)'d') && i + 2 < total3)
                {
                    byte x2 = text[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) total--;
                }
            }
            text[total++] = x;
        }
        return total;
    }
}
