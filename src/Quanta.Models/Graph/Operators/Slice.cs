namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Slice (opset 10+: starts, ends, axes, steps inputs; opset 1: attributes), ends clamped per the spec.</summary>
internal sealed class Slice(GraphNode node) : GraphOperator(node)
{
    private (int[] Shape, int[] Start, int[] Step) Plan(int[] x, long[] starts, long[] ends, long[]? axes, long[]? steps)
    {
        int rank = x.Length;
        var start = new int[rank]; var step = new int[rank]; var shape = (int[])x.Clone();
        for (int i = 0; i < rank; i++) step[i] = 1;
        if (starts.Length != ends.Length) throw new GraphException($"{Node.Describe}: starts and ends differ in length");
        for (int i = 0; i < starts.Length; i++)
        {
            int ax = Broadcast.Axis(Node, axes is null ? i : axes[i], rank);
            long st = steps is null ? 1 : steps[i];
            if (st == 0) throw new GraphException($"{Node.Describe}: step 0");
            long dim = x[ax];
            long s = starts[i], e = ends[i];
            if (s < 0) s += dim;
            if (e < 0) e += dim;
            long count;
            if (st > 0)
            {
                s = Math.Clamp(s, 0, dim); e = Math.Clamp(e, 0, dim);
                count = e > s ? (e - s + st - 1) / st : 0;
            }
            else
            {
                s = Math.Clamp(s, 0, dim - 1); e = Math.Clamp(e, -1, dim - 1);
                count = s > e ? (s - e + (-st) - 1) / (-st) : 0;
            }
            start[ax] = (int)s; step[ax] = (int)Math.Clamp(st, int.MinValue, int.MaxValue); shape[ax] = (int)count;
        }
        return (shape, start, step);
    }

    private (long[], long[], long[]?, long[]?)? Args(Func<int, GraphTensor?> input, int count)
    {
        if (count <= 1)
        {
            var s = Node.Ints("starts"); var e = Node.Ints("ends");
            return s is null || e is null ? null : (s, e, Node.Ints("axes"), null);
        }
        if (input(1) is not { } st || input(2) is not { } en) return null;
        long[]? axes = count > 3 && Node.Inputs[3].Length > 0 ? (input(3) is { } a ? Broadcast.ToLongs(a) : throw new InvalidOperationException()) : null;
        long[]? steps = count > 4 && Node.Inputs[4].Length > 0 ? (input(4) is { } p ? Broadcast.ToLongs(p) : throw new InvalidOperationException()) : null;
        return (Broadcast.ToLongs(st), Broadcast.ToLongs(en), axes, steps);
    }

    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        if (ctx.Shape(0) is not { } x) return [null];
        try
        {
            return Args(ctx.Constant, ctx.Shapes.Length) is var (s, e, a, p) ? [Plan(x, s, e, a, p).Shape] : [null];
        }
        catch (InvalidOperationException)
        {
            return [null];
        }
    }

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var (s, e, a, p) = Args(ctx.Optional, ctx.InputCount) ?? throw new GraphException($"{Node.Describe}: missing starts/ends");
        var (shape, start, step) = Plan(x.Shape, s, e, a, p);
        var y = ctx.Output(0, x.Type, shape);
        if (y.Length == 0) return;
        int rank = shape.Length;
        if (rank == 0) { Broadcast.Copy(x, y); return; }
        var xs = Broadcast.Contiguous(x.Shape);
        var src = new int[rank];
        int baseOffset = 0;
        for (int d = 0; d < rank; d++) { src[d] = xs[d] * step[d]; baseOffset += start[d] * xs[d]; }
        Broadcast.ForEachRow(shape, src, new int[rank], (o, oa, _, n, ia, _) =>
        {
            for (int i = 0; i < n; i++) Broadcast.CopyElement(x, baseOffset + oa + i * ia, y, o + i);
        });
    }
}
