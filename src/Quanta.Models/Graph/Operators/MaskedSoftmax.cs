using Quanta.Core.ModelFiles.Onnx;
using Quanta.Core.Kernels.Onnx;

namespace Quanta.Models.Graph.Operators;

/// <summary>
/// Internal "MaskedSoftmax" (domain quanta), made by the attention-score fusion from Div(x, c) (or Mul(x, 1/c)) →
/// Add(·, mask) → Softmax over the last axis: y = softmax(x·scale + mask) along the last axis, mask broadcast to x
/// (numpy rules; its last dimension is x's or 1), attribute "scale" = 1/c. Rows run through
/// <see cref="MaskedSoftmaxKernel"/> over <see cref="RowParallel"/>: the score tensor is read and written once.
/// </summary>
internal sealed class MaskedSoftmax(GraphNode node) : GraphOperator(node)
{
    public override int[]?[] InferShapes(ShapeContext ctx) =>
        ctx.Shape(0) is { } x && ctx.Shape(1) is { } m ? [Broadcast.Shape(Node, x, m)] : [null];

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var mask = ctx.Input(1);
        if (x.Type != TensorElementType.Float32 || mask.Type != TensorElementType.Float32) throw new GraphException($"{Node.Describe}: float inputs expected");
        var shape = Broadcast.Shape(Node, x.Shape, mask.Shape);
        var y = ctx.OutputF(0, shape);
        if (y.Length == 0) return;
        int rank = shape.Length, n = rank == 0 ? 1 : shape[^1], rows = y.Length / n;
        var lead = rank == 0 ? [] : shape[..^1];
        var sx = Broadcast.Strides(x.Shape, shape);
        var sm = Broadcast.Strides(mask.Shape, shape);
        RowParallel.For(rows, n, new Rows
        {
            X = x.F!, M = mask.F!, Y = y.F!, N = n, Scale = Node.Float("scale", 1f), Lead = lead, LeadStrides = Broadcast.Contiguous(lead),
            StridesX = sx, StridesM = sm, XLast = rank == 0 ? 1 : sx[^1], MLast = rank == 0 ? 1 : sm[^1],
        });
    }

    private struct Rows : IRowBody
    {
        public float[] X, M, Y;
        public int N, XLast, MLast;
        public float Scale;
        public int[] Lead, LeadStrides, StridesX, StridesM;

        public readonly void Row(int r)
        {
            int rem = r, ox = 0, om = 0;
            for (int d = 0; d < Lead.Length; d++)
            {
                int i = rem / LeadStrides[d];
                rem -= i * LeadStrides[d];
                ox += i * StridesX[d];
                om += i * StridesM[d];
            }
            var y = Y.AsSpan(r * N, N);
            ReadOnlySpan<float> mask = MLast == 0 || N == 1 ? M.AsSpan(om, 1) : M.AsSpan(om, N);
            if (XLast == 0 && N > 1)
            {
                y.Fill(X[ox]);
                MaskedSoftmaxKernel.Row(y, Scale, mask, y);
            }
            else MaskedSoftmaxKernel.Row(X.AsSpan(ox, N), Scale, mask, y);
        }
    }
}
