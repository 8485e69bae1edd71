namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Shape (with the opset-15 start/end slice).</summary>
internal sealed class Shape(GraphNode node) : GraphOperator(node)
{
    private (int, int) Range(int rank)
    {
        long s = Node.Int("start", 0), e = Node.Int("end", rank);
        if (s < 0) s += rank;
        if (e < 0) e += rank;
        s = Math.Clamp(s, 0, rank);
        e = Math.Clamp(e, s, rank);
        return ((int)s, (int)e);
    }

    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        if (ctx.Shape(0) is not { } x) return [null];
        var (s, e) = Range(x.Length);
        return [[e - s]];
    }

    /// <summary>The output value when the input shape is known (used to fold shape subgraphs).</summary>
    public GraphTensor Value(int[] shape)
    {
        var (s, e) = Range(shape.Length);
        var v = new long[e - s];
        for (int i = s; i < e; i++) v[i - s] = shape[i];
        return GraphTensor.FromLongs([e - s], v);
    }

    public override void Run(OpContext ctx)
    {
        var v = Value(ctx.Input(0).Shape);
        v.Longs.CopyTo(ctx.Output(0, TensorElementType.Int64, v.Shape).Longs);
    }
}
