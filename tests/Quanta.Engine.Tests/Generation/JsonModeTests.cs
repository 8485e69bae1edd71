using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Quanta.Engine.Generation;
using Quanta.Engine.Sampling;

namespace Quanta.Engine.Tests.Generation;

/// <summary>
/// JSON mode through the in-process API: <see cref="SamplingParameters.JsonObject"/> on <see cref="LlmModel"/> and
/// <see cref="ChatResponseFormat.Json"/> on <see cref="LlmChatClient"/>. The model has random weights, so without
/// the constraint its output is arbitrary token soup; with it, every output must parse (System.Text.Json is the oracle).
/// </summary>
public sealed class JsonModeTests(TinyChatFixture fixture) : IClassFixture<TinyChatFixture>
{
    private readonly LlmModel _model = fixture.Model;

    private static void AssertOneJsonObject(string text, string what)
    {
        JsonNode? node = null;
        Exception? error = Record.Exception(() => node = JsonNode.Parse(text));
        Assert.True(error is null && node is JsonObject, $"{what}: not one JSON object ({error?.Message ?? node?.GetValueKind().ToString()}): {text}");
    }

    [Fact]
    public void Sampled_outputs_parse_as_one_object_for_several_seeds_and_limits()
    {
        int baseSeed = Random.Shared.Next();
        for (int i = 0; i < 6; i++)
        {
            ulong seed = (ulong)baseSeed + (ulong)i;
            int maxTokens = 8 + 12 * i;     // 8..68: the tighter limits force the processor to close early
            var p = new SamplingParameters { Temperature = 1.2f, Seed = seed, MaxTokens = maxTokens, JsonObject = true };
            GenerationResult r = _model.Generate("user: give me JSON\nassistant:", p);
            AssertOneJsonObject(r.Text, $"seed {seed} max {maxTokens} finish {r.FinishReason}");
            Assert.True(r.TokenIds.Count <= maxTokens, $"seed {seed}: {r.TokenIds.Count} tokens > {maxTokens}");
        }
    }

    [Fact]
    public void Without_json_mode_the_same_model_does_not_produce_json()
    {
        // guards the test above: the constraint, not the model, makes the JSON
        int seed = Random.Shared.Next();
        int parsed = 0;
        for (int i = 0; i < 4; i++)
        {
            var r = _model.Generate("user: give me JSON\nassistant:", new SamplingParameters { Temperature = 1.2f, Seed = (ulong)(seed + i), MaxTokens = 40 });
            try
            {
                using var doc = JsonDocument.Parse(r.Text);
                parsed++;
            }
            catch (JsonException)
            {
            }
        }
        Assert.True(parsed < 4, $"seed {seed}: unconstrained random-weight output parsed as JSON every time");
    }

    [Fact]
    public async Task Streaming_chunks_concatenate_to_the_same_object_as_the_blocking_call()
    {
        ulong seed = (ulong)Random.Shared.Next();
        var p = new SamplingParameters { Temperature = 1f, Seed = seed, MaxTokens = 48, JsonObject = true };
        GenerationResult blocking = _model.Generate("user: data\nassistant:", p);
        var text = new StringBuilder();
        await foreach (GenerationChunk chunk in _model.GenerateStreaming("user: data\nassistant:", p)) text.Append(chunk.Text);
        Assert.Equal(blocking.Text, text.ToString());
        AssertOneJsonObject(text.ToString(), $"seed {seed} streaming");
    }

    [Fact]
    public async Task Chat_client_json_response_format_parses_for_several_seeds()
    {
        using var client = new LlmChatClient(_model);
        long baseSeed = Random.Shared.Next();
        List<ChatMessage> messages = [new(ChatRole.User, "Describe a cat as JSON.")];
        for (int i = 0; i < 4; i++)
        {
            var options = new ChatOptions { ResponseFormat = ChatResponseFormat.Json, Seed = baseSeed + i, Temperature = 1.2f, MaxOutputTokens = 40 };
            ChatResponse response = await client.GetResponseAsync(messages, options);
            AssertOneJsonObject(response.Text, $"seed {baseSeed + i} chat");
        }
        var stream = new StringBuilder();
        var streamOptions = new ChatOptions { ResponseFormat = ChatResponseFormat.Json, Seed = baseSeed, Temperature = 1.2f, MaxOutputTokens = 40 };
        await foreach (ChatResponseUpdate u in client.GetStreamingResponseAsync(messages, streamOptions)) stream.Append(u.Text);
        AssertOneJsonObject(stream.ToString(), $"seed {baseSeed} chat streaming");
    }

    [Fact]
    public void Response_format_maps_to_json_object_and_a_schema_is_refused()
    {
        Assert.True(LlmChatClient.ToSamplingParameters(new ChatOptions { ResponseFormat = ChatResponseFormat.Json }).JsonObject);
        Assert.False(LlmChatClient.ToSamplingParameters(new ChatOptions { ResponseFormat = ChatResponseFormat.Text }).JsonObject);
        Assert.False(LlmChatClient.ToSamplingParameters(new ChatOptions()).JsonObject);
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"name":{"type":"string"}}}""");
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema.RootElement.Clone(), "person") };
        var e = Assert.Throws<NotSupportedException>(() => LlmChatClient.ToSamplingParameters(options));
        Assert.Contains("schema", e.Message, StringComparison.Ordinal);
        Assert.Contains("ChatResponseFormat.Json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_client_with_a_schema_fails_before_generating()
    {
        using var client = new LlmChatClient(_model);
        using var schema = JsonDocument.Parse("""{"type":"object"}""");
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema.RootElement.Clone()) };
        await Assert.ThrowsAsync<NotSupportedException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], options));
    }

    [Fact]
    public void A_model_without_an_end_token_refuses_json_mode_clearly()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"quanta-tiny-noend-{Guid.NewGuid():N}.gguf");
        TinyChatGguf.Write(path, wordPiece: true);
        try
        {
            using var model = LlmModel.Load(path, new LlmLoadOptions { Threads = 1 });
            Assert.Empty(model.EndOfGenerationTokens);
            var json = new SamplingParameters { Seed = 1, MaxTokens = 4, JsonObject = true };
            var e = Assert.Throws<NotSupportedException>(() => model.Generate([101, 500], json));
            Assert.Contains("end-of-generation token", e.Message, StringComparison.Ordinal);
            Assert.Throws<NotSupportedException>(() => model.JsonVocabulary);
            Assert.Equal(4, model.Generate([101, 500], json with { JsonObject = false }).TokenIds.Count);  // plain text still runs
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Json_vocabulary_uses_the_models_end_tokens()
    {
        Assert.Contains(2, _model.EndOfGenerationTokens);     // </s> of the llama SentencePiece vocabulary
        Assert.All(_model.EndOfGenerationTokens, t => Assert.True(_model.IsEndOfGeneration(t)));
        Assert.Equal(_model.EndOfGenerationTokens, _model.JsonVocabulary.EndTokens);
        Assert.Same(_model.JsonVocabulary, _model.JsonVocabulary);
    }
}
