using System.Text.Json;
using System.Text.Json.Serialization;

namespace Quanta.Server.Oip;

/// <summary>POST /v1/embeddings body (OpenAI).</summary>
public sealed class EmbeddingsRequest
{
    /// <summary>A string, an array of strings, an array of token ids, or an array of token-id arrays.</summary>
    public JsonElement Input { get; set; }

    /// <summary>Model id.</summary>
    public string? Model { get; set; }

    /// <summary>"float" (default) or "base64" (little-endian float32 bytes).</summary>
    public string? EncodingFormat { get; set; }

    /// <summary>Keep this many leading components (renormalized).</summary>
    public int? Dimensions { get; set; }

    /// <summary>End-user id (not used).</summary>
    public string? User { get; set; }
}

/// <summary>POST /v1/embeddings answer.</summary>
public sealed class EmbeddingsResponse
{
    /// <summary>"list".</summary>
    public string Object { get; set; } = "list";

    /// <summary>One embedding per input, in input order.</summary>
    public List<EmbeddingItem> Data { get; set; } = [];

    /// <summary>Model id.</summary>
    public string Model { get; set; } = "";

    /// <summary>Token counts.</summary>
    public EmbeddingsUsage Usage { get; set; } = new();
}

/// <summary>One embedding.</summary>
public sealed class EmbeddingItem
{
    /// <summary>"embedding".</summary>
    public string Object { get; set; } = "embedding";

    /// <summary>Input position.</summary>
    public int Index { get; set; }

    /// <summary>The vector (float array or base64 string).</summary>
    [JsonConverter(typeof(EmbeddingVectorConverter))]
    public EmbeddingVector Embedding { get; set; } = new([], false);
}

/// <summary>usage of /v1/embeddings.</summary>
public sealed class EmbeddingsUsage
{
    /// <summary>Tokens fed to the model ([CLS]/[SEP] included).</summary>
    public int PromptTokens { get; set; }

    /// <summary>Same as prompt_tokens.</summary>
    public int TotalTokens { get; set; }
}

/// <summary>An embedding written as a JSON float array, or as base64 of its little-endian float32 bytes.</summary>
public sealed record EmbeddingVector(float[] Values, bool Base64);

/// <summary>Writes <see cref="EmbeddingVector"/>.</summary>
public sealed class EmbeddingVectorConverter : JsonConverter<EmbeddingVector>
{
    /// <inheritdoc/>
    public override EmbeddingVector Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("embeddings are only written");

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, EmbeddingVector value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        if (value.Base64)
        {
            var bytes = new byte[value.Values.Length * 4];
            for (int i = 0; i < value.Values.Length; i++)
                System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), value.Values[i]);
            writer.WriteBase64StringValue(bytes);
            return;
        }
        writer.WriteStartArray();
        foreach (float f in value.Values) writer.WriteNumberValue(f);
        writer.WriteEndArray();
    }
}
