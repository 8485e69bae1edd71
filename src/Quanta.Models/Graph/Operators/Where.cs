namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Where: y = condition ? x : y with three-way broadcasting.</summary>
internal sealed class Where(GraphNode node) : GraphOperator(node)
{
    public override int[]?[] InferShapes(ShapeContext ctx) =>
        ctx.Shape(0) is { } c && ctx.Shape(1) is { } a && ctx.Shape(2) is { } b ? [Broadcast.Shape(Node, c, a, b)] : [null];

    public override void Run(OpContext ctx)
    {
        var c = ctx.Input(0); var a = ctx.Input(1); var b = ctx.Input(2);
        var shape = Broadcast.Shape(Node, c.Shape, a.Shape, b.Shape);
        var y = ctx.Output(0, a.Type, shape);
        var sc = Broadcast.Strides(c.Shape, shape); var sa = Broadcast.Strides(a.Shape, shape); var sb = Broadcast.Strides(b.Shape, shape);
        var st = Broadcast.Contiguous(shape);
        var cb = c.Bools;
        for (int o = 0; o < y.Length; o++)
        {
            int rem = o, oc = 0, oa = 0, ob = 0;
            for (int d = 0; d < shape.Length; d++)
            {
                int i = rem / st[d];
                rem -= i * st[d];
                oc += i * sc[d]; oa += i * sa[d]; ob += i * sb[d];
            }
            if (cb[oc]) Broadcast.CopyElement(a, oa, y, o);
            else Broadcast.CopyElement(b, ob, y, o);
        }
    }
}
