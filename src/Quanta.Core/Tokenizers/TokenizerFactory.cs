using System.Text.Json;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Llama2c;

namespace Quanta.Core.Tokenizers;

/// <summary>
/// Builds <see cref="ITokenizer"/>s from model files: GGUF metadata (tokenizer.ggml.*), a llama2.c tokenizer,
/// or a Hugging Face tokenizer.json (BPE model). All apply llama.cpp's defaults through
/// <see cref="VocabTokenizer.Create"/>.
/// </summary>
public static class TokenizerFactory
{
    private const string Prefix = "tokenizer.ggml.";

    /// <summary>
    /// Reads tokenizer.ggml.model ("llama", "gpt2", "bert"), .pre, .tokens, .scores, .token_type, .merges, the
    /// special token ids (bos/eos/eot/unknown/seperator/padding), add_bos_token/add_eos_token,
    /// add_space_prefix, normalizer.lowercase/strip_accents and general.name.
    /// </summary>
    /// <exception cref="ModelFileException">Missing or mistyped keys.</exception>
    /// <exception cref="NotSupportedException">Unknown model or pre-tokenizer type (the message lists the supported ones).</exception>
    public static VocabTokenizer FromGguf(GgufFile gguf)
    {
        ArgumentNullException.ThrowIfNull(gguf);
        string model = gguf.GetString(Prefix + "model");
        gguf.TryGetString(Prefix + "pre", out string? pre);
        string[] tokens = gguf.GetArray<string>(Prefix + "tokens").ToArray();
        float[]? scores = null;
        if (gguf.ContainsKey(Prefix + "scores"))
        {
            GgufArray a = gguf.Get<GgufArray>(Prefix + "scores");
            scores = a.ElementType == GgufValueType.Int32
                ? Array.ConvertAll(a.AsSpan<int>().ToArray(), v => (float)v)
                : gguf.GetArray<float>(Prefix + "scores").ToArray();
        }
        int[]? types = gguf.TryGetArray(Prefix + "token_type", out ReadOnlySpan<int> t) ? t.ToArray() : null;
        string[]? merges = gguf.TryGetArray(Prefix + "merges", out ReadOnlySpan<string> m) ? m.ToArray() : null;
        gguf.TryGetString("general.name", out string? name);

        return VocabTokenizer.Create(new VocabularyDefinition
        {
            Model = model,
            Pre = pre,
            Tokens = tokens,
            Scores = scores,
            TokenTypes = types,
            Merges = merges,
            BosId = Id(gguf, "bos_token_id"),
            EosId = Id(gguf, "eos_token_id"),
            EotId = Id(gguf, "eot_token_id"),
            UnkId = Id(gguf, "unknown_token_id"),
            SepId = Id(gguf, "seperator_token_id"),
            PadId = Id(gguf, "padding_token_id"),
            AddBos = Flag(gguf, "add_bos_token"),
            AddEos = Flag(gguf, "add_eos_token"),
            AddSpacePrefix = Flag(gguf, "add_space_prefix"),
            Lowercase = Flag(gguf, "normalizer.lowercase"),
            StripAccents = Flag(gguf, "normalizer.strip_accents"),
            ModelName = name,
            Source = gguf.FilePath,
        });
    }

    private static long? Id(GgufFile gguf, string key) =>
        gguf.ContainsKey(Prefix + key) ? gguf.GetInteger(Prefix + key) : null;

    private static bool? Flag(GgufFile gguf, string key) =>
        gguf.TryGet(Prefix + key, out bool v) ? v : null;

