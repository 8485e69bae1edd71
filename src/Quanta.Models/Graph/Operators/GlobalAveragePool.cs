namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX GlobalAveragePool (and GlobalMaxPool): [N, C, spatial...] to [N, C, 1, ...].</summary>
internal sealed class GlobalAveragePool(GraphNode node) : GraphOperator(node)
{
    public override int[]?[] InferShapes(ShapeContext ctx) =>
        ctx.Shape(0) is { Length: >= 2 } x ? [x.Select((d, i) => i < 2 ? d : 1).ToArray()] : [null];

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        if (x.Rank < 2) throw new GraphException($"{Node.Describe}: input rank {x.Rank}");
        var y = ctx.OutputF(0, x.Shape.Select((d, i) => i < 2 ? d : 1).ToArray());
        int plane = GraphTensor.SizeOf(x.Shape.AsSpan(2));
        bool max = Node.OpType == "GlobalMaxPool";
        var fx = x.F!; var fy = y.F!;
        for (int p = 0; p < y.Length; p++)
        {
            double s = max ? double.NegativeInfinity : 0;
            for (int i = 0; i < plane; i++) s = max ? Math.Max(s, fx[p * plane + i]) : s + fx[p * plane + i];
            fy[p] = (float)(max ? s : s / plane);
        }
    }
}
