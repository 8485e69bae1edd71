using Quanta.Core.Kernels.Onnx;
using Quanta.Core.ModelFiles.Onnx;

namespace Quanta.Models.Graph.Operators;

/// <summary>
/// Internal "AddLayerNormalization" (domain quanta), made by the residual fusion from Add(a, b) → LayerNormalization
/// (one output, the Add's only consumer): y = LayerNormalization(a + b, scale, bias) with the LayerNormalization's
/// attributes. When a and b have the same shape and scale/bias cover the normalized dims, each row is summed and
/// normalized while it is in cache (the sum never goes to memory); otherwise the sum is broadcast into y and
/// normalized in place, exactly as the two nodes would.
/// </summary>
internal sealed class AddLayerNormalization(GraphNode node) : GraphOperator(node)
{
    private readonly Add _add = new(node);

    public override int[]?[] InferShapes(ShapeContext ctx) =>
        ctx.Shape(0) is { } a && ctx.Shape(1) is { } b ? [Broadcast.Shape(Node, a, b)] : [null];

    public override void Run(OpContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        var scale = ctx.Input(2);
        var bias = ctx.Optional(3);
        if (a.Type != TensorElementType.Float32 || b.Type != TensorElementType.Float32) throw new GraphException($"{Node.Describe}: float inputs expected");
        var shape = Broadcast.Shape(Node, a.Shape, b.Shape);
        var y = ctx.OutputF(0, shape);
        int axis = Broadcast.Axis(Node, Node.Int("axis", -1), shape.Length);
        int n = GraphTensor.SizeOf(shape.AsSpan(axis)), outer = GraphTensor.SizeOf(shape.AsSpan(0, axis));
        if (a.Length == y.Length && b.Length == y.Length && n > 0 && scale.Length == n && (bias is null || bias.Length == n))
        {
            RowParallel.For(outer, n, new Rows { A = a.F!, B = b.F!, Y = y.F!, G = scale.F!, Beta = bias?.F, N = n, Eps = Node.Float("epsilon", 1e-5f) });
            return;
        }
        _add.Apply(a, b, y);
        LayerNormalization.Normalize(Node, y, scale, bias, y, null, null);
    }

    private struct Rows : IRowBody
    {
        public float[] A, B, Y, G;
        public float[]? Beta;
        public int N;
        public float Eps;

        public readonly void Row(int o)
        {
            var y = Y.AsSpan(o * N, N);
            Add.Same(A.AsSpan(o * N, N), B.AsSpan(o * N, N), y, false);
            LayerNormKernel.Row(y, G.AsSpan(0, N), Beta is null ? default : Beta.AsSpan(0, N), Eps, y);
        }
    }
}
