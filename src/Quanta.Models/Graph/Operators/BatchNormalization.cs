namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX BatchNormalization in inference mode: Y = (X − mean)/√(var + ε)·scale + B over channel axis 1.</summary>
internal sealed class BatchNormalization(GraphNode node) : GraphOperator(node)
{
    public override int[]?[] InferShapes(ShapeContext ctx) => [ctx.Shape(0)];

    public override void Run(OpContext ctx)
    {
        if (Node.Int("training_mode", 0) != 0 || ctx.Wants(1)) throw Node.Unsupported("training mode");
        var x = ctx.Input(0);
        var scale = ctx.Input(1).Floats; var b = ctx.Input(2).Floats; var mean = ctx.Input(3).Floats; var var = ctx.Input(4).Floats;
        float eps = Node.Float("epsilon", 1e-5f);
        var y = ctx.OutputF(0, x.Shape);
        int n = x.Shape[0], c = x.Rank > 1 ? x.Shape[1] : 1, plane = GraphTensor.SizeOf(x.Shape.AsSpan(Math.Min(2, x.Rank)));
        var fx = x.F!; var fy = y.F!;
        for (int img = 0; img < n; img++)
            for (int ch = 0; ch < c; ch++)
            {
                float s = scale[ch] / MathF.Sqrt(var[ch] + eps), sh = b[ch] - mean[ch] * s;
                int o = (img * c + ch) * plane;
                for (int i = 0; i < plane; i++) fy[o + i] = fx[o + i] * s + sh;
            }
    }
}
