namespace Quanta.Models.Graph.Operators;

/// <summary>
/// ONNX ReduceMean / ReduceSum / ReduceMax / ReduceMin: axes from input 1 (ReduceSum opset 13+, others 18+) or the
/// attribute; keepdims (default 1); noop_with_empty_axes. Float32 and Int64 (accumulated in double / long).
/// </summary>
internal sealed class Reduce(GraphNode node) : GraphOperator(node)
{
    private bool[]? Mask(int rank, long[]? axes)
    {
        var m = new bool[rank];
        if (axes is null || axes.Length == 0)
        {
            if (Node.Int("noop_with_empty_axes", 0) != 0) return null;
            Array.Fill(m, true);
        }
        else foreach (long a in axes) m[Broadcast.Axis(Node, a, rank)] = true;
        return m;
    }

    private int[] Target(int[] x, bool[]? mask)
    {
        if (mask is null) return x;
        bool keep = Node.Int("keepdims", 1) != 0;
        var r = new List<int>();
        for (int i = 0; i < x.Length; i++) if (!mask[i]) r.Add(x[i]); else if (keep) r.Add(1);
        return r.ToArray();
    }

    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        if (ctx.Shape(0) is not { } x) return [null];
        long[]? axes = Node.Ints("axes");
        if (ctx.Shapes.Length > 1 && ctx.Shapes[1] is not null) { if (ctx.Constant(1) is not { } c) return [null]; axes = Broadcast.ToLongs(c); }
        return [Target(x, Mask(x.Length, axes))];
    }

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var axes = ctx.Optional(1) is { } t ? Broadcast.ToLongs(t) : Node.Ints("axes");
        var mask = Mask(x.Rank, axes);
        var shape = Target(x.Shape, mask);
        var y = ctx.Output(0, x.Type, shape);
        if (mask is null) { Broadcast.Copy(x, y); return; }
        int rank = x.Rank;
        // Output strides over the input's index space (0 on reduced axes).
        var ycont = Broadcast.Contiguous(x.Shape.Select((d, i) => mask[i] ? 1 : d).ToArray());
        var so = new int[rank];
        for (int i = 0; i < rank; i++) so[i] = mask[i] ? 0 : ycont[i];
        var acc = new double[y.Length];
        var lacc = new long[y.Length];
        string op = Node.OpType;
        bool isMax = op == "ReduceMax", isMin = op == "ReduceMin";
        if (isMax) { Array.Fill(acc, double.NegativeInfinity); Array.Fill(lacc, long.MinValue); }
        if (isMin) { Array.Fill(acc, double.PositiveInfinity); Array.Fill(lacc, long.MaxValue); }
        int count = y.Length == 0 ? 0 : x.Length / Math.Max(y.Length, 1);
        if (x.Length > 0)
            Broadcast.ForEachRow(rank == 0 ? [1] : x.Shape, rank == 0 ? [0] : so, rank == 0 ? [1] : Broadcast.Contiguous(x.Shape), (_, oy, ox, n, iy, ix) =>
            {
                for (int i = 0; i < n; i++)
                {
                    int d = oy + i * iy;
                    if (x.Type == TensorElementType.Float32)
                    {
                        double v = x.F![ox + i * ix];
                        acc[d] = isMax ? Math.Max(acc[d], v) : isMin ? Math.Min(acc[d], v) : acc[d] + v;
                    }
                    else
                    {
                        long v = x.L![ox + i * ix];
                        lacc[d] = isMax ? Math.Max(lacc[d], v) : isMin ? Math.Min(lacc[d], v) : lacc[d] + v;
                    }
                }
            });
        bool mean = op == "ReduceMean";
        for (int i = 0; i < y.Length; i++)
        {
            if (x.Type == TensorElementType.Float32) y.F![i] = (float)(mean ? acc[i] / count : acc[i]);
            else y.L![i] = mean ? lacc[i] / count : lacc[i];
        }
    }
}
