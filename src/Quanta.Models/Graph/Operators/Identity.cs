namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Identity (and Dropout in inference: output 0 is the input, the optional mask is all true).</summary>
internal sealed class Identity(GraphNode node) : GraphOperator(node)
{
    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        var r = new int[]?[Node.Outputs.Length];
        for (int i = 0; i < r.Length; i++) r[i] = ctx.Shape(0);
        return r;
    }

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        if (Node.OpType == "Dropout" && ctx.Optional(2) is { } training && training.Bools[0])
            throw Node.Unsupported("training mode");
        Broadcast.Copy(x, ctx.Output(0, x.Type, x.Shape));
        if (ctx.Wants(1)) ctx.Output(1, TensorElementType.Bool, x.Shape).Bools.Fill(true);
    }
}
