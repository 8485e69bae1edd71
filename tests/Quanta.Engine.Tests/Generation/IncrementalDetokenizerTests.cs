using System.Text;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.Tokenizers;
using Quanta.Engine.Generation;

namespace Quanta.Engine.Tests.Generation;

public sealed class IncrementalDetokenizerTests
{
    [Theory]
    [InlineData("héllo wörld 日本語 🎉🙂 done")]
    [InlineData("𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and ascii")]
    public void Pieces_split_inside_characters_come_out_whole(string text)
    {
        using var gguf = GgufFile.Open(TestData.Get("testdata/llama.cpp-vocab/ggml-vocab-llama-spm.gguf"));
        var tok = TokenizerFactory.FromGguf(gguf);
        int[] ids = tok.Encode(text, addSpecial: false);
        Assert.Contains(ids, id => (tok.GetAttributes(id) & TokenAttributes.Byte) != 0); // byte-fallback tokens present
        int max = 0;
        for (int i = 0; i < tok.VocabSize; i++) max = Math.Max(max, tok.TokenToPiece(i).Length);
        var d = new IncrementalDetokenizer(tok, max);
        d.Reset(-1);
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            string chunk = new(d.Append(id));
            Assert.DoesNotContain('\uFFFD', chunk);
            if (chunk.Length > 0) Assert.False(char.IsHighSurrogate(chunk[^1]), "chunk ends inside a surrogate pair");
            sb.Append(chunk);
        }
        sb.Append(d.Flush());
        Assert.Equal(" " + text, sb.ToString()); // the SentencePiece dummy prefix stays: no BOS precedes
    }

    [Fact]
    public void Space_after_bos_is_dropped_and_truncated_character_becomes_replacement()
    {
        using var gguf = GgufFile.Open(TestData.Get("testdata/llama.cpp-vocab/ggml-vocab-llama-spm.gguf"));
        var tok = TokenizerFactory.FromGguf(gguf);
        int[] ids = tok.Encode("Hi 🎉", addSpecial: false);
        var d = new IncrementalDetokenizer(tok, 64);
        d.Reset(tok.Bos!.Value);
        var sb = new StringBuilder();
        foreach (int id in ids[..^1]) sb.Append(d.Append(id));  // drop the emoji's last byte token
        sb.Append(d.Flush());
        Assert.Equal("Hi \uFFFD", sb.ToString());
    }
}
