namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Reshape: 0 copies the input dimension (unless allowzero), -1 is inferred. Copies the data.</summary>
internal sealed class Reshape(GraphNode node) : GraphOperator(node)
{
    public int[] Target(int[] input, long[] spec)
    {
        bool allowZero = Node.Int("allowzero", 0) != 0;
        var r = new int[spec.Length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < spec.Length; i++)
        {
            long d = spec[i];
            if (d == -1) { if (infer >= 0) throw new GraphException($"{Node.Describe}: more than one -1 in shape"); infer = i; continue; }
            if (d == 0 && !allowZero)
            {
                if (i >= input.Length) throw new GraphException($"{Node.Describe}: 0 at position {i} but input rank is {input.Length}");
                d = input[i];
            }
            if (d < 0 || d > int.MaxValue) throw new GraphException($"{Node.Describe}: invalid dimension {d}");
            r[i] = (int)d;
            known *= d;
        }
        int total = GraphTensor.SizeOf(input);
        if (infer >= 0)
        {
            if (known == 0 || total % known != 0) throw new GraphException($"{Node.Describe}: cannot reshape [{string.Join(", ", input)}] to [{string.Join(", ", spec)}]");
            r[infer] = (int)(total / known);
        }
        if (GraphTensor.SizeOf(r) != total) throw new GraphException($"{Node.Describe}: cannot reshape [{string.Join(", ", input)}] to [{string.Join(", ", spec)}]");
        return r;
    }

    public override int[]?[] InferShapes(ShapeContext ctx) =>
        ctx.Shape(0) is { } x && ctx.Constant(1) is { } s ? [Target(x, Broadcast.ToLongs(s))] : [null];

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        Broadcast.Copy(x, ctx.Output(0, x.Type, Target(x.Shape, Broadcast.ToLongs(ctx.Input(1)))));
    }
}
