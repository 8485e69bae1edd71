using System.Text.Json;
using System.Text.Json.Serialization;
using Quanta.Engine.Tensor;

namespace Quanta.Server.Oip;

/// <summary>POST /v2/models/{name}/infer body (Open Inference Protocol v2, JSON).</summary>
public sealed class OipInferRequest
{
    /// <summary>Request id, echoed.</summary>
    public string? Id { get; set; }

    /// <summary>Request parameters (integer ones reach the model, e.g. "dimensions").</summary>
    public Dictionary<string, JsonElement>? Parameters { get; set; }

    /// <summary>Input tensors.</summary>
    public List<OipInputTensor>? Inputs { get; set; }

    /// <summary>Outputs wanted (all when absent).</summary>
    public List<OipRequestedOutput>? Outputs { get; set; }
}

/// <summary>One input tensor: data is a flat or nested row-major JSON array (BYTES as strings, BOOL as true/false).</summary>
public sealed class OipInputTensor
{
    /// <summary>Input name.</summary>
    public string? Name { get; set; }

    /// <summary>Dimensions.</summary>
    public List<long>? Shape { get; set; }

    /// <summary>BOOL, UINT8 … INT64, FP32, FP64, BYTES.</summary>
    public string? Datatype { get; set; }

    /// <summary>Tensor parameters (ignored).</summary>
    public Dictionary<string, JsonElement>? Parameters { get; set; }

    /// <summary>The elements.</summary>
    public JsonElement Data { get; set; }
}

/// <summary>A requested output.</summary>
public sealed class OipRequestedOutput
{
    /// <summary>Output name.</summary>
    public string? Name { get; set; }

    /// <summary>Output parameters (ignored).</summary>
    public Dictionary<string, JsonElement>? Parameters { get; set; }
}

/// <summary>Infer answer.</summary>
public sealed class OipInferResponse
{
    /// <summary>The model.</summary>
    public string ModelName { get; set; } = "";

    /// <summary>Model version ("1").</summary>
    public string ModelVersion { get; set; } = "1";

    /// <summary>The request's id (absent when it had none).</summary>
    public string? Id { get; set; }

    /// <summary>Output tensors.</summary>
    public List<OipOutputTensor> Outputs { get; set; } = [];
}

/// <summary>One output tensor.</summary>
public sealed class OipOutputTensor
{
    /// <summary>Output name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Datatype.</summary>
    public string Datatype { get; set; } = "";

    /// <summary>Dimensions.</summary>
    public List<long> Shape { get; set; } = [];

    /// <summary>Flat row-major elements.</summary>
    [JsonConverter(typeof(OipTensorDataConverter))]
    public InferenceTensor? Data { get; set; }
}

/// <summary>GET /v2/models/{name}.</summary>
public sealed class OipModelMetadata
{
    /// <summary>Model name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Versions (["1"]).</summary>
    public List<string> Versions { get; set; } = ["1"];

    /// <summary>Platform.</summary>
    public string Platform { get; set; } = "";

    /// <summary>Inputs.</summary>
    public List<OipTensorMetadata> Inputs { get; set; } = [];

    /// <summary>Outputs.</summary>
    public List<OipTensorMetadata> Outputs { get; set; } = [];
}

/// <summary>Name, datatype and shape (-1 for dynamic dimensions) of an input or output.</summary>
public sealed class OipTensorMetadata
{
    /// <summary>Name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Datatype.</summary>
    public string Datatype { get; set; } = "";

    /// <summary>Shape.</summary>
    public List<long> Shape { get; set; } = [];
}

/// <summary>GET /v2: server metadata.</summary>
public sealed class OipServerMetadata
{
    /// <summary>"quanta".</summary>
    public string Name { get; set; } = "quanta";

    /// <summary>Server version.</summary>
    public string Version { get; set; } = "1";

    /// <summary>Protocol extensions supported: the binary tensor data extension (requests only).</summary>
    public List<string> Extensions { get; set; } = ["binary_tensor_data"];
}

/// <summary>Health answers: {"live": true} or {"ready": b}; model readiness adds the name.</summary>
public sealed class OipStatus
{
    /// <summary>Model name (model readiness only).</summary>
    public string? Name { get; set; }

    /// <summary>Liveness (health/live only).</summary>
    public bool? Live { get; set; }

    /// <summary>Readiness.</summary>
    public bool? Ready { get; set; }
}

/// <summary>The protocol's error body {"error": "..."}.</summary>
public sealed class OipError
{
    /// <summary>What went wrong.</summary>
    public string Error { get; set; } = "";
}

/// <summary>Writes an <see cref="InferenceTensor"/>'s elements as a flat JSON array (reading is done by <see cref="OipTensorCodec"/>).</summary>
public sealed class OipTensorDataConverter : JsonConverter<InferenceTensor>
{
    /// <inheritdoc/>
    public override InferenceTensor Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("output tensors are only written");

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, InferenceTensor value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartArray();
        switch (value.DataType)
        {
            case TensorDataType.Fp32:
                foreach (float f in value.Floats!)
                    if (float.IsFinite(f)) writer.WriteNumberValue(f); else writer.WriteStringValue(f.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
            case TensorDataType.Fp64:
                foreach (double d in value.Doubles!)
                    if (double.IsFinite(d)) writer.WriteNumberValue(d); else writer.WriteStringValue(d.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
            case TensorDataType.Bytes:
                foreach (byte[] b in value.Bytes!) writer.WriteStringValue(System.Text.Encoding.UTF8.GetString(b));
                break;
            case TensorDataType.Bool:
                foreach (long v in value.Longs!) writer.WriteBooleanValue(v != 0);
                break;
            default:
                foreach (long v in value.Longs!) writer.WriteNumberValue(v);
                break;
        }
        writer.WriteEndArray();
    }
}
