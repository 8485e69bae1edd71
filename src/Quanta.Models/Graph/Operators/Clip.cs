namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Clip: bounds from inputs 1/2 (opset 11+) or min/max attributes (opset 6).</summary>
internal sealed class Clip(GraphNode node) : GraphOperator(node)
{
    public override int[]?[] InferShapes(ShapeContext ctx) => [ctx.Shape(0)];

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.Output(0, x.Type, x.Shape);
        if (x.Type == TensorElementType.Float32)
        {
            float lo = ctx.Optional(1) is { } a ? a.Floats[0] : Node.Float("min", float.NegativeInfinity);
            float hi = ctx.Optional(2) is { } b ? b.Floats[0] : Node.Float("max", float.PositiveInfinity);
            var fx = x.Floats; var fy = y.Floats;
            for (int i = 0; i < fx.Length; i++) fy[i] = Math.Min(Math.Max(fx[i], lo), hi);
        }
        else
        {
            long lo = ctx.Optional(1) is { } a ? a.Longs[0] : long.MinValue;
            long hi = ctx.Optional(2) is { } b ? b.Longs[0] : long.MaxValue;
            var lx = x.Longs; var ly = y.Longs;
            for (int i = 0; i < lx.Length; i++) ly[i] = Math.Min(Math.Max(lx[i], lo), hi);
        }
    }
}
