using System.Text;
using Microsoft.Extensions.AI;
using Quanta.Engine.Generation;
using Quanta.Engine.Sampling;

namespace Quanta.Engine.Tests.Generation;

public sealed class LlmChatClientTests(TinyChatFixture fixture) : IClassFixture<TinyChatFixture>
{
    private readonly string _path = fixture.Path;
    private readonly LlmModel _model = fixture.Model;

    private static List<ChatMessage> Conversation() =>
    [
        new(ChatRole.System, "Be brief."),
        new(ChatRole.User, "Hello there"),
        new(ChatRole.Assistant, "Hi."),
        new(ChatRole.User, "How are you?"),
    ];

    // What the template in the file renders for Conversation() (written out by hand from the template).
    private const string Rendered = "system: Be brief.\nuser: Hello there\nassistant: Hi.\nuser: How are you?\nassistant:";

    [Fact]
    public void Template_from_gguf_metadata_renders_the_conversation()
    {
        using var client = new LlmChatClient(_model);
        Assert.True(_model.HasChatTemplate);
        Assert.Equal(Rendered, client.RenderPrompt(Conversation()));
        Assert.Equal("system: Rules.\nuser: Hi\nassistant:",
            client.RenderPrompt([new ChatMessage(ChatRole.User, "Hi")], new ChatOptions { Instructions = "Rules." }));
        // BOS once, then the text with SentencePiece's dummy prefix space (the tokenizer's own encoding of the text).
        int[] expected = [1, .. _model.Tokenizer.Encode(Rendered, addSpecial: false)];
        Assert.Equal(expected, _model.TokenizeChatPrompt(Rendered));
    }

    [Fact]
    public async Task Response_matches_direct_generation_with_mapped_options_and_reports_usage()
    {
        using var client = new LlmChatClient(_model);
        var options = new ChatOptions { Temperature = 0.7f, TopP = 0.9f, TopK = 50, MaxOutputTokens = 12, Seed = 42, FrequencyPenalty = 0.5f, PresencePenalty = 0.25f };
        ChatResponse response = await client.GetResponseAsync(Conversation(), options);

        int[] prompt = [1, .. _model.Tokenizer.Encode(Rendered, addSpecial: false)];
        var direct = _model.Generate(prompt, new SamplingParameters
        {
            Temperature = 0.7f, TopP = 0.9f, TopK = 50, MaxTokens = 12, Seed = 42, FrequencyPenalty = 0.5f, PresencePenalty = 0.25f,
        });
        Assert.Equal(direct.Text, response.Text);
        Assert.Equal(ChatRole.Assistant, response.Messages.Single().Role);
        Assert.Equal(prompt.Length, response.Usage!.InputTokenCount);
        Assert.Equal(direct.TokenIds.Count, response.Usage.OutputTokenCount);
        Assert.Equal(prompt.Length + direct.TokenIds.Count, response.Usage.TotalTokenCount);
        Assert.Equal(direct.FinishReason == GenerationFinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(Path.GetFileNameWithoutExtension(_path), response.ModelId);

        // Another seed gives another sample: the seed reaches the sampler.
        ChatResponse a = await client.GetResponseAsync(Conversation(), new ChatOptions { Temperature = 1, Seed = 43, MaxOutputTokens = 12 });
        ChatResponse b = await client.GetResponseAsync(Conversation(), new ChatOptions { Temperature = 1, Seed = 43, MaxOutputTokens = 12 });
        ChatResponse c = await client.GetResponseAsync(Conversation(), new ChatOptions { Temperature = 1, Seed = 44, MaxOutputTokens = 12 });
        Assert.Equal(a.Text, b.Text);
        Assert.NotEqual(a.Text, c.Text);
    }

    [Fact]
    public void Options_map_to_sampling_parameters()
    {
        var p = LlmChatClient.ToSamplingParameters(new ChatOptions
        {
            Temperature = 0.3f, TopP = 0.8f, TopK = 7, MaxOutputTokens = 99, StopSequences = ["END", "\n\n"], Seed = -1,
            FrequencyPenalty = 1.5f, PresencePenalty = -0.5f,
        });
        Assert.Equal(0.3f, p.Temperature);
        Assert.Equal(0.8f, p.TopP);
        Assert.Equal(7, p.TopK);
        Assert.Equal(99, p.MaxTokens);
        Assert.Equal(["END", "\n\n"], p.Stop);
        Assert.Equal(ulong.MaxValue, p.Seed);
        Assert.Equal(1.5f, p.FrequencyPenalty);
        Assert.Equal(-0.5f, p.PresencePenalty);
        var d = LlmChatClient.ToSamplingParameters(null);
        Assert.Equal(new SamplingParameters().Temperature, d.Temperature);
        Assert.Null(d.MaxTokens);
        Assert.Null(d.Seed);
    }

    [Fact]
    public async Task Max_output_tokens_and_stop_sequences_apply()
    {
        using var client = new LlmChatClient(_model);
        var r = await client.GetResponseAsync(Conversation(), new ChatOptions { Temperature = 0, MaxOutputTokens = 5 });
        Assert.Equal(5, r.Usage!.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, r.FinishReason);

        var longer = await client.GetResponseAsync(Conversation(), new ChatOptions { Temperature = 0, MaxOutputTokens = 40 });
        string text = longer.Text;
        Assert.True(text.Length >= 4, $"greedy text too short to pick a stop string: '{text}'");
        string stop = text.Substring(text.Length / 2, 2);
        var stopped = await client.GetResponseAsync(Conversation(), new ChatOptions { Temperature = 0, MaxOutputTokens = 40, StopSequences = [stop] });
        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);
    }

