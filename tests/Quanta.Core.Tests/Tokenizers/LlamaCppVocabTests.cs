using Quanta.Core.Tokenizers;

namespace Quanta.Core.Tests.Tokenizers;

/// <summary>
/// Every llama.cpp tokenizer test vector: tokenizing without added special tokens and with special-token
/// text as plain text must give exactly the ids llama.cpp's test-tokenizer-0 expects; decoding those ids must
/// give back the input for lossless vocabularies.
/// </summary>
public class LlamaCppVocabTests
{
    public static TheoryData<string, int> GgufCases => TokenizerTestData.Cases(TokenizerTestData.GgufVocabs);
    public static TheoryData<string, int> JsonCases => TokenizerTestData.Cases(TokenizerTestData.JsonVocabs.Select(j => j.Vocab));
    public static TheoryData<string, int> LosslessCases => TokenizerTestData.Cases(
        TokenizerTestData.GgufVocabs.Concat(TokenizerTestData.JsonVocabs.Select(j => j.Vocab)).Where(TokenizerTestData.IsLossless));

    private static void CheckEncode(string vocab, int index)
    {
        var (input, expected) = TokenizerTestData.Vectors(vocab)[index];
        ITokenizer tok = TokenizerTestData.Tokenizer(vocab);
        int[] actual = tok.Encode(input, addSpecial: false, parseSpecial: false);
        Assert.True(expected.SequenceEqual(actual),
            $"{vocab} #{index} \"{TokenizerTestData.Show(input)}\"\n expected: {string.Join(' ', expected)}\n actual:   {string.Join(' ', actual)}");
    }

    [Theory]
    [MemberData(nameof(GgufCases))]
    public void Encode_matches_llama_cpp_gguf(string vocab, int index) => CheckEncode(vocab, index);

    [Theory]
    [MemberData(nameof(JsonCases))]
    public void Encode_matches_llama_cpp_tokenizer_json(string vocab, int index) => CheckEncode(vocab, index);

    [Theory]
    [MemberData(nameof(LosslessCases))]
    public void Decode_of_expected_ids_gives_back_the_input(string vocab, int index)
    {
        var (input, expected) = TokenizerTestData.Vectors(vocab)[index];
        ITokenizer tok = TokenizerTestData.Tokenizer(vocab);
        string decoded = tok.Decode(expected, cleanSpaces: false);
        Assert.True(input == decoded,
            $"{vocab} #{index}\n expected: \"{TokenizerTestData.Show(input)}\"\n actual:   \"{TokenizerTestData.Show(decoded)}\"");
    }
}
