namespace Quanta.Core.ModelFiles.Onnx;

/// <summary>One dimension of a tensor type: a fixed size, a symbolic name (e.g. "batch"), or unknown (both null).</summary>
public readonly record struct OnnxDim(long? Value, string? Param);

/// <summary>
/// A parsed ONNX ValueInfoProto for a tensor-typed value: name, element type and shape.
/// <see cref="Shape"/> is null when the type has no shape (rank unknown).
/// Non-tensor types (sequences, maps, optionals) parse with <see cref="IsTensor"/> false.
/// </summary>
public sealed class OnnxValueInfo
{
    /// <summary>Value name.</summary>
    public string Name { get; init; } = "";
    /// <summary>Element type (Undefined when not given).</summary>
    public OnnxDataType ElementType { get; init; }
    /// <summary>Dimensions, or null for unknown rank.</summary>
    public IReadOnlyList<OnnxDim>? Shape { get; init; }
    /// <summary>False for sequence/map/optional types.</summary>
    public bool IsTensor { get; init; } = true;
}
