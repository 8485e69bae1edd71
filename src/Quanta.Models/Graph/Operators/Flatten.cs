namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Flatten: [d0..d(axis-1)] x [d(axis)..] as a 2-D tensor.</summary>
internal sealed class Flatten(GraphNode node) : GraphOperator(node)
{
    private int[] Target(int[] x)
    {
        long axis = Node.Int("axis", 1);
        if (axis < 0) axis += x.Length;
        if (axis < 0 || axis > x.Length) throw new GraphException($"{Node.Describe}: axis {axis} out of range for rank {x.Length}");
        int outer = GraphTensor.SizeOf(x.AsSpan(0, (int)axis)), inner = GraphTensor.SizeOf(x.AsSpan((int)axis));
        return [outer, inner];
    }

    public override int[]?[] InferShapes(ShapeContext ctx) => ctx.Shape(0) is { } x ? [Target(x)] : [null];

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        Broadcast.Copy(x, ctx.Output(0, x.Type, Target(x.Shape)));
    }
}
