using Quanta.Core.Kernels.Onnx;

namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Softmax (and LogSoftmax): opset 13+ normalizes along axis (default -1); older opsets over the flattened dims from axis (default 1). Contiguous rows use <see cref="SoftmaxKernel"/>.</summary>
internal sealed class Softmax(GraphNode node, long opset) : GraphOperator(node)
{
    public override int[]?[] InferShapes(ShapeContext ctx) => [ctx.Shape(0)];

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.OutputF(0, x.Shape);
        bool log = Node.OpType == "LogSoftmax";
        int rank = x.Rank;
        int axis = Broadcast.Axis(Node, Node.Int("axis", opset >= 13 ? -1 : 1), Math.Max(rank, 1));
        int outer = GraphTensor.SizeOf(x.Shape.AsSpan(0, axis));
        int n, inner;
        if (opset >= 13) { n = rank == 0 ? 1 : x.Shape[axis]; inner = GraphTensor.SizeOf(x.Shape.AsSpan(Math.Min(axis + 1, rank))); }
        else { n = GraphTensor.SizeOf(x.Shape.AsSpan(axis)); inner = 1; }
        var fx = x.F!; var fy = y.F!;
        if (!log && inner == 1)
        {
            RowParallel.For(outer, n, new Rows { X = fx, Y = fy, N = n });
            return;
        }
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                int b = o * n * inner + j;
                float max = float.NegativeInfinity;
                for (int i = 0; i < n; i++) max = Math.Max(max, fx[b + i * inner]);
                double sum = 0;
                for (int i = 0; i < n; i++) { float e = MathF.Exp(fx[b + i * inner] - max); fy[b + i * inner] = e; sum += e; }
                if (log)
                {
                    float ls = (float)Math.Log(sum);
                    for (int i = 0; i < n; i++) fy[b + i * inner] = fx[b + i * inner] - max - ls;
                }
                else
                {
                    float inv = (float)(1 / sum);
                    for (int i = 0; i < n; i++) fy[b + i * inner] *= inv;
                }
            }
    }

    private struct Rows : IRowBody
    {
        public float[] X, Y;
        public int N;
        public readonly void Row(int r) => SoftmaxKernel.Row(X.AsSpan(r * N, N), Y.AsSpan(r * N, N));
    }
}
