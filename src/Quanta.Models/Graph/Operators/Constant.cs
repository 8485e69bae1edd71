namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Constant: value (tensor) or value_float(s) / value_int(s).</summary>
internal sealed class Constant : GraphOperator
{
    private readonly GraphTensor _value;

    public Constant(GraphNode node) : base(node)
    {
        if (node.Attr("value") is { T: { } t }) _value = GraphTensor.FromOnnx(t);
        else if (node.Attr("value_float") is { } f) _value = GraphTensor.FromFloats([], [f.F]);
        else if (node.Attr("value_floats") is { } fs) _value = GraphTensor.FromFloats([fs.Floats.Count], fs.Floats.ToArray());
        else if (node.Attr("value_int") is { } i) _value = GraphTensor.FromLongs([], [i.I]);
        else if (node.Attr("value_ints") is { } il) _value = GraphTensor.FromLongs([il.Ints.Count], il.Ints.ToArray());
        else throw node.Unsupported("this Constant value attribute (sparse or string)");
    }

    public override int[]?[] InferShapes(ShapeContext ctx) => [_value.Shape];

    public override void Run(OpContext ctx) => Broadcast.Copy(_value, ctx.Output(0, _value.Type, _value.Shape));
}
