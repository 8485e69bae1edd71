namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX ConstantOfShape: a tensor of the given shape filled with the one-element value attribute (default float 0).</summary>
internal sealed class ConstantOfShape : GraphOperator
{
    private readonly GraphTensor _value;

    public ConstantOfShape(GraphNode node) : base(node) =>
        _value = node.Attr("value") is { T: { } t } ? GraphTensor.FromOnnx(t) : GraphTensor.FromFloats([1], [0f]);

    public override int[]?[] InferShapes(ShapeContext ctx) =>
        ctx.Constant(0) is { } s ? [Broadcast.ToInts(Node, Broadcast.ToLongs(s))] : [null];

    public override void Run(OpContext ctx)
    {
        var shape = Broadcast.ToInts(Node, Broadcast.ToLongs(ctx.Input(0)));
        var y = ctx.Output(0, _value.Type, shape);
        for (int i = 0; i < y.Length; i++) Broadcast.CopyElement(_value, 0, y, i);
    }
}
