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
/// POST /v2/models/{name}/infer (JSON, or JSON plus binary data under the binary tensor data extension: an
/// Inference-Header-Content-Length header gives the JSON's length, inputs with parameter binary_data_size take their
/// data from the bytes after it, in input order; outputs are always JSON), and POST /v2/models/{name}/image for models
/// with a BYTES input "image_bytes" (the body is one encoded image, or multipart/form-data whose file parts are the
/// images, in order; the answer is an infer response). Errors answer {"error": "..."}: 400 for a malformed or unfitting request, 404 for an
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
        app.MapPost("/v2/models/{name}/image", ctx => Guard(ctx, () => ImageAsync(ctx, registry, Name(ctx))));
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

    /// <summary>Header of the binary tensor data extension: the length of the JSON object that starts the body.</summary>
    public const string InferenceHeaderContentLength = "Inference-Header-Content-Length";

    private static async Task InferAsync(HttpContext ctx, ITensorModelRegistry registry, string name)
    {
        var batcher = Find(registry, name);
        OipInferRequest body;
        byte[]? binary = null;
        int binaryStart = 0;
        try
        {
            string header = ctx.Request.Headers[InferenceHeaderContentLength].ToString();
            if (header.Length == 0)
            {
                body = await JsonSerializer.DeserializeAsync(ctx.Request.Body, OipJsonContext.Default.OipInferRequest, ctx.RequestAborted).ConfigureAwait(false)
                    ?? throw new OipException(400, "the request body must be a JSON object");
            }
            else
            {
                // binary tensor data extension: the JSON object, then the inputs' binary data in input order
                binary = await ReadBodyAsync(ctx).ConfigureAwait(false);
                if (!int.TryParse(header, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out binaryStart) || binaryStart > binary.Length)
                    throw new OipException(400, $"{InferenceHeaderContentLength} must be the byte length of the JSON header (at most the body's {binary.Length} bytes), got '{header}'");
                body = JsonSerializer.Deserialize(binary.AsSpan(0, binaryStart), OipJsonContext.Default.OipInferRequest)
                    ?? throw new OipException(400, "the request header must be a JSON object");
            }
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
        var inputs = new InferenceTensor[body.Inputs.Count];
        int at = binaryStart;
        for (int i = 0; i < inputs.Length; i++)
        {
            var input = body.Inputs[i];
            if (OipTensorCodec.BinaryDataSize(input) is not long size)
            {
                inputs[i] = OipTensorCodec.Decode(input);
                continue;
            }
            if (binary is null) throw new OipException(400, $"input '{input.Name}' has {OipTensorCodec.BinaryDataSizeParameter} but the request has no {InferenceHeaderContentLength} header");
            if (size > binary.Length - at) throw new OipException(400, $"input '{input.Name}' claims {size} bytes of binary data, {binary.Length - at} remain");
            inputs[i] = OipTensorCodec.DecodeBinary(input, binary.AsSpan(at, (int)size));
            at += (int)size;
        }
        if (binary is not null && at != binary.Length) throw new OipException(400, $"{binary.Length - at} bytes of binary data follow the last input's");
        var outputs = body.Outputs?.Select(o => o.Name is { Length: > 0 } n ? n : throw new TensorRequestException("every requested output needs a name")).ToArray();
        await RunAsync(ctx, batcher, new InferenceRequest(inputs, outputs, OipTensorCodec.Parameters(body.Parameters)), body.Id).ConfigureAwait(false);
    }

    // The whole body (its size is bounded by the server's request-body limit).
    private static async Task<byte[]> ReadBodyAsync(HttpContext ctx)
    {
        using var ms = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(ms, ctx.RequestAborted).ConfigureAwait(false);
        return ms.ToArray();
    }

    // POST /v2/models/{name}/image: the body is one encoded image, or multipart/form-data whose files are the images.
    private static async Task ImageAsync(HttpContext ctx, ITensorModelRegistry registry, string name)
    {
        var batcher = Find(registry, name);
        const string input = "image_bytes";
        if (!batcher.Model.Inputs.Any(s => s.Name == input && s.DataType == TensorDataType.Bytes))
            throw new OipException(400, $"model '{name}' takes no encoded images (no BYTES input '{input}')");
        var images = new List<byte[]>();
        try
        {
            // multipart/form-data: the file parts; any other type (curl's --data-binary sends x-www-form-urlencoded) is the image itself
            if (ctx.Request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true)
            {
                var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted).ConfigureAwait(false);
                foreach (var file in form.Files)
                {
                    using var ms = new MemoryStream();
                    await file.CopyToAsync(ms, ctx.RequestAborted).ConfigureAwait(false);
                    images.Add(ms.ToArray());
                }
            }
            else images.Add(await ReadBodyAsync(ctx).ConfigureAwait(false));
        }
        catch (BadHttpRequestException e)
        {
            throw new OipException(e.StatusCode, e.Message);
        }
        catch (InvalidDataException e)
        {
            throw new OipException(400, "invalid multipart body: " + e.Message);
        }
        if (images.Count == 0) throw new OipException(400, "the multipart body has no file parts");
        if (batcher.Model.MaxBatchSize > 0 && images.Count > batcher.Model.MaxBatchSize)
            throw new OipException(400, $"{images.Count} images exceed the model's batch size of {batcher.Model.MaxBatchSize}");
        await RunAsync(ctx, batcher, new InferenceRequest([InferenceTensor.FromBytes(input, [images.Count], [.. images])]), null).ConfigureAwait(false);
    }

    private static async Task RunAsync(HttpContext ctx, DynamicBatcher batcher, InferenceRequest request, string? id)
    {
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
            Id = id,
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
