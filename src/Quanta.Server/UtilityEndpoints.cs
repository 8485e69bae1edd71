using Microsoft.AspNetCore.Http;
using Quanta.Engine.Metrics;
using Quanta.Engine.Serving;
using Quanta.Server.Protocol;

namespace Quanta.Server;

/// <summary>GET /v1/models, POST /tokenize, POST /detokenize (vLLM's bodies), GET /health, GET /ready, GET /metrics.</summary>
internal static class UtilityEndpoints
{
    public static Task ModelsAsync(HttpContext ctx, QuantaServer server)
    {
        var list = new ModelList();
        foreach (ServingEngine e in server.Engines.Values)
            list.Data.Add(new ModelCard { Id = e.Id, Created = server.StartedAt.ToUnixTimeSeconds(), MaxModelLen = e.ContextLength });
        foreach (string name in server.TensorModels.Names)
            list.Data.Add(new ModelCard { Id = name, Created = server.StartedAt.ToUnixTimeSeconds() });
        return Http.WriteJsonAsync(ctx, 200, list, ServerJsonContext.Default.ModelList);
    }

    public static async Task TokenizeAsync(HttpContext ctx, QuantaServer server)
    {
        TokenizeRequest body = await Http.ReadJsonAsync(ctx, ServerJsonContext.Default.TokenizeRequest).ConfigureAwait(false);
        ServingEngine engine = server.FindModel(body.Model);
        int[] tokens;
        if (body.Messages is not null)
        {
            if (body.Prompt is not null) throw ApiException.BadParam("prompt", "give either prompt or messages, not both");
            string rendered = engine.Model.ApplyChatTemplate(RequestMapping.Messages(body.Messages), body.AddGenerationPrompt ?? true);
            tokens = engine.Model.TokenizeChatPrompt(rendered);
        }
        else if (body.Prompt is not null)
            tokens = engine.Model.Tokenizer.Encode(body.Prompt, addSpecial: body.AddSpecialTokens ?? true, parseSpecial: true);
        else throw ApiException.BadParam("prompt", "prompt or messages is required");
        await Http.WriteJsonAsync(ctx, 200, new TokenizeResponse { Count = tokens.Length, MaxModelLen = engine.ContextLength, Tokens = [.. tokens] },
            ServerJsonContext.Default.TokenizeResponse).ConfigureAwait(false);
    }

    public static async Task DetokenizeAsync(HttpContext ctx, QuantaServer server)
    {
        DetokenizeRequest body = await Http.ReadJsonAsync(ctx, ServerJsonContext.Default.DetokenizeRequest).ConfigureAwait(false);
        ServingEngine engine = server.FindModel(body.Model);
        if (body.Tokens is null) throw ApiException.BadParam("tokens", "tokens is required");
        int vocab = engine.Model.Tokenizer.VocabSize;
        foreach (int t in body.Tokens)
            if ((uint)t >= (uint)vocab) throw ApiException.BadParam("tokens", $"token id {t} is outside 0..{vocab - 1}");
        string text = engine.Model.Tokenizer.Decode(body.Tokens.ToArray());
        await Http.WriteJsonAsync(ctx, 200, new DetokenizeResponse { Prompt = text }, ServerJsonContext.Default.DetokenizeResponse).ConfigureAwait(false);
    }

    /// <summary>Prometheus text exposition 0.0.4 of every serving metric (open, like vLLM's).</summary>
    public static Task MetricsAsync(HttpContext ctx, ServingMetrics metrics)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = PrometheusExporter.ContentType;
        ctx.Response.Headers.CacheControl = "no-store";
        return metrics.WritePrometheusAsync(ctx.Response.Body, ctx.RequestAborted);
    }

    public static Task HealthAsync(HttpContext ctx) =>
        Http.WriteJsonAsync(ctx, 200, new HealthResponse { Status = "ok" }, ServerJsonContext.Default.HealthResponse);

    public static Task ReadyAsync(HttpContext ctx, QuantaServer server)
    {
        ServerState s = server.State;
        string status = s switch { ServerState.Ready => "ok", ServerState.Loading => "loading", _ => "draining" };
        return Http.WriteJsonAsync(ctx, s == ServerState.Ready ? 200 : 503, new HealthResponse { Status = status }, ServerJsonContext.Default.HealthResponse);
    }
}
