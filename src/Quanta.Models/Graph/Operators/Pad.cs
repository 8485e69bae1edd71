namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Pad: constant, reflect, edge and wrap modes; pads from input 1 (opset 11+) or the attribute; optional axes.</summary>
internal sealed class Pad(GraphNode node) : GraphOperator(node)
{
    private long[] FullPads(int rank, long[] pads, long[]? axes)
    {
        var full = new long[2 * rank];
        int n = axes?.Length ?? rank;
        if (pads.Length != 2 * n) throw new GraphException($"{Node.Describe}: {pads.Length} pads for {n} axes");
        for (int i = 0; i < n; i++)
        {
            int ax = axes is null ? i : Broadcast.Axis(Node, axes[i], rank);
            full[ax] = pads[i];
            full[ax + rank] = pads[i + n];
        }
        return full;
    }

    private static int[] Target(int[] x, long[] p)
    {
        var r = new int[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = (int)(x[i] + p[i] + p[i + x.Length]);
        return r;
    }

    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        if (ctx.Shape(0) is not { } x) return [null];
        long[]? pads = ctx.Shapes.Length > 1 ? (ctx.Constant(1) is { } c ? Broadcast.ToLongs(c) : null) : Node.Ints("pads");
        if (pads is null) return [null];
        long[]? axes = null;
        if (ctx.Shapes.Length > 3 && ctx.Shapes[3] is not null) { if (ctx.Constant(3) is not { } a) return [null]; axes = Broadcast.ToLongs(a); }
        return [Target(x, FullPads(x.Length, pads, axes))];
    }

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        int rank = x.Rank;
        var pads = ctx.Optional(1) is { } pt ? Broadcast.ToLongs(pt) : Node.Ints("pads") ?? throw new GraphException($"{Node.Describe}: no pads");
        var axes = ctx.Optional(3) is { } at ? Broadcast.ToLongs(at) : null;
        var p = FullPads(rank, pads, axes);
        string mode = Node.Str("mode", "constant");
        var shape = Target(x.Shape, p);
        var y = ctx.Output(0, x.Type, shape);
        var cv = ctx.Optional(2);
        var ys = Broadcast.Contiguous(shape);
        var xs = Broadcast.Contiguous(x.Shape);
        for (int o = 0; o < y.Length; o++)
        {
            int rem = o, src = 0;
            bool outside = false;
            for (int d = 0; d < rank; d++)
            {
                int i = rem / ys[d];
                rem -= i * ys[d];
                long s = i - p[d];
                int dim = x.Shape[d];
                if (s < 0 || s >= dim)
                {
                    if (mode == "constant" || dim == 0) { outside = true; break; }
                    if (mode == "edge") s = Math.Clamp(s, 0, dim - 1);
                    else if (mode == "wrap") s = ((s % dim) + dim) % dim;
                    else if (mode == "reflect")
                    {
                        if (dim == 1) s = 0;
                        else
                        {
                            long period = 2L * (dim - 1);
                            s = ((s % period) + period) % period;
                            if (s >= dim) s = period - s;
                        }
                    }
                    else throw Node.Unsupported($"mode '{mode}'");
                }
                src += (int)s * xs[d];
            }
            if (!outside) Broadcast.CopyElement(x, src, y, o);
            else if (cv is not null && cv.Length > 0) Broadcast.CopyElement(cv, 0, y, o);
            else if (y.Type == TensorElementType.Float32) y.F![o] = 0;
            else if (y.Type == TensorElementType.Int64) y.L![o] = 0;
            else y.B![o] = false;
        }
    }
}
