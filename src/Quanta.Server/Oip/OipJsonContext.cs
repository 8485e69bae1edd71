using System.Text.Json.Serialization;

namespace Quanta.Server.Oip;

/// <summary>Source-generated JSON for the Open Inference Protocol and /v1/embeddings types (snake_case, nulls left out).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(OipInferRequest))]
[JsonSerializable(typeof(OipInferResponse))]
[JsonSerializable(typeof(OipModelMetadata))]
[JsonSerializable(typeof(OipServerMetadata))]
[JsonSerializable(typeof(OipStatus))]
[JsonSerializable(typeof(OipError))]
[JsonSerializable(typeof(EmbeddingsRequest))]
[JsonSerializable(typeof(EmbeddingsResponse))]
public sealed partial class OipJsonContext : JsonSerializerContext
{
}
