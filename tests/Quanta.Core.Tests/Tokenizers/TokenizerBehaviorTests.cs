using System.Text;
using Quanta.Core.ModelFiles;
using Quanta.Core.Tokenizers;

namespace Quanta.Core.Tests.Tokenizers;

/// <summary>
/// Special tokens, added BOS/EOS, decoding rules and factory errors, with expectations derived from
/// llama.cpp's rules (llama-vocab.cpp) and the vocabularies' own metadata.
/// </summary>
public class TokenizerBehaviorTests
{
    private static VocabTokenizer Tok(string vocab) => TokenizerTestData.Tokenizer(vocab);

    [Fact]
    public void Unknown_model_lists_supported_models()
    {
        var e = Assert.Throws<NotSupportedException>(() => VocabTokenizer.Create(new VocabularyDefinition { Model = "t5", Tokens = ["a"] }));
        Assert.Contains("'t5'", e.Message);
        Assert.Contains("llama, gpt2, bert", e.Message);
    }

    [Fact]
    public void Unknown_pre_tokenizer_lists_supported_names()
    {
        var e = Assert.Throws<NotSupportedException>(() => VocabTokenizer.Create(new VocabularyDefinition
        {
            Model = "gpt2", Pre = "no-such-pre", Tokens = ["a", "b", "ab"], Merges = ["a b"],
        }));
        Assert.Contains("'no-such-pre'", e.Message);
        foreach (string name in new[] { "llama-bpe", "qwen2", "gpt-2", "mpt", "falcon", "starcoder", "refact", "deepseek-llm", "deepseek-coder" })
            Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Bpe_without_merges_is_a_model_file_error() =>
        Assert.Throws<ModelFileException>(() => VocabTokenizer.Create(new VocabularyDefinition { Model = "gpt2", Pre = "gpt-2", Tokens = ["a"] }));

    [Fact]
    public void Spm_control_token_text_is_a_token_only_with_parse_special()
    {
        VocabTokenizer tok = Tok("llama-spm");
        int[] hello = tok.Encode("Hello", addSpecial: false);
        // After a special token SentencePiece adds the space prefix again.
        Assert.Equal([1, .. hello], tok.Encode("<s>Hello", addSpecial: false, parseSpecial: true));
        int[] plain = tok.Encode("<s>Hello", addSpecial: false, parseSpecial: false);
        Assert.DoesNotContain(1, plain);
        Assert.Equal("<s>Hello", tok.Decode(plain));
    }

    [Fact]
    public void Phi3_special_tokens_strip_whitespace_to_their_right()
    {
        VocabTokenizer tok = Tok("phi-3");
        int user = tok.FindToken("<|user|>")!.Value;
        Assert.Equal([user, .. tok.Encode("Hi", addSpecial: false)], tok.Encode("<|user|>\n  Hi", addSpecial: false, parseSpecial: true));
        Assert.Equal(tok.FindToken("<|end|>"), tok.Eot);
    }

    [Fact]
    public void Add_special_follows_each_vocabulary()
    {
        VocabTokenizer spm = Tok("llama-spm");
        Assert.Equal([1, .. spm.Encode("Hello", false)], spm.Encode("Hello", addSpecial: true));

        VocabTokenizer bert = Tok("bert-bge");
        Assert.Equal([101, .. bert.Encode("hello world", false), 102], bert.Encode("hello world", addSpecial: true));

        VocabTokenizer gpt2 = Tok("gpt-2");
        Assert.Equal(50256, gpt2.Bos);
        Assert.False(gpt2.AddBos);
        Assert.Equal(gpt2.Encode("Hello", false), gpt2.Encode("Hello", addSpecial: true));

        VocabTokenizer dsl = Tok("deepseek-llm");
        Assert.True(dsl.AddBos); // tokenizer.ggml.add_bos_token in the GGUF
        Assert.Equal([100000, .. dsl.Encode("Hello", false)], dsl.Encode("Hello", addSpecial: true));

        VocabTokenizer llama3 = Tok("llama-bpe");
        Assert.Equal(128000, llama3.Bos); // <|begin_of_text|> from tokenizer_config.json
        Assert.True(llama3.AddBos);       // llama.cpp's default for the llama-bpe pre-tokenizer
        Assert.Equal([128000, .. llama3.Encode("Hello", false)], llama3.Encode("Hello", addSpecial: true));
        Assert.Equal(llama3.FindToken("<|eot_id|>"), llama3.Eot);
        Assert.True(llama3.IsEndOfGeneration(llama3.FindToken("<|eot_id|>")!.Value));
        Assert.Equal([llama3.FindToken("<|start_header_id|>")!.Value], llama3.Encode("<|start_header_id|>", false, parseSpecial: true));

        VocabTokenizer qwen = Tok("qwen2");
        Assert.Null(qwen.Bos);
        Assert.False(qwen.AddBos);
        Assert.Equal(qwen.FindToken("<|im_end|>"), qwen.Eos);
    }

    [Fact]
    public void Decode_cleans_spaces_where_llama_cpp_does()
    {
        VocabTokenizer gpt2 = Tok("gpt-2");
        Assert.True(gpt2.CleanSpaces);
        int[] ids = gpt2.Encode("Hello ? you 're here , ok", false);
        Assert.Equal("Hello? you're here, ok", gpt2.Decode(ids));
        Assert.Equal("Hello ? you 're here , ok", gpt2.Decode(ids, cleanSpaces: false));
        Assert.False(Tok("deepseek-llm").CleanSpaces);
        Assert.False(Tok("qwen2").CleanSpaces);
    }

    [Fact]
    public void Byte_tokens_assemble_utf8_across_tokens()
    {
        VocabTokenizer tok = Tok("llama-spm");
        int[] ids = tok.Encode("🦙", false);
        int[] bytes = ids.Where(id => (tok.GetAttributes(id) & TokenAttributes.Byte) != 0).ToArray();
        Assert.Equal(4, bytes.Length);
        Assert.Equal(Encoding.UTF8.GetBytes("🦙"), bytes.SelectMany(id => tok.TokenToPiece(id).ToArray()).ToArray());
        Assert.Equal("🦙", tok.Decode(ids));
        Assert.EndsWith("\uFFFD", tok.Decode(ids[..^1]));
    }

    [Fact]
    public void Control_pieces_render_only_when_asked()
    {
        VocabTokenizer gpt2 = Tok("gpt-2");
        Assert.Equal("<|endoftext|>"u8.ToArray(), gpt2.TokenToPiece(50256).ToArray());
        Assert.Equal(0, gpt2.TokenToPiece(50256, renderSpecial: false).Length);
        Assert.Equal("a", gpt2.Decode([64, 50256]));
        Assert.Equal("a<|endoftext|>", gpt2.Decode([64, 50256], renderSpecial: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => gpt2.TokenToPiece(gpt2.VocabSize));
    }

    [Fact]
    public void Tokenizer_json_pre_tokenizer_is_recognised_from_its_regex()
    {
        // A tiny byte-level BPE: "a", "b", "Ġ" and the merge "a b".
        const string json = """
        {
          "added_tokens": [ { "id": 4, "content": "<|x|>", "special": true }, { "id": 5, "content": "<y>", "special": false } ],
          "pre_tokenizer": { "type": "Sequence", "pretokenizers": [
            { "type": "Split", "pattern": { "Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, "behavior": "Isolated" },
            { "type": "ByteLevel", "use_regex": false } ] },
          "model": { "type": "BPE", "vocab": { "a": 0, "b": 1, "ab": 2, "Ġ": 3 }, "merges": [ ["a", "b"] ] }
        }
        """;
        VocabTokenizer tok = TokenizerFactory.FromHuggingFaceJson(json);
        Assert.Equal(BpePreTokenizerKind.Llama3, tok.PreTokenizerKind);
        Assert.True(tok.IsControl(4));
        Assert.Equal(TokenAttributes.UserDefined, tok.GetAttributes(5));
        Assert.Equal([2, 3, 0], tok.Encode("ab a", addSpecial: true)); // no BOS known, so none is added
        Assert.Equal([2, 5, 2], tok.Encode("ab<y>ab", addSpecial: false)); // user-defined text always splits
        Assert.Equal([0, 4], tok.Encode("a<|x|>", false, parseSpecial: true));

        Assert.Throws<ModelFileException>(() => TokenizerFactory.FromHuggingFaceJson("""{ "model": { "type": "Unigram" } }"""));
        Assert.Throws<ModelFileException>(() => TokenizerFactory.FromHuggingFaceJson("{ not json"));
    }
}
