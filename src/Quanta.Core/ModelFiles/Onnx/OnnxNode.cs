namespace Quanta.Core.ModelFiles.Onnx;

/// <summary>A parsed ONNX NodeProto: one operator application. Empty input names mark omitted optional inputs.</summary>
public sealed class OnnxNode
{
    /// <summary>Node name (may be empty).</summary>
    public string Name { get; init; } = "";
    /// <summary>Operator type, e.g. "Conv".</summary>
    public string OpType { get; init; } = "";
    /// <summary>Operator domain; empty means the default ONNX domain.</summary>
    public string Domain { get; init; } = "";
    /// <summary>Input value names in order.</summary>
    public IReadOnlyList<string> Inputs { get; init; } = [];
    /// <summary>Output value names in order.</summary>
    public IReadOnlyList<string> Outputs { get; init; } = [];
    /// <summary>Attributes.</summary>
    public IReadOnlyList<OnnxAttribute> Attributes { get; init; } = [];

    /// <summary>The attribute called <paramref name="name"/>, or null.</summary>
    public OnnxAttribute? Attribute(string name)
    {
        foreach (var a in Attributes) if (a.Name == name) return a;
        return null;
    }
}
