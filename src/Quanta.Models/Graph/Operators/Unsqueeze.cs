namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Unsqueeze: axes from input 1 (opset 13+) or the axes attribute.</summary>
internal sealed class Unsqueeze(GraphNode node) : GraphOperator(node)
{
    private int[] Target(int[] x, long[] axes)
    {
        int rank = x.Length + axes.Length;
        var mark = new bool[rank];
        foreach (long a in axes)
        {
            int ax = Broadcast.Axis(Node, a, rank);
            if (mark[ax]) throw new GraphException($"{Node.Describe}: duplicate axis {a}");
            mark[ax] = true;
        }
        var r = new int[rank];
        int j = 0;
        for (int i = 0; i < rank; i++) r[i] = mark[i] ? 1 : x[j++];
        return r;
    }

    private long[]? Axes(GraphTensor? input) => input is { } t ? Broadcast.ToLongs(t) : Node.Ints("axes");

    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        var axes = ctx.Shapes.Length > 1 ? (ctx.Constant(1) is { } c ? Broadcast.ToLongs(c) : null) : Node.Ints("axes");
        return ctx.Shape(0) is { } x && axes is not null ? [Target(x, axes)] : [null];
    }

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var axes = Axes(ctx.Optional(1)) ?? throw new GraphException($"{Node.Describe}: no axes");
        Broadcast.Copy(x, ctx.Output(0, x.Type, Target(x.Shape, axes)));
    }
}
