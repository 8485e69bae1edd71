using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Quanta.Server;

/// <summary>
/// Server-sent events as OpenAI streams them: "data: {json}\n\n" per event, "data: [DONE]\n\n" last. Events are
/// serialized synchronously straight into the response's pipe (<see cref="HttpResponse.BodyWriter"/>, no intermediate
/// stream or buffer) and sent by <see cref="FlushAsync"/>, so a writer that finds several events ready sends them in one
/// flush. One instance per streamed response; not thread-safe.
/// </summary>
internal sealed class Sse : IDisposable
{
    private static readonly byte[] Prefix = "data: "u8.ToArray();
    private static readonly byte[] Suffix = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    private readonly PipeWriter _pipe;
    private Utf8JsonWriter? _json;   // reused for every event of the response

    /// <summary>Sets the status and event-stream headers of <paramref name="response"/> (nothing is sent yet).</summary>
    public Sse(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        _pipe = response.BodyWriter;
    }

    /// <summary>Appends one event holding <paramref name="value"/> as JSON (sent by the next <see cref="FlushAsync"/>).</summary>
    public void Append<T>(T value, JsonTypeInfo<T> info)
    {
        _pipe.Write(Prefix);
        if (_json is null)
            _json = new Utf8JsonWriter(_pipe, new JsonWriterOptions { Encoder = info.Options.Encoder, Indented = info.Options.WriteIndented, SkipValidation = true });
        else _json.Reset(_pipe);
        JsonSerializer.Serialize(_json, value, info);
        _json.Flush();
        _pipe.Write(Suffix);
    }

    /// <summary>Appends the final "data: [DONE]" event.</summary>
    public void AppendDone() => _pipe.Write(Done);

    /// <summary>Sends what was appended; throws <see cref="OperationCanceledException"/> when <paramref name="ct"/> fires.</summary>
    public async ValueTask FlushAsync(CancellationToken ct)
    {
        FlushResult r = await _pipe.FlushAsync(ct).ConfigureAwait(false);
        if (r.IsCanceled) throw new OperationCanceledException(ct);
    }

    /// <summary>Releases the JSON writer (the response itself belongs to the server).</summary>
    public void Dispose() => _json?.Dispose();
}
