using System.Text.Json;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Llama2c;
using Quanta.Core.Tokenizers;

namespace Quanta.Models.Conversion;

/// <summary>
/// Writes the tokenizer.ggml.* keys llama.cpp builds its vocabulary from, converted from a llama2.c tokenizer
/// (SentencePiece, model "llama") or a Hugging Face tokenizer.json (byte-level BPE, model "gpt2").
/// </summary>
public static class GgufTokenizerMetadata
{
    /// <summary>
    /// A llama2.c tokenizer as a SentencePiece ("llama") vocabulary: id 0 &lt;unk&gt; UNKNOWN(2), 1 &lt;s&gt; and
    /// 2 &lt;/s&gt; CONTROL(3) (llama2.c stores them as "\n&lt;s&gt;\n" / "\n&lt;/s&gt;\n"), "&lt;0xXX&gt;" pieces BYTE(6), all others
    /// NORMAL(1) with the "▁" (U+2581) that llama2.c's export replaced by spaces restored; scores copied; BOS 1, EOS 2, UNK 0.
    /// </summary>
    public static void WriteLlama2c(GgufWriter w, Llama2cTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(tokenizer);
        int n = tokenizer.Count;
        if (n < 3) throw new ArgumentException($"a llama2.c tokenizer needs at least 3 tokens (<unk>, <s>, </s>), got {n}");
        var tokens = new string[n];
        var types = new int[n];
        for (int i = 0; i < n; i++)
        {
            string p = tokenizer.Pieces[i];
            GgufTokenType type;
            if (i == 0) { type = GgufTokenType.Unknown; p = "<unk>"; }
            else if (i == 1) { type = GgufTokenType.Control; p = "<s>"; }
            else if (i == 2) { type = GgufTokenType.Control; p = "</s>"; }
            else if (IsByteToken(p)) type = GgufTokenType.Byte;
            else { type = GgufTokenType.Normal; p = p.Replace(' ', '\u2581'); }
            tokens[i] = p;
            types[i] = (int)type;
        }
        w.Add("tokenizer.ggml.model", "llama");
        w.AddArray<string>("tokenizer.ggml.tokens", tokens);
        w.AddArray("tokenizer.ggml.scores", tokenizer.Scores);
        w.AddArray<int>("tokenizer.ggml.token_type", types);
        w.Add("tokenizer.ggml.bos_token_id", 1u);
        w.Add("tokenizer.ggml.eos_token_id", 2u);
        w.Add("tokenizer.ggml.unknown_token_id", 0u);
    }

    private static bool IsByteToken(string p) =>
        p.Length == 6 && p.StartsWith("<0x", StringComparison.Ordinal) && p[5] == '>' && Uri.IsHexDigit(p[3]) && Uri.IsHexDigit(p[4]);

    /// <summary>
    /// A Hugging Face tokenizer.json with a byte-level BPE model (Llama 3, Qwen2, GPT-2 style) as a "gpt2" vocabulary:
    /// tokens by id (gaps filled with unused "[PADn]"), added tokens CONTROL when special else USER_DEFINED, merges,
    /// the pre-tokenizer name recognised from the Split regex, BOS/EOS and add_bos/add_eos from tokenizer_config.json.
    /// <paramref name="vocabSize"/> pads the list to the model's embedding rows. SentencePiece-style tokenizer.json files
    /// (byte_fallback) are rejected: their scores live in tokenizer.model, which this converter does not read.
    /// </summary>
    public static void WriteHuggingFace(GgufWriter w, string tokenizerJsonPath, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(tokenizerJsonPath);
        string json = File.ReadAllText(tokenizerJsonPath);
        using (JsonDocument probe = JsonDocument.Parse(json))
        {
            JsonElement model = probe.RootElement.GetProperty("model");
            if (model.TryGetProperty("byte_fallback", out JsonElement bf) && bf.ValueKind == JsonValueKind.True)
                throw new NotSupportedException($"{tokenizerJsonPath}: SentencePiece-style tokenizer.json (byte_fallback) is not supported by convert; only byte-level BPE");
        }
        // Validates the file and recognises the pre-tokenizer and special ids the way the runtime will.
        VocabTokenizer vt = TokenizerFactory.FromHuggingFaceFile(tokenizerJsonPath);
        string pre = vt.PreTokenizerKind switch
        {
            BpePreTokenizerKind.Llama3 => "llama-bpe",
            BpePreTokenizerKind.Qwen2 => "qwen2",
            BpePreTokenizerKind.Gpt2 => "gpt-2",
            var k => throw new NotSupportedException($"{tokenizerJsonPath}: pre-tokenizer {k} has no GGUF name here"),
        };
        int n = Math.Max(vocabSize, vt.VocabSize);
        var tokens = new string[n];
        var types = new int[n];
        for (int i = 0; i < n; i++)
        {
            if (i < vt.VocabSize && (vt.GetAttributes(i) & TokenAttributes.Unused) == 0)
            {
                tokens[i] = vt.TokenText(i);
                TokenAttributes a = vt.GetAttributes(i);
                types[i] = (int)((a & TokenAttributes.Control) != 0 ? GgufTokenType.Control
                    : (a & TokenAttributes.UserDefined) != 0 ? GgufTokenType.UserDefined : GgufTokenType.Normal);
            }
            else
            {
                tokens[i] = $"[PAD{i}]";
                types[i] = (int)GgufTokenType.Unused;
            }
        }
        var merges = new List<string>();
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            foreach (JsonElement me in doc.RootElement.GetProperty("model").GetProperty("merges").EnumerateArray())
                merges.Add(me.ValueKind == JsonValueKind.Array ? me[0].GetString() + " " + me[1].GetString() : me.GetString() ?? "");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ModelFileException(tokenizerJsonPath, $"malformed tokenizer.json merges: {e.Message}", e);
        }
        w.Add("tokenizer.ggml.model", "gpt2");
        w.Add("tokenizer.ggml.pre", pre);
        w.AddArray<string>("tokenizer.ggml.tokens", tokens);
        w.AddArray<int>("tokenizer.ggml.token_type", types);
        w.AddArray<string>("tokenizer.ggml.merges", merges.ToArray());
        if (vt.Bos is int bos) w.Add("tokenizer.ggml.bos_token_id", (uint)bos);
        if (vt.Eos is int eos) w.Add("tokenizer.ggml.eos_token_id", (uint)eos);
        if (vt.Pad is int pad) w.Add("tokenizer.ggml.padding_token_id", (uint)pad);
        w.Add("tokenizer.ggml.add_bos_token", vt.AddBos);
        w.Add("tokenizer.ggml.add_eos_token", vt.AddEos);
    }
}
