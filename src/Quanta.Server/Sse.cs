using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Quanta.Server;

/// <summary>Server-sent events as OpenAI streams them: "data: {json}\n\n" per event, "data: [DONE]\n\n" last.</summary>
internal static class Sse
{
    private static readonly byte[] Prefix = "data: "u8.ToArray();
    private static readonly byte[] Suffix = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public static void Start(HttpResponse response)
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    public static async Task WriteAsync<T>(HttpResponse response, T value, JsonTypeInfo<T> info, CancellationToken ct)
    {
        await response.Body.WriteAsync(Prefix, ct).ConfigureAwait(false);
        await JsonSerializer.SerializeAsync(response.Body, value, info, ct).ConfigureAwait(false);
        await response.Body.WriteAsync(Suffix, ct).ConfigureAwait(false);
        await response.Body.FlushAsync(ct).ConfigureAwait(false);
    }

    public static async Task DoneAsync(HttpResponse response, CancellationToken ct)
    {
        await response.Body.WriteAsync(Done, ct).ConfigureAwait(false);
        await response.Body.FlushAsync(ct).ConfigureAwait(false);
    }
}
