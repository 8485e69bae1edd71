namespace Quanta.Core.ModelFiles.Onnx;

/// <summary>
/// A parsed ONNX AttributeProto. Exactly the fields for <see cref="Type"/> are meaningful; the others
/// keep their defaults (0, empty, null). Files without a type field get it inferred from the field present.
/// </summary>
public sealed class OnnxAttribute
{
    /// <summary>Attribute name, e.g. "kernel_shape".</summary>
    public string Name { get; init; } = "";
    /// <summary>Which value field is set.</summary>
    public OnnxAttributeType Type { get; init; }
    /// <summary>FLOAT value.</summary>
    public float F { get; init; }
    /// <summary>INT value.</summary>
    public long I { get; init; }
    /// <summary>STRING value as bytes.</summary>
    public byte[] S { get; init; } = [];
    /// <summary>TENSOR value.</summary>
    public OnnxTensor? T { get; init; }
    /// <summary>GRAPH value.</summary>
    public OnnxGraph? G { get; init; }
    /// <summary>FLOATS value.</summary>
    public IReadOnlyList<float> Floats { get; init; } = [];
    /// <summary>INTS value.</summary>
    public IReadOnlyList<long> Ints { get; init; } = [];
    /// <summary>STRINGS value.</summary>
    public IReadOnlyList<byte[]> Strings { get; init; } = [];
    /// <summary>TENSORS value.</summary>
    public IReadOnlyList<OnnxTensor> Tensors { get; init; } = [];
    /// <summary>GRAPHS value.</summary>
    public IReadOnlyList<OnnxGraph> Graphs { get; init; } = [];
    /// <summary>TYPE_PROTO(S) values, kept as tensor element types.</summary>
    public IReadOnlyList<OnnxDataType> TypeProtos { get; init; } = [];

    /// <summary>STRING value decoded as UTF-8 (invalid sequences replaced).</summary>
    public string StringValue => System.Text.Encoding.UTF8.GetString(S);
}
