using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Quanta.Engine.Tensor;

namespace Quanta.Server.Oip;

/// <summary>
/// POST /v1/embeddings (OpenAI) over an <see cref="EmbeddingTensorModel"/> of the registry, through its
/// <see cref="DynamicBatcher"/>: input is a string, an array of strings (sent as batches of at most the model's max
/// batch size), an array of token ids or an array of token-id arrays (one request each); encoding_format float or
/// base64; dimensions keeps that many leading components, renormalized. Errors answer OpenAI's error JSON (400, 404
/// model_not_found, 429 queue_full).
/// </summary>
public static class EmbeddingsEndpoint
{
    /// <summary>Most inputs per call (as OpenAI).</summary>
    public const int MaxInputs = 2048;

    /// <summary>Handles one request.</summary>
    public static async Task HandleAsync(HttpContext ctx, ITensorModelRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(registry);
        try
        {
            await HandleCoreAsync(ctx, registry).ConfigureAwait(false);
        }
        catch (ApiException e) when (!ctx.Response.HasStarted)
        {
            await Http.WriteErrorAsync(ctx, e).ConfigureAwait(false);
        }
        catch (TensorRequestException e) when (!ctx.Response.HasStarted)
        {
            await Http.WriteErrorAsync(ctx, new ApiException(400, e.Message, "invalid_request_error", "input", "invalid_value")).ConfigureAwait(false);
        }
    }

    private static async Task HandleCoreAsync(HttpContext ctx, ITensorModelRegistry registry)
    {
        EmbeddingsRequest body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(ctx.Request.Body, OipJsonContext.Default.EmbeddingsRequest, ctx.RequestAborted).ConfigureAwait(false)
                ?? throw new ApiException(400, "the request body must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new ApiException(400, "invalid JSON body: " + e.Message.Split(" Path:", 2)[0], "invalid_request_error", null, "invalid_json");
        }
        if (string.IsNullOrEmpty(body.Model)) throw ApiException.BadParam("model", "model is required");
        if (!registry.TryGet(body.Model, out var batcher))
            throw new ApiException(404, $"The model '{body.Model}' does not exist", "invalid_request_error", "model", "model_not_found");
        if (batcher.Model is not EmbeddingTensorModel model) throw ApiException.BadParam("model", $"'{body.Model}' is not an embedding model");
        bool base64 = body.EncodingFormat switch
        {
            null or "float" => false,
            "base64" => true,
            _ => throw ApiException.BadParam("encoding_format", "encoding_format must be 'float' or 'base64'"),
        };
        var parameters = new Dictionary<string, long>(StringComparer.Ordinal);
        if (body.Dimensions is int d)
        {
            if (d < 1 || d > model.Dimensions) throw ApiException.BadParam("dimensions", $"dimensions must be 1..{model.Dimensions}");
            parameters[EmbeddingTensorModel.DimensionsParameter] = d;
        }
        var requests = ParseInput(body.Input, model, parameters);
        var tasks = new List<Task<IReadOnlyList<InferenceTensor>>>(requests.Count);
        try
        {
            foreach (var r in requests) tasks.Add(batcher.InferAsync(r, ctx.RequestAborted));
        }
        catch (TensorQueueFullException e)
        {
            throw new ApiException(429, e.Message, "rate_limit_error", null, "queue_full") { RetryAfterSeconds = 1 };
        }
        var results = await Task.WhenAll(tasks).ConfigureAwait(false);
        var response = new EmbeddingsResponse { Model = model.Name };
        int tokens = 0;
        foreach (var r in results)
        {
            var e = r.Single(t => t.Name == EmbeddingTensorModel.EmbeddingOutput);
            var counts = r.Single(t => t.Name == EmbeddingTensorModel.TokenCountOutput).Longs!;
            int n = e.Shape[0], w = e.Shape[1];
            for (int i = 0; i < n; i++)
            {
                response.Data.Add(new EmbeddingItem { Index = response.Data.Count, Embedding = new EmbeddingVector(e.Floats.AsSpan(i * w, w).ToArray(), base64) });
                tokens += (int)counts[i];
            }
        }
        response.Usage = new EmbeddingsUsage { PromptTokens = tokens, TotalTokens = tokens };
        await OipEndpoints.WriteAsync(ctx, 200, response, OipJsonContext.Default.EmbeddingsResponse).ConfigureAwait(false);
    }

    private static List<InferenceRequest> ParseInput(JsonElement input, EmbeddingTensorModel model, Dictionary<string, long> parameters)
    {
        string[] outputs = [EmbeddingTensorModel.EmbeddingOutput, EmbeddingTensorModel.TokenCountOutput];
        InferenceRequest Texts(IReadOnlyList<string> texts) => new([InferenceTensor.FromStrings(EmbeddingTensorModel.TextInput, texts)], outputs, parameters);
        InferenceRequest Ids(long[] ids) => new([InferenceTensor.FromLongs(EmbeddingTensorModel.IdsInput, TensorDataType.Int64, [1, ids.Length], ids)], outputs, parameters);
        static ApiException Bad(string m) => ApiException.BadParam("input", m);
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                return [Texts([input.GetString()!.Length > 0 ? input.GetString()! : throw Bad("input must not be empty")])];
            case JsonValueKind.Array:
                int count = input.GetArrayLength();
                if (count == 0) throw Bad("input must not be an empty array");
                if (count > MaxInputs) throw Bad($"input has {count} items, at most {MaxInputs} are allowed");
                var first = input[0];
                if (first.ValueKind == JsonValueKind.String)
                {
                    var texts = new List<string>(count);
                    foreach (var x in input.EnumerateArray())
                        texts.Add(x.ValueKind == JsonValueKind.String && x.GetString()!.Length > 0 ? x.GetString()! : throw Bad("input must be non-empty strings"));
                    var chunks = new List<InferenceRequest>();
                    for (int i = 0; i < texts.Count; i += model.MaxBatchSize) chunks.Add(Texts(texts.GetRange(i, Math.Min(model.MaxBatchSize, texts.Count - i))));
                    return chunks;
                }
                if (first.ValueKind == JsonValueKind.Number) return [Ids(TokenArray(input))];
                if (first.ValueKind == JsonValueKind.Array) return input.EnumerateArray().Select(a => Ids(TokenArray(a))).ToList();
                throw Bad("input must be a string, an array of strings, an array of token ids or an array of token-id arrays");
            default:
                throw Bad("input is required: a string, an array of strings, an array of token ids or an array of token-id arrays");
        }
    }

    private static long[] TokenArray(JsonElement a)
    {
        if (a.ValueKind != JsonValueKind.Array || a.GetArrayLength() == 0) throw ApiException.BadParam("input", "token arrays must be non-empty arrays of integers");
        var ids = new long[a.GetArrayLength()];
        int i = 0;
        foreach (var x in a.EnumerateArray())
            ids[i++] = x.ValueKind == JsonValueKind.Number && x.TryGetInt64(out long v) ? v : throw ApiException.BadParam("input", "token arrays must hold integers");
        return ids;
    }
}
