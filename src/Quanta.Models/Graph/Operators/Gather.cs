namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Gather: output shape = data[:axis] + indices + data[axis+1:]; negative indices count from the end.</summary>
internal sealed class Gather(GraphNode node) : GraphOperator(node)
{
    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        if (ctx.Shape(0) is not { } d || ctx.Shape(1) is not { } i) return [null];
        int axis = Broadcast.Axis(Node, Node.Int("axis", 0), d.Length);
        return [[.. d[..axis], .. i, .. d[(axis + 1)..]]];
    }

    public override void Run(OpContext ctx)
    {
        var data = ctx.Input(0);
        var idx = Broadcast.ToLongs(ctx.Input(1));
        int axis = Broadcast.Axis(Node, Node.Int("axis", 0), data.Rank);
        int[] shape = [.. data.Shape[..axis], .. ctx.Input(1).Shape, .. data.Shape[(axis + 1)..]];
        var y = ctx.Output(0, data.Type, shape);
        int outer = GraphTensor.SizeOf(data.Shape.AsSpan(0, axis)), inner = GraphTensor.SizeOf(data.Shape.AsSpan(axis + 1));
        int dim = data.Shape[axis];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < idx.Length; j++)
            {
                long k = idx[j] < 0 ? idx[j] + dim : idx[j];
                if (k < 0 || k >= dim) throw new GraphException($"{Node.Describe}: index {idx[j]} out of range for dimension {dim}");
                Broadcast.CopyRange(data, (o * dim + (int)k) * inner, y, (o * idx.Length + j) * inner, inner);
            }
    }
}
