using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;
using MeaiChatResponse = Microsoft.Extensions.AI.ChatResponse;
using Quanta.Engine.Generation;
using Quanta.Engine.Sampling;

namespace Quanta.Server.Tests;

/// <summary>The official OpenAI SDK and Microsoft.Extensions.AI's adapter against the server; raw HTTP for completions.</summary>
public sealed class OpenAiClientTests : IAsyncLifetime
{
    private ServerHarness _h = null!;

    public async Task InitializeAsync() => _h = await ServerHarness.StartAsync();

    public async Task DisposeAsync() => await _h.DisposeAsync();

    // Reference: the single-request generation path (LlmModel over an InferenceSession), not the serving engine.
    private static string ReferenceChat(string user, int maxTokens)
    {
        using var model = LlmModel.Load(TestModels.ChatGguf);
        string rendered = model.ApplyChatTemplate([new Quanta.Core.Templates.ChatMessage("user", user)]);
        return model.Generate(model.TokenizeChatPrompt(rendered), new SamplingParameters { Temperature = 0, MaxTokens = maxTokens }).Text;
    }

    [Fact]
    public async Task Chat_with_the_OpenAI_SDK_is_greedy_generation_with_usage()
    {
        ChatClient chat = _h.OpenAI().GetChatClient("tiny-chat");
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 };
        ChatCompletion c = await chat.CompleteChatAsync([new UserChatMessage("hello there")], options);
        Assert.Equal(ReferenceChat("hello there", 12), c.Content[0].Text);
        Assert.Equal(ChatFinishReason.Length, c.FinishReason);
        Assert.Equal(12, c.Usage.OutputTokenCount);
        var (_, tok, _) = await _h.PostAsync("/tokenize", """{"model":"tiny-chat","messages":[{"role":"user","content":"hello there"}]}""");
        Assert.Equal(tok.GetProperty("count").GetInt32(), c.Usage.InputTokenCount);
        // the same prompt again: its full 16-token blocks come from the prefix cache
        ChatCompletion again = await chat.CompleteChatAsync([new UserChatMessage("hello there")], options);
        Assert.Equal(c.Content[0].Text, again.Content[0].Text);
        Assert.Equal(c.Usage.InputTokenCount / 16 * 16, again.Usage.InputTokenDetails.CachedTokenCount);
    }

    [Fact]
    public async Task Streaming_chat_with_usage_concatenates_to_the_same_text()
    {
        ChatClient chat = _h.OpenAI().GetChatClient("tiny-chat");
        var sb = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (StreamingChatCompletionUpdate u in chat.CompleteChatStreamingAsync([new SystemChatMessage("be brief"), new UserChatMessage("tell me")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 10 }))
        {
            foreach (var part in u.ContentUpdate) sb.Append(part.Text);
            usage ??= u.Usage;
            finish ??= u.FinishReason;
        }
        using var model = LlmModel.Load(TestModels.ChatGguf);
        string rendered = model.ApplyChatTemplate([new("system", "be brief"), new("user", "tell me")]);
        string expected = model.Generate(model.TokenizeChatPrompt(rendered), new SamplingParameters { Temperature = 0, MaxTokens = 10 }).Text;
        Assert.Equal(expected, sb.ToString());
        Assert.NotNull(usage);
        Assert.Equal(10, usage!.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, finish);
    }

    [Fact]
    public async Task Microsoft_Extensions_AI_chat_client_works_against_the_server()
    {
        IChatClient client = _h.OpenAI().GetChatClient("tiny-chat").AsIChatClient();
        MeaiChatResponse r = await client.GetResponseAsync("hello there", new ChatOptions { Temperature = 0, MaxOutputTokens = 12 });
        Assert.Equal(ReferenceChat("hello there", 12), r.Text);
        Assert.Equal(12, r.Usage?.OutputTokenCount);
        var sb = new StringBuilder();
        await foreach (var u in client.GetStreamingResponseAsync("hello there", new ChatOptions { Temperature = 0, MaxOutputTokens = 12 })) sb.Append(u.Text);
        Assert.Equal(r.Text, sb.ToString());
    }

    [Fact]
    public async Task Completions_from_BOS_reproduce_llama2c_published_greedy_sample()
    {
        var (status, body, _) = await _h.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"","max_tokens":256,"temperature":0}""");
        Assert.Equal(200, status);
        JsonElement choice = body.GetProperty("choices")[0];
        Assert.Equal(TestModels.GreedyText, choice.GetProperty("text").GetString() + "\n");
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(256, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(1, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.True(body.GetProperty("usage").GetProperty("energy_joules").GetDouble() > 0);
        Assert.Equal("estimated", body.GetProperty("usage").GetProperty("energy_source").GetString());
    }

    [Fact]
    public async Task Completions_stop_string_is_not_emitted_and_streaming_matches()
    {
        string full = TestModels.GreedyText;
        int cut = full.IndexOf("Lily", StringComparison.Ordinal);
        Assert.True(cut > 0);
        var (status, body, _) = await _h.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"","max_tokens":100,"temperature":0,"stop":["Lily"],"logprobs":2}""");
        Assert.Equal(200, status);
        JsonElement choice = body.GetProperty("choices")[0];
        Assert.Equal(full[..cut], choice.GetProperty("text").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        var lp = choice.GetProperty("logprobs");
        Assert.Equal(lp.GetProperty("tokens").GetArrayLength(), lp.GetProperty("top_logprobs").GetArrayLength());
        foreach (var x in lp.GetProperty("token_logprobs").EnumerateArray()) Assert.True(x.GetSingle() <= 0);

        using var req = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent("""{"model":"stories260K","prompt":"","max_tokens":100,"temperature":0,"stop":"Lily","stream":true,"stream_options":{"include_usage":true}}""", Encoding.UTF8, "application/json"),
        };
        using var resp = await _h.Http.SendAsync(req);
        string sse = await resp.Content.ReadAsStringAsync();
        Assert.Equal("text/event-stream", resp.Content.Headers.ContentType?.MediaType);
        var events = sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var text = new StringBuilder();
        foreach (string e in events[..^1])
        {
            Assert.StartsWith("data: ", e);
            using var doc = JsonDocument.Parse(e["data: ".Length..]);
            foreach (var c in doc.RootElement.GetProperty("choices").EnumerateArray()) text.Append(c.GetProperty("text").GetString());
        }
        Assert.Equal(full[..cut], text.ToString());
        using var last = JsonDocument.Parse(events[^2]["data: ".Length..]);
        Assert.True(last.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task Models_tokenize_detokenize_and_request_id()
    {
        var models = JsonDocument.Parse(await _h.Http.GetStringAsync("/v1/models")).RootElement;
        Assert.Equal(new string?[] { "stories260K", "tiny-chat" }, models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).Order().ToArray());
        var (_, tok, _) = await _h.PostAsync("/tokenize", """{"model":"stories260K","prompt":"Once upon a time"}""");
        int[] ids = tok.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(1, ids[0]);   // BOS
        var (_, detok, _) = await _h.PostAsync("/detokenize", $$"""{"model":"stories260K","tokens":[{{string.Join(",", ids[1..])}}]}""");
        Assert.Equal("Once upon a time", detok.GetProperty("prompt").GetString());

        using var req = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        req.Headers.Add("X-Request-Id", "my-request-42");
        using var resp = await _h.Http.SendAsync(req);
        Assert.Equal("my-request-42", resp.Headers.GetValues("X-Request-Id").Single());
        using var resp2 = await _h.Http.GetAsync("/health");
        Assert.Equal(32, resp2.Headers.GetValues("X-Request-Id").Single().Length);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await _h.Http.GetAsync("/ready")).StatusCode);
    }
}