    [Fact]
    public async Task Streaming_updates_concatenate_to_the_response_and_end_with_usage()
    {
        using var client = new LlmChatClient(_model);
        var options = new ChatOptions { Temperature = 0.8f, Seed = 3, MaxOutputTokens = 20 };
        ChatResponse full = await client.GetResponseAsync(Conversation(), options);
        var text = new StringBuilder();
        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync(Conversation(), options))
        {
            text.Append(u.Text);
            updates.Add(u);
        }
        Assert.Equal(full.Text, text.ToString());
        var usage = updates[^1].Contents.OfType<UsageContent>().Single().Details;
        Assert.Equal(full.Usage!.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(full.Usage.OutputTokenCount, usage.OutputTokenCount);
        Assert.Equal(full.FinishReason, updates[^1].FinishReason);
        Assert.Equal(full.Text, updates.ToChatResponse().Text);
    }

    [Fact]
    public async Task Cancellation_throws_operation_cancelled()
    {
        using var client = new LlmChatClient(_model);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetResponseAsync(Conversation(), null, cts.Token));
    }

    [Fact]
    public void Get_service_returns_metadata_and_model()
    {
        using var client = new LlmChatClient(_model);
        var meta = client.GetService<ChatClientMetadata>();
        Assert.NotNull(meta);
        Assert.Equal("quanta", meta.ProviderName);
        Assert.Equal(Path.GetFileNameWithoutExtension(_path), meta.DefaultModelId);
        Assert.Same(_model, client.GetService<LlmModel>());
        Assert.Null(client.GetService<ChatClientMetadata>("some key"));
    }

    [Fact]
    public void Model_without_template_falls_back_to_chatml()
    {
        string path = Path.Combine(Path.GetTempPath(), $"quanta-tiny-notemplate-{Guid.NewGuid():N}.gguf");
        TinyChatGguf.Write(path, template: null);
        try
        {
            using var model = LlmModel.Load(path, new LlmLoadOptions { Threads = 1 });
            using var client = new LlmChatClient(model);
            Assert.False(model.HasChatTemplate);
            Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", client.RenderPrompt([new ChatMessage(ChatRole.User, "Hi")]));
        }
        finally { File.Delete(path); }
    }
}
