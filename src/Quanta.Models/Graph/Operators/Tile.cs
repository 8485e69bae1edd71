namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Tile: repeats[i] copies along each axis.</summary>
internal sealed class Tile(GraphNode node) : GraphOperator(node)
{
    private int[] Target(int[] x, long[] reps)
    {
        if (reps.Length != x.Length) throw new GraphException($"{Node.Describe}: repeats length {reps.Length} for rank {x.Length}");
        var r = new int[x.Length];
        for (int i = 0; i < r.Length; i++)
        {
            long v = x[i] * reps[i];
            if (reps[i] < 0 || v > int.MaxValue) throw new GraphException($"{Node.Describe}: invalid repeat {reps[i]}");
            r[i] = (int)v;
        }
        return r;
    }

    public override int[]?[] InferShapes(ShapeContext ctx) =>
        ctx.Shape(0) is { } x && ctx.Constant(1) is { } r ? [Target(x, Broadcast.ToLongs(r))] : [null];

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var shape = Target(x.Shape, Broadcast.ToLongs(ctx.Input(1)));
        var y = ctx.Output(0, x.Type, shape);
        var xs = Broadcast.Contiguous(x.Shape);
        var ys = Broadcast.Contiguous(shape);
        for (int o = 0; o < y.Length; o++)
        {
            int rem = o, src = 0;
            for (int d = 0; d < shape.Length; d++)
            {
                int i = rem / ys[d];
                rem -= i * ys[d];
                src += i % x.Shape[d] * xs[d];
            }
            Broadcast.CopyElement(x, src, y, o);
        }
    }
}
