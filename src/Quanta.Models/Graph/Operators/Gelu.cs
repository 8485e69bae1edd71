using Quanta.Core.Kernels.Onnx;

namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Gelu (opset 20; also the target of the erf-pattern fusion): approximate "none" (erf, vectorized <see cref="GeluKernel"/>) or "tanh".</summary>
internal sealed class Gelu(GraphNode node) : GraphOperator(node)
{
    public override int[]?[] InferShapes(ShapeContext ctx) => [ctx.Shape(0)];

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.OutputF(0, x.Shape);
        bool tanh = Node.Str("approximate", "none") == "tanh";
        if (!tanh)
        {
            GeluKernel.Apply(x.Floats, y.Floats);
            return;
        }
        var fx = x.F!; var fy = y.F!;
        for (int i = 0; i < x.Length; i++)
        {
            double v = fx[i];
            fy[i] = (float)(0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
        }
    }
}
