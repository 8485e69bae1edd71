namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Size: element count as an int64 scalar.</summary>
internal sealed class Size(GraphNode node) : GraphOperator(node)
{
    public override int[]?[] InferShapes(ShapeContext ctx) => [[]];

    public override void Run(OpContext ctx) => ctx.Output(0, TensorElementType.Int64, []).Longs[0] = ctx.Input(0).Length;
}
