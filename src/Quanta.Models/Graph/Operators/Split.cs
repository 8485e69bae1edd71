namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Split: sizes from input 1 / the split attribute, else equal parts (num_outputs; last part smaller).</summary>
internal sealed class Split(GraphNode node) : GraphOperator(node)
{
    private int[] Sizes(int dim, long[]? split)
    {
        int n = Node.Outputs.Length;
        if (split is not null)
        {
            if (split.Length != n || split.Sum() != dim) throw new GraphException($"{Node.Describe}: split [{string.Join(", ", split)}] does not fit dimension {dim}");
            return split.Select(v => (int)v).ToArray();
        }
        int part = (dim + n - 1) / n;
        var r = new int[n];
        for (int i = 0; i < n; i++) r[i] = Math.Max(0, Math.Min(part, dim - i * part));
        return r;
    }

    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        var r = new int[]?[Node.Outputs.Length];
        if (ctx.Shape(0) is not { } x) return r;
        long[]? split = Node.Ints("split");
        if (ctx.Shapes.Length > 1 && ctx.Shapes[1] is not null) { if (ctx.Constant(1) is not { } s) return r; split = Broadcast.ToLongs(s); }
        int axis = Broadcast.Axis(Node, Node.Int("axis", 0), x.Length);
        var sizes = Sizes(x[axis], split);
        for (int i = 0; i < r.Length; i++) { var sh = (int[])x.Clone(); sh[axis] = sizes[i]; r[i] = sh; }
        return r;
    }

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        int axis = Broadcast.Axis(Node, Node.Int("axis", 0), x.Rank);
        var split = ctx.Optional(1) is { } s ? Broadcast.ToLongs(s) : Node.Ints("split");
        var sizes = Sizes(x.Shape[axis], split);
        int outer = GraphTensor.SizeOf(x.Shape.AsSpan(0, axis)), inner = GraphTensor.SizeOf(x.Shape.AsSpan(axis + 1));
        int at = 0;
        for (int k = 0; k < sizes.Length; k++)
        {
            var sh = (int[])x.Shape.Clone();
            sh[axis] = sizes[k];
            var y = ctx.Output(k, x.Type, sh);
            int row = sizes[k] * inner;
            for (int o = 0; o < outer; o++) Broadcast.CopyRange(x, o * x.Shape[axis] * inner + at, y, o * row, row);
            at += row;
        }
    }
}
