using Quanta.Core.ModelFiles.Onnx;

namespace Quanta.Models.Graph;

/// <summary>
/// A node of the executable graph: the ONNX node's identity plus the operator instance built from its
/// attributes. Fusion passes create nodes with internal op types (domain "quanta").
/// </summary>
internal sealed class GraphNode
{
    public GraphNode(string name, string opType, string domain, string[] inputs, string[] outputs, IReadOnlyList<OnnxAttribute> attributes)
    {
        Name = name;
        OpType = opType;
        Domain = domain;
        Inputs = inputs;
        Outputs = outputs;
        Attributes = attributes;
    }

    public string Name { get; }
    public string OpType { get; }
    public string Domain { get; }
    public string[] Inputs { get; }
    public string[] Outputs { get; }
    public IReadOnlyList<OnnxAttribute> Attributes { get; }
    public GraphOperator? Operator { get; set; }

    public string Describe => $"{OpType} node '{Name}'";

    public OnnxAttribute? Attr(string name)
    {
        foreach (var a in Attributes) if (a.Name == name) return a;
        return null;
    }

    public long Int(string name, long fallback) => Attr(name) is { } a ? a.I : fallback;
    public float Float(string name, float fallback) => Attr(name) is { } a ? a.F : fallback;
    public string Str(string name, string fallback) => Attr(name) is { } a ? a.StringValue : fallback;
    public long[]? Ints(string name) => Attr(name) is { } a ? a.Ints.ToArray() : null;
    public float[]? Floats(string name) => Attr(name) is { } a ? a.Floats.ToArray() : null;

    public GraphException Unsupported(string what) => new($"{Describe}: {what} is not supported");
}
