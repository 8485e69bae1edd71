namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Range: start, limit, delta scalars; count = max(ceil((limit - start) / delta), 0).</summary>
internal sealed class Range(GraphNode node) : GraphOperator(node)
{
    public override int[]?[] InferShapes(ShapeContext ctx) =>
        ctx.Constant(0) is { } s && ctx.Constant(1) is { } l && ctx.Constant(2) is { } d ? [[Count(s.Get(0), l.Get(0), d.Get(0))]] : [null];

    private int Count(double start, double limit, double delta)
    {
        double n = Math.Ceiling((limit - start) / delta);
        if (!(n < int.MaxValue)) throw new GraphException($"{Node.Describe}: range of {n} elements");
        return (int)Math.Max(n, 0);
    }

    public override void Run(OpContext ctx)
    {
        var s = ctx.Input(0); var l = ctx.Input(1); var d = ctx.Input(2);
        int n = Count(s.Get(0), l.Get(0), d.Get(0));
        var y = ctx.Output(0, s.Type, [n]);
        if (s.Type == TensorElementType.Float32)
        {
            float start = s.F![0], delta = d.F![0];
            for (int i = 0; i < n; i++) y.F![i] = start + i * delta;
        }
        else
        {
            long start = s.L![0], delta = d.L![0];
            for (int i = 0; i < n; i++) y.L![i] = start + i * delta;
        }
    }
}
