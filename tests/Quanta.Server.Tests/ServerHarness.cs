using System.ClientModel;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenAI;
using Quanta.Engine.Execution;

namespace Quanta.Server.Tests;

/// <summary>A server on 127.0.0.1 with a free port in this process, serving stories260K (llama2.c) and tiny-chat (GGUF).</summary>
internal sealed class ServerHarness : IAsyncDisposable
{
    private ServerHarness(QuantaServer server)
    {
        Server = server;
        Http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public QuantaServer Server { get; }

    public HttpClient Http { get; }

    public static async Task<ServerHarness> StartAsync(Action<ServerOptions>? configure = null)
    {
        var options = new ServerOptions
        {
            Port = 0,
            Logging = false,
            Threads = 1,
            Tokenizer = TestModels.Tok512,
            Models = [new ModelSpec { Path = TestModels.Stories }, new ModelSpec { Path = TestModels.ChatGguf }],
        };
        configure?.Invoke(options);
        var server = new QuantaServer(options);
        await server.StartAsync();
        return new ServerHarness(server);
    }

    public OpenAIClient OpenAI(string key = "unused") =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Server.BaseAddress, "v1") });

    public async Task<(int Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(string path, string json, string? key = null)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key != null) req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        HttpResponseMessage resp = await Http.SendAsync(req);
        string text = await resp.Content.ReadAsStringAsync();
        JsonElement body = text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default;
        return ((int)resp.StatusCode, body, resp);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>An executor wrapper whose steps wait while the gate is closed (bounded wait), to hold requests in the engine.</summary>
internal sealed class GateExecutor(IExecutor inner, ManualResetEventSlim gate) : IExecutor
{
    public int VocabSize => inner.VocabSize;

    public int MaxBatchTokens => inner.MaxBatchTokens;

    public int MaxBatchSequences => inner.MaxBatchSequences;

    public ExecutionResult Execute(ExecutionBatch batch)
    {
        gate.Wait(TimeSpan.FromSeconds(30));
        return inner.Execute(batch);
    }
}
