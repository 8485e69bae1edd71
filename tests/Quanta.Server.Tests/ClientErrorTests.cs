using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;

namespace Quanta.Server.Tests;

/// <summary>
/// Each error case as the real clients see it: the OpenAI SDK and Microsoft.Extensions.AI's adapter raise
/// ClientResultException with the server's status (400, 401, 404, 429) and OpenAI's error body; and overload at 4x the
/// queue is answered with 429 while managed memory stays bounded.
/// </summary>
// serial: the overload test measures the managed heap of the whole process, which parallel tests would disturb
[Collection(SoakCollection.Name)]
public sealed class ClientErrorTests
{
    // no retries: the SDK would otherwise retry 429s after Retry-After
    private static OpenAIClient Client(ServerHarness h, string key = "unused") =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(h.Server.BaseAddress, "v1"), RetryPolicy = new ClientRetryPolicy(0) });

    private static async Task<ClientResultException> Fails(Func<Task> call, int status, string? code = null)
    {
        var e = await Assert.ThrowsAsync<ClientResultException>(call);
        Assert.Equal(status, e.Status);
        string body = e.GetRawResponse()?.Content.ToString() ?? "";
        using var doc = JsonDocument.Parse(body);
        JsonElement error = doc.RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        if (code is not null) Assert.Equal(code, error.GetProperty("code").GetString());
        return e;
    }

    [Fact]
    public async Task Sdk_and_extensions_ai_clients_surface_every_error_status()
    {
        using var gate = new ManualResetEventSlim(true);
        await using var h = await ServerHarness.StartAsync(o =>
        {
            o.ApiKeys = ["sk-right"];
            o.MaxRunning = 1;
            o.MaxQueue = 1;
            o.WrapExecutor = inner => new GateExecutor(inner, gate);
        });
        ChatClient chat = Client(h, "sk-right").GetChatClient("tiny-chat");
        IChatClient meai = chat.AsIChatClient();
        var user = new List<OpenAI.Chat.ChatMessage> { new UserChatMessage("hi") };

        // 400: invalid parameter; context length (tiny-chat has 128 positions)
        await Fails(() => chat.CompleteChatAsync(user, new ChatCompletionOptions { Temperature = 5f }), 400);
        await Fails(() => meai.GetResponseAsync("hi", new ChatOptions { Temperature = 5f }), 400);
        string longText = string.Join(' ', Enumerable.Repeat("word", 400));
        await Fails(() => chat.CompleteChatAsync([new UserChatMessage(longText)]), 400, "context_length_exceeded");
        // 401: wrong key
        await Fails(() => Client(h, "sk-wrong").GetChatClient("tiny-chat").CompleteChatAsync(user), 401);
        await Fails(() => Client(h, "sk-wrong").GetChatClient("tiny-chat").AsIChatClient().GetResponseAsync("hi"), 401);
        // 404: unknown model
        await Fails(() => Client(h, "sk-right").GetChatClient("gpt-9").CompleteChatAsync(user), 404, "model_not_found");
        await Fails(async () =>
        {
            await foreach (var _ in Client(h, "sk-right").GetChatClient("gpt-9").AsIChatClient().GetStreamingResponseAsync("hi")) { }
        }, 404, "model_not_found");
        // 429: queue full (1 running + 1 queued held at the gate)
        gate.Reset();
        try
        {
            var held = new[]
            {
                chat.CompleteChatAsync(user, new ChatCompletionOptions { MaxOutputTokenCount = 2, Temperature = 0 }),
                chat.CompleteChatAsync(user, new ChatCompletionOptions { MaxOutputTokenCount = 2, Temperature = 0 }),
            };
            var engine = h.Server.Engines["tiny-chat"];
            for (int i = 0; i < 500 && engine.Outstanding < 2; i++) await Task.Delay(10);
            Assert.Equal(2, engine.Outstanding);
            var e = await Fails(() => chat.CompleteChatAsync(user), 429, "queue_full");
            Assert.Equal("1", e.GetRawResponse()!.Headers.TryGetValue("Retry-After", out string? retry) ? retry : null);
            await Fails(() => meai.GetResponseAsync("hi"), 429, "queue_full");
            gate.Set();
            foreach (var t in held) Assert.Equal(2, (await t.WaitAsync(TimeSpan.FromSeconds(60))).Value.Usage.OutputTokenCount);
        }
        finally
        {
            gate.Set();
        }
        // and the server still answers
        Assert.NotEmpty((await meai.GetResponseAsync("hi", new ChatOptions { MaxOutputTokens = 3 })).Messages);
    }

    [Fact]
    public async Task Overload_at_four_times_the_queue_is_refused_with_bounded_memory()
    {
        const int queue = 8, running = 2;
        using var gate = new ManualResetEventSlim(true);
        await using var h = await ServerHarness.StartAsync(o =>
        {
            o.MaxRunning = running;
            o.MaxQueue = queue;
            o.WrapExecutor = inner => new GateExecutor(inner, gate);
        });
        const string body = """{"model":"stories260K","prompt":"Once upon a time","max_tokens":4,"temperature":0}""";
        Assert.Equal(200, (await h.PostAsync("/v1/completions", body)).Status);   // warm
        gate.Reset();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = GC.GetTotalMemory(true);
        var refused = new List<int>();
        var held = new List<Task<(int Status, JsonElement Body, HttpResponseMessage Response)>>();
        var engine = h.Server.Engines["stories260K"];
        try
        {
            // 4x the queue, in two waves while the engine is held: the first fills running + queue and is refused the
            // rest, the second is refused entirely
            for (int wave = 0; wave < 2; wave++)
            {
                var all = Enumerable.Range(0, 4 * queue).Select(_ => h.PostAsync("/v1/completions", body)).ToList();
                int expectRefused = wave == 0 ? 4 * queue - (running + queue) : 4 * queue;
                for (int i = 0; i < 400 && all.Count(t => t.IsCompleted) < expectRefused; i++) await Task.Delay(25);
                await Task.Delay(100);   // nothing else may complete while the engine is held
                refused.AddRange(all.Where(t => t.IsCompleted).Select(t => t.Result.Status));
                held.AddRange(all.Where(t => !t.IsCompleted));
                Assert.Equal(running + queue, engine.Outstanding);
            }
        }
        finally
        {
            gate.Set();
        }
        Assert.Equal(4 * queue - (running + queue) + 4 * queue, refused.Count);
        Assert.All(refused, s => Assert.Equal(429, s));
        Assert.Equal(running + queue, held.Count);
        Assert.All(await Task.WhenAll(held).WaitAsync(TimeSpan.FromSeconds(60)), r => Assert.Equal(200, r.Status));
        for (int i = 0; i < 500 && engine.Outstanding > 0; i++) await Task.Delay(10);
        Assert.Equal(200, (await h.PostAsync("/v1/completions", body)).Status);
        Assert.Equal(0, engine.Cache.Pool.UsedBlocks);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long after = GC.GetTotalMemory(true);
        Assert.True(after - before < 8L << 20, $"managed heap grew {(after - before) / 1048576.0:F2} MiB under overload");
    }
}
