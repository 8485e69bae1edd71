using System.Text;
using System.Text.Json;
using Quanta.Engine.Generation;
using Quanta.Engine.Sampling;

namespace Quanta.Engine.Tests.Generation;

public sealed class LlmModelTests(StoriesFixture fixture) : IClassFixture<StoriesFixture>
{
    private readonly LlmModel _model = fixture.Model;

    private static readonly SamplingParameters Greedy = new() { Temperature = 0 };

    [Fact]
    public void Greedy_from_bos_prints_llama2c_published_sample()
    {
        // run.c: BOS, then 256 steps; stops early if BOS is sampled; prints the pieces then "\n".
        var r = _model.Generate("", Greedy with { MaxTokens = 256 });
        Assert.Equal(TestData.GreedyText, r.Text + "\n");
        Assert.Equal(256, r.TokenIds.Count);
        Assert.Equal(GenerationFinishReason.Length, r.FinishReason);
        Assert.Equal(1, r.Usage.PromptTokens);
        Assert.Equal(256, r.Usage.CompletionTokens);
        Assert.Equal(255, r.Usage.DecodeSteps);
        Assert.True(r.Usage.GenerationTokensPerSecond > 0);
    }

    [Fact]
    public void Greedy_ids_with_prompt_match_reference_and_text_excludes_prompt()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestData.Get("testdata/llama2c/stories260K.expected.json")));
        JsonElement gen = doc.RootElement.GetProperty("generation").EnumerateArray().First(g => g.GetProperty("prompt").GetString() == "Zoo");
        int[] all = gen.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        int[] prompt = gen.GetProperty("prompt_tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(prompt, _model.Tokenize("Zoo"));
        var r = _model.Generate("Zoo", Greedy with { MaxTokens = all.Length - prompt.Length });
        Assert.Equal(all[prompt.Length..], r.TokenIds);
        string expectedText = gen.GetProperty("text").GetString()!;
        Assert.Equal(expectedText["Zoo".Length..], r.Text);
        Assert.Equal(prompt.Length, r.Usage.PromptTokens);
    }

    [Fact]
    public void Same_seed_same_output_at_temperature_one()
    {
        var p = new SamplingParameters { Temperature = 1, Seed = 1234, MaxTokens = 60 };
        var a = _model.Generate("Once upon a time", p);
        var b = _model.Generate("Once upon a time", p);
        var c = _model.Generate("Once upon a time", p with { Seed = 99 });
        Assert.Equal(a.TokenIds, b.TokenIds);
        Assert.Equal(a.Text, b.Text);
        Assert.NotEqual(a.TokenIds, c.TokenIds);
    }

    [Fact]
    public void Stop_string_ends_generation_and_is_not_emitted()
    {
        string greedy = TestData.GreedyText;
        var r = _model.Generate("", Greedy with { Stop = ["girl named", "never appears"] });
        Assert.Equal(GenerationFinishReason.Stop, r.FinishReason);
        Assert.Equal("girl named", r.StopSequence);
        Assert.Equal(greedy[..greedy.IndexOf("girl named", StringComparison.Ordinal)], r.Text);
    }

    [Fact]
    public void Stop_string_spanning_tokens_and_lines()
    {
        string greedy = TestData.GreedyText;
        string stop = "high.\nLily's";
        var r = _model.Generate("", Greedy with { Stop = [stop] });
        Assert.Equal(greedy[..greedy.IndexOf(stop, StringComparison.Ordinal)], r.Text);
        Assert.Equal(GenerationFinishReason.Stop, r.FinishReason);
    }

    [Fact]
    public void Max_tokens_limits_the_completion()
    {
        var r = _model.Generate("", Greedy with { MaxTokens = 7 });
        Assert.Equal(7, r.TokenIds.Count);
        Assert.Equal(7, r.Usage.CompletionTokens);
        Assert.Equal(GenerationFinishReason.Length, r.FinishReason);
        Assert.NotEmpty(r.Text);
        Assert.StartsWith(r.Text, TestData.GreedyText, StringComparison.Ordinal);
        Assert.Equal(_model.Tokenizer.Decode(r.TokenIds.ToArray()).TrimStart(' '), r.Text);
    }

    [Fact]
    public void Bos_ends_a_llama2c_sample_like_run_c()
    {
        // Greedy from BOS never samples BOS within 256 tokens, so look at a sampled run with many tokens instead:
        // whenever a run ends with Stop and no stop string, its last token is BOS (1) and nothing after it is emitted.
        var r = _model.Generate("", new SamplingParameters { Temperature = 1, Seed = 7, MaxTokens = 500 });
        if (r.FinishReason == GenerationFinishReason.Stop)
        {
            Assert.Equal(1, r.TokenIds[^1]);
            Assert.DoesNotContain(1, r.TokenIds.Take(r.TokenIds.Count - 1));
        }
        else
        {
            Assert.Equal(GenerationFinishReason.Length, r.FinishReason);
            Assert.DoesNotContain(1, r.TokenIds);
        }
        Assert.True(_model.IsEndOfGeneration(1));
        Assert.True(_model.IsEndOfGeneration(2));
    }

    [Fact]
    public async Task Streaming_chunks_concatenate_to_the_non_streaming_text()
    {
        SamplingParameters[] cases =
        [
            Greedy with { MaxTokens = 100 },
            new SamplingParameters { Temperature = 0.9f, TopP = 0.9f, Seed = 5, MaxTokens = 120 },
            Greedy with { Stop = ["park."] },
            new SamplingParameters { Temperature = 1, Seed = 11, MaxTokens = 80, Stop = ["the", "Lily"] },
        ];
        foreach (var p in cases)
        {
            var full = _model.Generate("Once upon a time", p);
            var text = new StringBuilder();
            var ids = new List<int>();
            GenerationChunk last = default;
            int finals = 0;
            await foreach (var chunk in _model.GenerateStreaming("Once upon a time", p))
            {
                text.Append(chunk.Text);
                if (chunk.TokenId >= 0) ids.Add(chunk.TokenId);
                if (chunk.IsFinal) finals++;
                last = chunk;
            }
            Assert.Equal(1, finals);
            Assert.Equal(full.Text, text.ToString());
            Assert.Equal(full.TokenIds, ids);
            Assert.Equal(full.FinishReason, last.FinishReason);
            Assert.Equal(full.StopSequence, last.StopSequence);
            Assert.Equal(full.Usage.CompletionTokens, last.Usage!.CompletionTokens);
        }
    }

    [Fact]
    public async Task Cancellation_ends_the_stream_and_frees_the_session()
    {
        using var cts = new CancellationTokenSource();
        int seen = 0;
        GenerationChunk last = default;
        await foreach (var chunk in _model.GenerateStreaming("", Greedy, cts.Token))
        {
            last = chunk;
            if (++seen == 5) cts.Cancel();
        }
        Assert.Equal(GenerationFinishReason.Cancelled, last.FinishReason);
        Assert.Equal(6, seen);              // 5 tokens, then the final cancelled chunk
        Assert.Equal(5, last.Usage!.CompletionTokens);

        // The session is free at once: a new request runs to completion.
        var r = _model.Generate("", Greedy with { MaxTokens = 3 });
        Assert.Equal(GenerationFinishReason.Length, r.FinishReason);
    }

    [Fact]
    public async Task Abandoning_a_stream_releases_the_session()
    {
        await foreach (var chunk in _model.GenerateStreaming("", Greedy))
            if (chunk.TokenId >= 0) break;
        var r = await Task.Run(() => _model.Generate("", Greedy with { MaxTokens = 2 })).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, r.TokenIds.Count);
    }

    [Fact]
    public void Pre_cancelled_token_returns_cancelled_without_tokens()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var r = _model.Generate("Once upon a time", Greedy, cts.Token);
        Assert.Equal(GenerationFinishReason.Cancelled, r.FinishReason);
        Assert.Empty(r.TokenIds);
        Assert.Equal("", r.Text);
    }

    [Fact]
    public void Generation_is_allocation_light_per_token()
    {
        var p = Greedy with { MaxTokens = 250 };
        var q = Greedy with { MaxTokens = 50 };
        _model.Generate("", p); // warm up (JIT)
        _model.Generate("", q);
        // Steady state is what counts: under a loaded machine (the whole suite runs test hosts in parallel) tiered JIT
        // can still be replacing methods during the first measurement, so up to three measurements are taken and the
        // lowest must pass; every one is reported on failure.
        var seen = new List<string>();
        double best = double.MaxValue;
        for (int attempt = 0; attempt < 3 && best >= 120; attempt++)
        {
            long a0 = GC.GetAllocatedBytesForCurrentThread();
            _model.Generate("", q);
            long a1 = GC.GetAllocatedBytesForCurrentThread();
            var r = _model.Generate("", p);
            long a2 = GC.GetAllocatedBytesForCurrentThread();
            double perToken = ((a2 - a1) - (a1 - a0)) / 200.0;
            seen.Add($"{perToken:F1} (text of {r.Text.Length} chars)");
            best = Math.Min(best, perToken);
        }
        // Each token allocates its emitted text (a string of a few characters, ~30 bytes) plus amortized result text.
        Assert.True(best < 120, $"bytes allocated per token in each measurement: {string.Join(", ", seen)}");
    }
}
