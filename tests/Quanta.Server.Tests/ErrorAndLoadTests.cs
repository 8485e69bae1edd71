using System.Net;
using System.Text;
using System.Text.Json;

namespace Quanta.Server.Tests;

/// <summary>Error statuses in OpenAI's error format, queue limits, draining, disconnects and concurrency.</summary>
public sealed class ErrorAndLoadTests
{
    private static void AssertError(int expectedStatus, (int Status, JsonElement Body, HttpResponseMessage Response) r, string? param = null)
    {
        Assert.Equal(expectedStatus, r.Status);
        JsonElement e = r.Body.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(e.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(e.GetProperty("type").GetString()));
        Assert.True(e.TryGetProperty("code", out _));
        Assert.True(e.TryGetProperty("param", out JsonElement p));
        if (param != null) Assert.Equal(param, p.GetString());
    }

    [Fact]
    public async Task Bad_parameters_context_overflow_unknown_model_and_large_body()
    {
        await using var h = await ServerHarness.StartAsync(o => o.MaxRequestBytes = 4096);
        AssertError(400, await h.PostAsync("/v1/chat/completions", """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"temperature":5}"""), "temperature");
        AssertError(400, await h.PostAsync("/v1/chat/completions", """{"model":"tiny-chat","messages":[]}"""), "messages");
        AssertError(400, await h.PostAsync("/v1/chat/completions", """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"top_logprobs":3}"""), "top_logprobs");
        AssertError(400, await h.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"x","max_tokens":"many"}"""), "max_tokens");
        AssertError(400, await h.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"x","logit_bias":{"99999":1}}"""), "logit_bias");
        // stories260K has 512 positions: a 600-token prompt cannot fit
        string ids = string.Join(",", Enumerable.Repeat(100, 600));
        var overflow = await h.PostAsync("/v1/completions", $$"""{"model":"stories260K","prompt":[{{ids}}]}""");
        AssertError(400, overflow, "prompt");
        Assert.Equal("context_length_exceeded", overflow.Body.GetProperty("error").GetProperty("code").GetString());
        var missing = await h.PostAsync("/v1/chat/completions", """{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}""");
        AssertError(404, missing, "model");
        Assert.Equal("model_not_found", missing.Body.GetProperty("error").GetProperty("code").GetString());
        string big = new string('a', 10_000);
        AssertError(413, await h.PostAsync("/v1/completions", $$"""{"model":"stories260K","prompt":"{{big}}"}"""));
        // the server still works
        Assert.Equal(200, (await h.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"Once","max_tokens":3}""")).Status);
    }

    [Fact]
    public async Task Api_keys_are_required_when_configured()
    {
        await using var h = await ServerHarness.StartAsync(o => o.ApiKeys = ["sk-right", "sk-other"]);
        const string body = """{"model":"stories260K","prompt":"Once","max_tokens":2}""";
        AssertError(401, await h.PostAsync("/v1/completions", body));
        AssertError(401, await h.PostAsync("/v1/completions", body, "sk-wrong"));
        Assert.Equal(200, (await h.PostAsync("/v1/completions", body, "sk-right")).Status);
        Assert.Equal(200, (await h.PostAsync("/v1/completions", body, "sk-other")).Status);
        Assert.Equal(HttpStatusCode.OK, (await h.Http.GetAsync("/health")).StatusCode);
        // the OpenAI SDK with the right key
        var chat = h.OpenAI("sk-right").GetChatClient("tiny-chat");
        var c = await chat.CompleteChatAsync([new OpenAI.Chat.UserChatMessage("hi")], new OpenAI.Chat.ChatCompletionOptions { MaxOutputTokenCount = 3, Temperature = 0 });   // greedy: an unseeded draw could end early on EOS
        Assert.Equal(3, c.Value.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Full_queue_gets_429_with_Retry_After_and_overload_does_not_break_the_server()
    {
        using var gate = new ManualResetEventSlim(false);
        await using var h = await ServerHarness.StartAsync(o =>
        {
            o.MaxRunning = 1;
            o.MaxQueue = 1;
            o.WrapExecutor = inner => new GateExecutor(inner, gate);
        });
        var engine = h.Server.Engines["stories260K"];
        const string body = """{"model":"stories260K","prompt":"Once upon a time","max_tokens":8,"temperature":0}""";
        try
        {
            // 4x the queue (plus the running slot): exactly capacity (2) are accepted while the engine is held
            var all = Enumerable.Range(0, 8).Select(_ => h.PostAsync("/v1/completions", body)).ToList();
            var rejected = new List<(int Status, JsonElement Body, HttpResponseMessage Response)>();
            for (int i = 0; i < 200 && rejected.Count < 6; i++)
            {
                await Task.WhenAny(Task.WhenAll(all), Task.Delay(50));
                rejected = all.Where(t => t.IsCompleted).Select(t => t.Result).ToList();
            }
            Assert.Equal(6, rejected.Count);
            foreach (var r in rejected)
            {
                AssertError(429, r);
                Assert.Equal("1", r.Response.Headers.GetValues("Retry-After").Single());
            }
            Assert.Equal(2, engine.Outstanding);
            gate.Set();
            var done = await Task.WhenAll(all).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(2, done.Count(r => r.Status == 200));
        }
        finally
        {
            gate.Set();
        }
        Assert.Equal(200, (await h.PostAsync("/v1/completions", body)).Status);
        Assert.Equal(0, engine.Outstanding);
    }

    [Fact]
    public async Task Draining_answers_503_to_new_requests_and_finishes_running_ones()
    {
        using var gate = new ManualResetEventSlim(false);
        var h = await ServerHarness.StartAsync(o => o.WrapExecutor = inner => new GateExecutor(inner, gate));
        try
        {
            var engine = h.Server.Engines["stories260K"];
            var running = h.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"Once","max_tokens":5}""");
            for (int i = 0; i < 200 && engine.Outstanding == 0; i++) await Task.Delay(20);
            Assert.Equal(1, engine.Outstanding);
            Task drain = h.Server.DrainAsync();
            Assert.Equal(ServerState.Draining, h.Server.State);
            var refused = await h.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"Once","max_tokens":5}""");
            AssertError(503, refused);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await h.Http.GetAsync("/ready")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await h.Http.GetAsync("/health")).StatusCode);
            gate.Set();
            var r = await running.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(200, r.Status);
            Assert.Equal(5, r.Body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
            await drain.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(ServerState.Stopped, h.Server.State);
        }
        finally
        {
            gate.Set();
            await h.DisposeAsync();
        }
    }

    [Fact]
    public async Task Client_disconnect_mid_stream_frees_its_kv_blocks()
    {
        await using var h = await ServerHarness.StartAsync(o => o.Threads = 1);
        var engine = h.Server.Engines["stories260K"];
        using var cts = new CancellationTokenSource();
        using var req = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent("""{"model":"stories260K","prompt":"Once upon a time","max_tokens":500,"stream":true}""", Encoding.UTF8, "application/json"),
        };
        using (var resp = await h.Http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, cts.Token))
        {
            using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync(cts.Token));
            string? first = await reader.ReadLineAsync(cts.Token);
            Assert.StartsWith("data: ", first);
            Assert.True(engine.Cache.Pool.UsedBlocks > 0);
            await cts.CancelAsync();
        }
        for (int i = 0; i < 500 && (engine.Cache.Pool.UsedBlocks > 0 || engine.Outstanding > 0); i++) await Task.Delay(20);
        Assert.Equal(0, engine.Cache.Pool.UsedBlocks);
        Assert.Equal(0, engine.Outstanding);
    }

    [Fact]
    public async Task Sixteen_concurrent_greedy_requests_equal_the_same_requests_one_at_a_time()
    {
        await using var h = await ServerHarness.StartAsync();
        string[] starts = ["Once", "Once upon", "The cat", "Lily", "Tom was", "A big", "One day", "She"];
        string Body(int i) => $$"""{"model":"stories260K","prompt":"{{starts[i % starts.Length]}}{{(i >= 8 ? " and" : "")}}","max_tokens":{{10 + 3 * i}},"temperature":0}""";
        var alone = new List<string>();
        for (int i = 0; i < 16; i++)
        {
            var r = await h.PostAsync("/v1/completions", Body(i));
            Assert.Equal(200, r.Status);
            alone.Add(r.Body.GetProperty("choices")[0].GetProperty("text").GetString()!);
        }
        var together = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => h.PostAsync("/v1/completions", Body(i))));
        for (int i = 0; i < 16; i++)
        {
            Assert.Equal(200, together[i].Status);
            Assert.Equal(alone[i], together[i].Body.GetProperty("choices")[0].GetProperty("text").GetString());
        }
        Assert.Equal(0, h.Server.Engines["stories260K"].Cache.Pool.UsedBlocks);
    }

    [Fact]
    public async Task Serve_without_a_model_serves_the_default_embedding_model()
    {
        await using var h = await ServerHarness.StartAsync(o => o.Models = []);
        using var http = new HttpClient { BaseAddress = h.Server.BaseAddress };
        var models = await http.GetStringAsync("v1/models");
        Assert.Contains("\"all-MiniLM-L6-v2\"", models);
        using var resp = await http.PostAsync("v1/embeddings", new StringContent(
            "{\"model\":\"all-MiniLM-L6-v2\",\"input\":[\"The cat sat on the mat.\",\"Quanta serves models.\"]}",
            System.Text.Encoding.UTF8, "application/json"));
        string body = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.IsSuccessStatusCode, body);
        using var doc = System.Text.Json.JsonDocument.Parse(body);
        var data = doc.RootElement.GetProperty("data");
        Assert.Equal(2, data.GetArrayLength());
        var reference = Quanta.Models.Embeddings.EmbeddingModel.LoadDefault();
        float[][] expected = reference.Embed(["The cat sat on the mat.", "Quanta serves models."]);
        for (int i = 0; i < 2; i++)
        {
            var got = data[i].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.Equal(384, got.Length);
            Assert.Equal(expected[i], got);
        }
    }
}
