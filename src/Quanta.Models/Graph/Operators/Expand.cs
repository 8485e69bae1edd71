namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Expand: broadcast the input to (the broadcast of) the given shape.</summary>
internal sealed class Expand(GraphNode node) : GraphOperator(node)
{
    public override int[]?[] InferShapes(ShapeContext ctx) =>
        ctx.Shape(0) is { } x && ctx.Constant(1) is { } s ? [Broadcast.Shape(Node, x, Broadcast.ToInts(Node, Broadcast.ToLongs(s)))] : [null];

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var shape = Broadcast.Shape(Node, x.Shape, Broadcast.ToInts(Node, Broadcast.ToLongs(ctx.Input(1))));
        var y = ctx.Output(0, x.Type, shape);
        if (y.Length == 0) return;
        var sx = Broadcast.Strides(x.Shape, shape);
        if (shape.Length == 0) { Broadcast.Copy(x, y); return; }
        Broadcast.ForEachRow(shape, sx, new int[shape.Length], (o, oa, _, n, ia, _) =>
        {
            for (int i = 0; i < n; i++) Broadcast.CopyElement(x, oa + i * ia, y, o + i);
        });
    }
}
