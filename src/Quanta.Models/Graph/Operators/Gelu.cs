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
            const int Chunk = 4096;
            RowParallel.For((x.Length + Chunk - 1) / Chunk, Chunk, new Chunks { X = x.F!, Y = y.F!, Length = x.Length, Size = Chunk });
            return;
        }
        var fx = x.F!; var fy = y.F!;
        for (int i = 0; i < x.Length; i++)
        {
            double v = fx[i];
            fy[i] = (float)(0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
        }
    }

    private struct Chunks : IRowBody
    {
        public float[] X, Y;
        public int Length, Size;

        public readonly void Row(int r)
        {
            int start = r * Size, count = Math.Min(Size, Length - start);
            GeluKernel.Apply(X.AsSpan(start, count), Y.AsSpan(start, count));
        }
    }
}
