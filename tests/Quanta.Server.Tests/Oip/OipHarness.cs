using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenAI;
using Quanta.Engine.Tensor;
using Quanta.Models.Embeddings;
using Quanta.Server.Oip;

namespace Quanta.Server.Tests.Oip;

/// <summary>
/// A minimal WebApplication on 127.0.0.1 (free port) mapping the OIP routes and /v1/embeddings over a registry with
/// all-MiniLM-L6-v2 ("minilm") and the ONNX node test model Add ("add", fixed [3, 4, 5] inputs x and y).
/// </summary>
public sealed class OipHarness : IAsyncLifetime
{
    public const string AddModelPath = "/usr/share/libonnx-testdata/data/node/test_add/model.onnx";

    private WebApplication? _app;

    public TensorModelRegistry Registry { get; } = new();
    public EmbeddingModel Embedding { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(EmbeddingModel.DefaultAssemblyPath), EmbeddingModel.DefaultAssemblyPath + " missing");
        Assert.True(File.Exists(AddModelPath), AddModelPath + " missing (libonnx test data)");
        Embedding = EmbeddingModel.LoadDefault();
        Registry.Add(new EmbeddingTensorModel(Embedding, "minilm"), new DynamicBatcherOptions { MaxQueueDelayMicroseconds = 2000 });
        Registry.Add(GraphTensorModel.Load(AddModelPath, "add"));
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        OipEndpoints.Map(app, Registry);
        app.MapPost("/v1/embeddings", ctx => EmbeddingsEndpoint.HandleAsync(ctx, Registry));
        await app.StartAsync();
        _app = app;
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(bound.EndsWith('/') ? bound : bound + "/");
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public OpenAIClient OpenAI() => new(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(BaseAddress, "v1") });

    public async Task<(int Status, JsonElement Body)> GetAsync(string path)
    {
        using var resp = await Http.GetAsync(path);
        string text = await resp.Content.ReadAsStringAsync();
        return ((int)resp.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    public async Task<(int Status, JsonElement Body)> PostAsync(string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var resp = await Http.PostAsync(path, content);
        string text = await resp.Content.ReadAsStringAsync();
        return ((int)resp.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (_app is not null)
        {
            using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5))) await _app.StopAsync(cts.Token);
            await _app.DisposeAsync();
        }
        await Registry.DisposeAsync();
    }
}
