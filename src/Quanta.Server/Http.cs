using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Quanta.Server.Protocol;

namespace Quanta.Server;

/// <summary>Reading request bodies and writing JSON answers and OpenAI errors.</summary>
internal static class Http
{
    public static async Task<T> ReadJsonAsync<T>(HttpContext ctx, JsonTypeInfo<T> info) where T : class
    {
        if (ctx.Request.ContentLength is long len && len > (ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? long.MaxValue))
            throw TooLarge();
        try
        {
            return await JsonSerializer.DeserializeAsync(ctx.Request.Body, info, ctx.RequestAborted).ConfigureAwait(false)
                ?? throw new ApiException(400, "the request body must be a JSON object");
        }
        catch (JsonException e)
        {
            string? param = e.Path is { Length: > 2 } p ? p.TrimStart('$', '.') : null;
            throw new ApiException(400, "invalid JSON body" + (param is null ? "" : $" at '{param}'") + ": " + e.Message.Split(" Path:", 2)[0], "invalid_request_error", param, "invalid_json");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge();
        }
    }

    private static ApiException TooLarge() => new(413, "the request body is larger than this server accepts (--max-request-bytes)", "invalid_request_error", null, "request_too_large");

    public static async Task WriteJsonAsync<T>(HttpContext ctx, int status, T value, JsonTypeInfo<T> info)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(ctx.Response.Body, value, info, ctx.RequestAborted).ConfigureAwait(false);
    }

    public static Task WriteErrorAsync(HttpContext ctx, ApiException e)
    {
        // an unread oversized body leaves the connection unusable: tell the client not to reuse it
        if (e.Status == StatusCodes.Status413PayloadTooLarge) ctx.Response.Headers.Connection = "close";
        if (e.RetryAfterSeconds is int s) ctx.Response.Headers.RetryAfter = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var body = new ErrorResponse { Error = new ErrorBody { Message = e.Message, Type = e.Type, Param = e.Param, Code = e.Code } };
        return WriteJsonAsync(ctx, e.Status, body, ServerJsonContext.Default.ErrorResponse);
    }
}
