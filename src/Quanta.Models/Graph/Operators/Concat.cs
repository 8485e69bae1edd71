namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Concat along axis.</summary>
internal sealed class Concat(GraphNode node) : GraphOperator(node)
{
    private int[] Target(int[][] shapes)
    {
        var first = shapes[0];
        int axis = Broadcast.Axis(Node, Node.Int("axis", 0), first.Length);
        var r = (int[])first.Clone();
        r[axis] = 0;
        foreach (var s in shapes)
        {
            if (s.Length != first.Length) throw new GraphException($"{Node.Describe}: inputs have ranks {first.Length} and {s.Length}");
            for (int d = 0; d < s.Length; d++)
                if (d != axis && s[d] != first[d]) throw new GraphException($"{Node.Describe}: input shapes differ outside axis {axis}");
            r[axis] += s[axis];
        }
        return r;
    }

    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        var shapes = new int[ctx.Shapes.Length][];
        for (int i = 0; i < shapes.Length; i++) if ((shapes[i] = ctx.Shape(i)!) is null) return [null];
        return [Target(shapes)];
    }

    public override void Run(OpContext ctx)
    {
        var xs = new GraphTensor[ctx.InputCount];
        for (int i = 0; i < xs.Length; i++) xs[i] = ctx.Input(i);
        var shape = Target(xs.Select(x => x.Shape).ToArray());
        int axis = Broadcast.Axis(Node, Node.Int("axis", 0), shape.Length);
        var y = ctx.Output(0, xs[0].Type, shape);
        int outer = GraphTensor.SizeOf(shape.AsSpan(0, axis)), inner = GraphTensor.SizeOf(shape.AsSpan(axis + 1));
        int rowOut = shape[axis] * inner, at = 0;
        foreach (var x in xs)
        {
            if (x.Type != y.Type) throw new GraphException($"{Node.Describe}: input types differ");
            int row = x.Shape[axis] * inner;
            for (int o = 0; o < outer; o++) Broadcast.CopyRange(x, o * row, y, o * rowOut + at, row);
            at += row;
        }
    }
}
