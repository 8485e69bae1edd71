using Quanta.Engine.Generation;
using Quanta.Engine.Sampling;

namespace Quanta.Engine.Tests.Generation;

public sealed class ContextLimitTests
{
    [Fact]
    public async Task Prompt_longer_than_context_is_a_clear_argument_error()
    {
        using var model = LlmModel.Load(TestData.Stories, new LlmLoadOptions { TokenizerPath = TestData.Tok512, ContextLength = 16, Threads = 1 });
        Assert.Equal(16, model.ContextLength);
        string prompt = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";
        int n = model.Tokenize(prompt).Length;
        Assert.True(n > 16, $"prompt has {n} tokens");
        var e = Assert.Throws<ContextLengthExceededException>(() => model.Generate(prompt));
        Assert.IsAssignableFrom<ArgumentException>(e);
        Assert.Equal(n, e.PromptTokens);
        Assert.Equal(16, e.ContextLength);
        Assert.Contains($"{n} tokens", e.Message);
        Assert.Contains("16", e.Message);
        // The streaming form reports the same error, and the model stays usable.
        await Assert.ThrowsAsync<ContextLengthExceededException>(async () => { await foreach (var _ in model.GenerateStreaming(prompt)) { } });
        Assert.Equal(GenerationFinishReason.Length, model.Generate("Once", new SamplingParameters { Temperature = 0, MaxTokens = 3 }).FinishReason);
    }

    [Fact]
    public void Generation_stops_with_length_when_the_context_is_full()
    {
        using var model = LlmModel.Load(TestData.Stories, new LlmLoadOptions { TokenizerPath = TestData.Tok512, ContextLength = 16, Threads = 1 });
        var r = model.Generate("Once upon a time", new SamplingParameters { Temperature = 0 });
        int prompt = model.Tokenize("Once upon a time").Length;
        Assert.Equal(GenerationFinishReason.Length, r.FinishReason);
        // Positions 0..15 are fed (prompt, then generated tokens); the token sampled after position 15 is the last.
        Assert.Equal(16 - prompt + 1, r.TokenIds.Count);
        Assert.StartsWith("Once upon a time" + r.Text, TestData.GreedyText, StringComparison.Ordinal);
    }

    [Fact]
    public void Llama2c_checkpoint_without_tokenizer_names_the_option()
    {
        // stories260K.bin has no tokenizer.bin or tok512.bin beside it in a temp folder.
        string dir = Directory.CreateTempSubdirectory("quanta-gen-").FullName;
        try
        {
            string path = Path.Combine(dir, "model.bin");
            File.Copy(TestData.Stories, path);
            var e = Assert.ThrowsAny<ArgumentException>(() => LlmModel.Load(path));
            Assert.Contains("tokenizer", e.Message);
            File.Copy(TestData.Tok512, Path.Combine(dir, "tok512.bin"));
            using var m = LlmModel.Load(path, new LlmLoadOptions { Threads = 1 });
            Assert.Equal("model", m.Name);
        }
        finally { Directory.Delete(dir, true); }
    }
}
