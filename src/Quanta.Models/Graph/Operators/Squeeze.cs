namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Squeeze: removes the given size-1 axes (input 1 or attribute), or all size-1 axes.</summary>
internal sealed class Squeeze(GraphNode node) : GraphOperator(node)
{
    private int[] Target(int[] x, long[]? axes)
    {
        var drop = new bool[x.Length];
        if (axes is null) for (int i = 0; i < x.Length; i++) drop[i] = x[i] == 1;
        else
            foreach (long a in axes)
            {
                int ax = Broadcast.Axis(Node, a, x.Length);
                if (x[ax] != 1) throw new GraphException($"{Node.Describe}: axis {a} has size {x[ax]}, not 1");
                drop[ax] = true;
            }
        var r = new List<int>();
        for (int i = 0; i < x.Length; i++) if (!drop[i]) r.Add(x[i]);
        return r.ToArray();
    }

    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        if (ctx.Shape(0) is not { } x) return [null];
        if (ctx.Shapes.Length > 1 && ctx.Shapes[1] is not null) return ctx.Constant(1) is { } c ? [Target(x, Broadcast.ToLongs(c))] : [null];
        return [Target(x, Node.Ints("axes"))];
    }

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var axes = ctx.Optional(1) is { } t ? Broadcast.ToLongs(t) : Node.Ints("axes");
        Broadcast.Copy(x, ctx.Output(0, x.Type, Target(x.Shape, axes)));
    }
}
