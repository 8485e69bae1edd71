using System.Text.Json;
using Quanta.Core.ModelFiles.Llama2c;
using Quanta.Core.Tests.Support;
using Quanta.Core.Tokenizers;

namespace Quanta.Core.Tests.Tokenizers;

/// <summary>
/// stories260K's 512-token llama2.c tokenizer, against the reference ids in stories260K.expected.json
/// (llama2.c run.c encode() results, and the token ids the model emits) and llama2.c's published greedy text.
/// </summary>
public class Llama2cTokenizerTests
{
    private static readonly Lazy<VocabTokenizer> s_tok = new(() =>
    {
        string path = SharedData.Get("testdata/llama2c/tok512.bin");
        return TokenizerFactory.FromLlama2c(Llama2cTokenizer.Open(path, 512), path);
    });

    private static readonly Lazy<JsonDocument> s_expected = new(() =>
        JsonDocument.Parse(File.ReadAllText(SharedData.Get("testdata/llama2c/stories260K.expected.json"))));

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    private static JsonElement Generation(string prompt) =>
        s_expected.Value.RootElement.GetProperty("generation").EnumerateArray()
            .First(g => g.GetProperty("prompt").GetString() == prompt);

    [Fact]
    public void Story_sentence_encodes_to_the_ids_the_model_emits()
    {
        const string sentence = "Once upon a time, there was a little girl named Lily.";
        JsonElement g = Generation("");
        Assert.StartsWith(sentence + " ", g.GetProperty("text").GetString());
        int[] tokens = Ints(g.GetProperty("tokens"));
        // tokens[0] is BOS; the story's first sentence is the next 15 tokens ("▁Once ▁upon ▁a ▁time , ... ▁Lily .").
        int[] expected = tokens[1..16];

        VocabTokenizer tok = s_tok.Value;
        Assert.Equal(expected, tok.Encode(sentence, addSpecial: false));
        Assert.Equal([1, .. expected], tok.Encode(sentence, addSpecial: true));
        Assert.Equal(sentence, tok.Decode(expected));
        // With BOS kept but not rendered, the BOS consumes the leading-space removal (llama.cpp detokenize).
        Assert.Equal(" " + sentence, tok.Decode([1, .. expected]));
    }

    public static TheoryData<int> EncodeCases()
    {
        var data = new TheoryData<int>();
        int n = s_expected.Value.RootElement.GetProperty("encode").GetProperty("cases").GetArrayLength();
        for (int i = 0; i < n; i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(EncodeCases))]
    public void Encode_matches_llama2c_run_c(int index)
    {
        JsonElement c = s_expected.Value.RootElement.GetProperty("encode").GetProperty("cases")[index];
        string text = c.GetProperty("text").GetString()!;
        int[] expected = Ints(c.GetProperty("llama2c_run_c_ids"));
        VocabTokenizer tok = s_tok.Value;
        int[] actual = tok.Encode(text, addSpecial: false);
        Assert.True(expected.SequenceEqual(actual), $"\"{text}\": expected {string.Join(' ', expected)}, actual {string.Join(' ', actual)}");
        Assert.Equal(text, tok.Decode(actual));
    }

    [Fact]
    public void Greedy_story_decodes_to_llama2c_published_text()
    {
        int[] tokens = Ints(Generation("").GetProperty("tokens"));
        string published = File.ReadAllText(SharedData.Get("testdata/llama2c/stories260K.greedy.txt"));
        string decoded = s_tok.Value.Decode(tokens.AsSpan(1));
        Assert.Equal(published.TrimEnd('\n'), decoded.TrimEnd('\n'));
    }

    [Fact]
    public void Special_ids_and_flags_follow_llama_cpp_defaults()
    {
        VocabTokenizer tok = s_tok.Value;
        Assert.Equal(TokenizerKind.SentencePiece, tok.Kind);
        Assert.Equal(512, tok.VocabSize);
        Assert.Equal(1, tok.Bos);
        Assert.Equal(2, tok.Eos);
        Assert.Equal(0, tok.Unk);
        Assert.True(tok.AddBos);
        Assert.False(tok.AddEos);
        Assert.True(tok.IsControl(1));
        Assert.True(tok.IsEndOfGeneration(2));
        Assert.Equal(TokenAttributes.Byte, tok.GetAttributes(3 + 0x0A));
    }
}
