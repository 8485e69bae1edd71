namespace Quanta.Core.ModelFiles.Onnx;

/// <summary>
/// A parsed ONNX GraphProto: nodes (in file order, which ONNX requires to be topological but readers
/// must not trust), initializers (constant tensors), graph inputs/outputs and intermediate value infos.
/// </summary>
public sealed class OnnxGraph
{
    /// <summary>Graph name.</summary>
    public string Name { get; init; } = "";
    /// <summary>Nodes in file order.</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; init; } = [];
    /// <summary>Initializers (weights and constants).</summary>
    public IReadOnlyList<OnnxTensor> Initializers { get; init; } = [];
    /// <summary>Graph inputs (may also list initializers, as older IR versions do).</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; init; } = [];
    /// <summary>Graph outputs.</summary>
    public IReadOnlyList<OnnxValueInfo> Outputs { get; init; } = [];
    /// <summary>Type and shape information for intermediate values.</summary>
    public IReadOnlyList<OnnxValueInfo> ValueInfos { get; init; } = [];
}
