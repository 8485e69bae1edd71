namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Not over Bool.</summary>
internal sealed class Not(GraphNode node) : GraphOperator(node)
{
    public override int[]?[] InferShapes(ShapeContext ctx) => [ctx.Shape(0)];

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.Output(0, TensorElementType.Bool, x.Shape);
        var bx = x.Bools; var by = y.Bools;
        for (int i = 0; i < bx.Length; i++) by[i] = !bx[i];
    }
}
