using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Quanta.Engine.Tensor;

namespace Quanta.Server.Oip;

/// <summary>
/// Open Inference Protocol v2 (KServe v2 REST) over an <see cref="ITensorModelRegistry"/>: GET /v2 (server metadata),
/// GET /v2/health/live, GET /v2/health/ready, GET /v2/models/{name} (metadata), GET /v2/models/{name}/ready,
/// POST /v2/models/{name}/infer. Errors answer {"error": "..."}: 400 for a malformed or unfitting request, 404 for an
/// unknown model, 503 when the model's queue is full, 500 when the model fails. Inference goes through the model's
/// <see cref="DynamicBatcher"/>.
/// </summary>
public static class OipEndpoints
{
    /// <summary>Maps the routes on <paramref name="app"/> (a WebApplication or any route builder).</summary>
    public static void Map(IEndpointRouteBuilder app, ITensorModelRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(registry);
        app.MapGet("/v2", ctx => WriteAsync(ctx, 200, new OipServerMetadata(), OipJsonContext.Default.OipServerMetadata));
        app.MapGet("/v2/health/live", ctx => WriteAsync(ctx, 200, new OipStatus { Live = true }, OipJsonContext.Default.OipStatus));
        app.MapGet("/v2/health/ready", ctx =>
        {
            bool ready = registry.Names.All(registry.IsReady);
            return WriteAsync(ctx, ready ? 200 : 503, new OipStatus { Ready = ready }, OipJsonContext.Default.OipStatus);
        });
        app.MapGet("/v2/models/{name}", ctx => Guard(ctx, () => MetadataAsync(ctx, registry, Name(ctx))));
        app.MapGet("/v2/models/{name}/ready", ctx => Guard(ctx, () =>
        {
            string name = Name(ctx);
            Find(registry, name);
            bool ready = registry.IsReady(name);
            return WriteAsync(ctx, ready ? 200 : 503, new OipStatus { Name = name, Ready = ready }, OipJsonContext.Default.OipStatus);
        }));
        app.MapPost("/v2/models/{name}/infer", ctx => Guard(ctx, () => InferAsync(ctx, registry, Name(ctx))));
    }

    private static string Name(HttpContext ctx) => ctx.Request.RouteValues["name"] as string ?? "";

    private static DynamicBatcher Find(ITensorModelRegistry registry, string name) =>
        registry.TryGet(name, out var b) ? b : throw new OipException(404, $"unknown model '{name}' (models: {string.Join(", ", registry.Names)})");

    private static Task MetadataAsync(HttpContext ctx, ITensorModelRegistry registry, string name)
    {
        var m = Find(registry, name).Model;
        static OipTensorMetadata Meta(TensorSpec s) => new() { Name = s.Name, Datatype = s.DataType.ToProtocolName(), Shape = [.. s.Shape] };
        var body = new OipModelMetadata { Name = m.Name, Platform = m.Platform, Inputs = m.Inputs.Select(Meta).ToList(), Outputs = m.Outputs.Select(Meta).ToList() };
        return WriteAsync(ctx, 200, body, OipJsonContext.Default.OipModelMetadata);
    }

    private static async Task InferAsync(HttpContext ctx, ITensorModelRegistry registry, string name)
    {
        var batcher = Find(registry, name);
        OipInferRequest body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(ctx.Request.Body, OipJsonContext.Default.OipInferRequest, ctx.RequestAborted).ConfigureAwait(false)
                ?? throw new OipException(400, "the request body must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new OipException(400, "invalid JSON body: " + e.Message);
        }
        catch (BadHttpRequestException e)
        {
            throw new OipException(e.StatusCode, e.Message);
        }
        if (body.Inputs is not { Count: > 0 }) throw new OipException(400, "the request has no inputs");
        var inputs = body.Inputs.Select(OipTensorCodec.Decode).ToArray();
        var outputs = body.Outputs?.Select(o => o.Name is { Length: > 0 } n ? n : throw new TensorRequestException("every requested output needs a name")).ToArray();
        var request = new InferenceRequest(inputs, outputs, OipTensorCodec.Parameters(body.Parameters));
        IReadOnlyList<InferenceTensor> result;
        try
        {
            result = await batcher.InferAsync(request, ctx.RequestAborted).ConfigureAwait(false);
        }
        catch (TensorQueueFullException e)
        {
            ctx.Response.Headers.RetryAfter = "1";
            throw new OipException(503, e.Message);
        }
        var response = new OipInferResponse
        {
            ModelName = batcher.Model.Name,
            Id = body.Id,
            Outputs = result.Select(t => new OipOutputTensor { Name = t.Name, Datatype = t.DataType.ToProtocolName(), Shape = t.Shape.Select(d => (long)d).ToList(), Data = t }).ToList(),
        };
        await WriteAsync(ctx, 200, response, OipJsonContext.Default.OipInferResponse).ConfigureAwait(false);
    }

    // Protocol errors as {"error": "..."}; a model failure is a 500 with its message.
    private static async Task Guard(HttpContext ctx, Func<Task> handler)
    {
        try
        {
            await handler().ConfigureAwait(false);
        }
        catch (OipException e) when (!ctx.Response.HasStarted)
        {
            await WriteAsync(ctx, e.Status, new OipError { Error = e.Message }, OipJsonContext.Default.OipError).ConfigureAwait(false);
        }
        catch (TensorRequestException e) when (!ctx.Response.HasStarted)
        {
            await WriteAsync(ctx, 400, new OipError { Error = e.Message }, OipJsonContext.Default.OipError).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // the client went away
        }
#pragma warning disable CA1031 // the model failed: answer 500 in the protocol's format
        catch (Exception e) when (!ctx.Response.HasStarted)
#pragma warning restore CA1031
        {
            await WriteAsync(ctx, 500, new OipError { Error = "inference failed: " + e.Message }, OipJsonContext.Default.OipError).ConfigureAwait(false);
        }
    }

    internal static async Task WriteAsync<T>(HttpContext ctx, int status, T value, JsonTypeInfo<T> info)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(ctx.Response.Body, value, info, ctx.RequestAborted).ConfigureAwait(false);
    }

    private sealed class OipException(int status, string message) : Exception(message)
    {
        public int Status { get; } = status;
    }
}