    /// <summary>
    /// A SentencePiece tokenizer from a llama2.c tokenizer: pieces have "▁" restored from spaces, id 0 is the
    /// unknown token, ids 1/2 are the control tokens &lt;s&gt;/&lt;/s&gt; (BOS/EOS), "&lt;0xXX&gt;" pieces are byte
    /// tokens. Encoding follows llama.cpp's SentencePiece algorithm (dummy prefix space, score-ordered merges,
    /// byte fallback), which gives llama2.c's own <c>encode()</c> results.
    /// </summary>
    public static VocabTokenizer FromLlama2c(Llama2cTokenizer tokenizer, string source = "<llama2.c tokenizer>")
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        int n = tokenizer.Count;
        var tokens = new string[n];
        var types = new int[n];
        for (int i = 0; i < n; i++)
        {
            string p = tokenizer.Pieces[i];
            GgufTokenType type;
            if (i == 0) { type = GgufTokenType.Unknown; p = p.Trim(); }
            else if (i is 1 or 2) { type = GgufTokenType.Control; p = i == 1 ? "<s>" : "</s>"; }
            else if (p.Length == 6 && p.StartsWith("<0x", StringComparison.Ordinal) && p[5] == '>') type = GgufTokenType.Byte;
            else { type = GgufTokenType.Normal; p = p.Replace(' ', '\u2581'); }
            tokens[i] = p;
            types[i] = (int)type;
        }
        return VocabTokenizer.Create(new VocabularyDefinition
        {
            Model = "llama",
            Tokens = tokens,
            Scores = tokenizer.Scores.ToArray(),
            TokenTypes = types,
            BosId = n > 1 ? 1 : null,
            EosId = n > 2 ? 2 : null,
            UnkId = 0,
            Source = source,
        });
    }

    /// <summary>
    /// A byte-level BPE tokenizer from a Hugging Face tokenizer.json whose model.type is "BPE" (vocab + merges;
    /// merges as "a b" strings or [a, b] pairs) plus added_tokens (special ones become control tokens, others
    /// user-defined unless they look special, as llama.cpp's converter decides). <paramref name="pre"/> names the
    /// llama.cpp pre-tokenizer; when null it is recognised from the Split regex (Llama 3 → "llama-bpe",
    /// Qwen2 → "qwen2", GPT-2 → "gpt-2"). BOS/EOS come from <paramref name="tokenizerConfigJson"/>
    /// (tokenizer_config.json: bos_token, eos_token, pad_token, add_bos_token, add_eos_token) when given.
    /// </summary>
    /// <exception cref="ModelFileException">Malformed JSON or an unsupported model type.</exception>
    public static VocabTokenizer FromHuggingFaceJson(string tokenizerJson, string? pre = null, string? tokenizerConfigJson = null,
        string source = "tokenizer.json")
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(tokenizerJson);
            JsonElement root = doc.RootElement;
            JsonElement model = root.GetProperty("model");
            string type = model.TryGetProperty("type", out JsonElement te) ? te.GetString() ?? "" : "";
            if (type != "BPE")
                throw new ModelFileException(source, $"tokenizer.json model.type '{type}' is not supported (supported: BPE)");

            var byId = new Dictionary<int, (string Text, GgufTokenType Type)>();
            foreach (JsonProperty p in model.GetProperty("vocab").EnumerateObject())
                byId[p.Value.GetInt32()] = (p.Name, GgufTokenType.Normal);
            if (root.TryGetProperty("added_tokens", out JsonElement added) && added.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement a in added.EnumerateArray())
                {
                    int id = a.GetProperty("id").GetInt32();
                    string content = a.GetProperty("content").GetString() ?? "";
                    bool special = a.TryGetProperty("special", out JsonElement s) && s.GetBoolean();
                    byId[id] = (content, special || LooksSpecial(content) ? GgufTokenType.Control : GgufTokenType.UserDefined);
                }
            }
            int n = byId.Count == 0 ? 0 : byId.Keys.Max() + 1;
            var tokens = new string[n];
            var types = new int[n];
            for (int i = 0; i < n; i++)
            {
                if (byId.TryGetValue(i, out var e)) { tokens[i] = e.Text; types[i] = (int)e.Type; }
                else { tokens[i] = $"[PAD{i}]"; types[i] = (int)GgufTokenType.Unused; }
            }

            var merges = new List<string>();
            foreach (JsonElement me in model.GetProperty("merges").EnumerateArray())
            {
                merges.Add(me.ValueKind == JsonValueKind.Array
                    ? me[0].GetString() + " " + me[1].GetString()
                    : me.GetString() ?? "");
            }

            pre ??= DetectPre(root) ?? throw new ModelFileException(source,
                "cannot recognise the pre-tokenizer regex; pass the llama.cpp pre-tokenizer name explicitly");

            long? bos = null, eos = null, padId = null;
            bool? addBos = null, addEos = null;
            if (tokenizerConfigJson is not null)
            {
                var textToId = new Dictionary<string, int>(StringComparer.Ordinal);
                for (int i = 0; i < n; i++) textToId.TryAdd(tokens[i], i);
                using JsonDocument cfg = JsonDocument.Parse(tokenizerConfigJson);
                JsonElement c = cfg.RootElement;
                long? IdOf(string key)
                {
                    if (!c.TryGetProperty(key, out JsonElement v)) return null;
                    string? text = v.ValueKind switch
                    {
                        JsonValueKind.String => v.GetString(),
                        JsonValueKind.Object when v.TryGetProperty("content", out JsonElement ct) => ct.GetString(),
                        _ => null,
                    };
                    return text is not null && textToId.TryGetValue(text, out int id) ? id : null;
                }
                bos = IdOf("bos_token");
                eos = IdOf("eos_token");
                padId = IdOf("pad_token");
                if (c.TryGetProperty("add_bos_token", out JsonElement ab) && ab.ValueKind is JsonValueKind.True or JsonValueKind.False) addBos = ab.GetBoolean();
                if (c.TryGetProperty("add_eos_token", out JsonElement ae) && ae.ValueKind is JsonValueKind.True or JsonValueKind.False) addEos = ae.GetBoolean();
            }

            // Without a known BOS token nothing can be prepended (llama.cpp's Llama 3 default is add_bos).
            if (bos is null) addBos = false;
            return VocabTokenizer.Create(new VocabularyDefinition
            {
                Model = "gpt2",
                DefaultSpecialIds = false,
                Pre = pre,
                Tokens = tokens,
                TokenTypes = types,
                Merges = merges,
                BosId = bos,
                EosId = eos,
                PadId = padId,
                AddBos = addBos,
                AddEos = addEos,
                Source = source,
            });
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ModelFileException(source, $"malformed tokenizer.json: {e.Message}", e);
        }
    }

    /// <summary>
    /// <see cref="FromHuggingFaceJson"/> on the file at <paramref name="tokenizerJsonPath"/>, with the
    /// tokenizer_config.json beside it when present (as in a Hugging Face checkpoint folder).
    /// </summary>
    public static VocabTokenizer FromHuggingFaceFile(string tokenizerJsonPath, string? pre = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJsonPath);
        string configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerJsonPath))!, "tokenizer_config.json");
        string? config = File.Exists(configPath) ? File.ReadAllText(configPath) : null;
        return FromHuggingFaceJson(File.ReadAllText(tokenizerJsonPath), pre, config, tokenizerJsonPath);
    }

    // convert_hf_to_gguf.py's does_token_look_special.
    private static bool LooksSpecial(string t) =>
        t is "<pad>" or "<mask>" or "<2mass>" or "[@BOS@]"
        || (t.StartsWith("<|", StringComparison.Ordinal) && t.EndsWith("|>", StringComparison.Ordinal))
        || (t.StartsWith("<\uFF5C", StringComparison.Ordinal) && t.EndsWith("\uFF5C>", StringComparison.Ordinal))
        || (t.StartsWith("<unused", StringComparison.Ordinal) && t.EndsWith('>'));

    private static readonly Dictionary<string, string> s_knownRegexes = new(StringComparer.Ordinal)
    {
        ["(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"] = "llama-bpe",
        ["(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"] = "qwen2",
        ["'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"] = "gpt-2",
    };

    private static string? DetectPre(JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out JsonElement pt) || pt.ValueKind != JsonValueKind.Object) return null;
        var stack = new Stack<JsonElement>();
        stack.Push(pt);
        while (stack.Count > 0)
        {
            JsonElement e = stack.Pop();
            if (e.ValueKind == JsonValueKind.Object)
            {
                if (e.TryGetProperty("type", out JsonElement type) && type.GetString() == "Split"
                    && e.TryGetProperty("pattern", out JsonElement pat) && pat.ValueKind == JsonValueKind.Object
                    && pat.TryGetProperty("Regex", out JsonElement rx) && rx.GetString() is { } r
                    && s_knownRegexes.TryGetValue(r, out string? name))
                    return name;
                if (e.TryGetProperty("type", out JsonElement t2) && t2.GetString() == "ByteLevel"
                    && e.TryGetProperty("use_regex", out JsonElement ur) && ur.ValueKind == JsonValueKind.True)
                    return "gpt-2";
                foreach (JsonProperty p in e.EnumerateObject()) stack.Push(p.Value);
            }
            else if (e.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement x in e.EnumerateArray()) stack.Push(x);
            }
        }
        return null;
    }
}
