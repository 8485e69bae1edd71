using Quanta.Core.Kernels.Onnx;

namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Gemm: Y = alpha·op(A)·op(B) + beta·C, C broadcast to [M, N]. A constant B is packed once.</summary>
internal sealed class Gemm(GraphNode node) : GraphOperator(node)
{
    private SgemmPackedOperand? _packed;
    private GraphTensor? _packedFrom;

    private bool TA => Node.Int("transA", 0) != 0;
    private bool TB => Node.Int("transB", 0) != 0;

    public override int[]?[] InferShapes(ShapeContext ctx) =>
        ctx.Shape(0) is { Length: 2 } a && ctx.Shape(1) is { Length: 2 } b ? [[TA ? a[1] : a[0], TB ? b[0] : b[1]]] : [null];

    public override void Run(OpContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        if (a.Rank != 2 || b.Rank != 2) throw new GraphException($"{Node.Describe}: A and B must be 2-D");
        int m = TA ? a.Shape[1] : a.Shape[0], k = TA ? a.Shape[0] : a.Shape[1];
        int n = TB ? b.Shape[0] : b.Shape[1], kb = TB ? b.Shape[1] : b.Shape[0];
        if (k != kb) throw new GraphException($"{Node.Describe}: inner dimensions {k} and {kb} differ");
        var y = ctx.OutputF(0, [m, n]);
        if (ctx.IsConstant(1))
        {
            if (!ReferenceEquals(_packedFrom, b)) { _packed = SgemmPackedOperand.PackB(b.Floats, k, n, b.Shape[1], TB); _packedFrom = b; }
            SgemmParallel.Multiply(GraphThreads.Pool, m, a.Floats, a.Shape[1], TA, _packed!, y.Floats, n, default, false);
        }
        else SgemmParallel.Multiply(GraphThreads.Pool, m, n, k, a.Floats, a.Shape[1], TA, b.Floats, b.Shape[1], TB, y.Floats, n, false);
        float alpha = Node.Float("alpha", 1f), beta = Node.Float("beta", 1f);
        var fy = y.Floats;
        if (alpha != 1f) for (int i = 0; i < fy.Length; i++) fy[i] *= alpha;
        if (ctx.Optional(2) is { } c && beta != 0f)
        {
            var sc = Broadcast.Strides(c.Shape, [m, n]);
            var fc = c.Floats;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) fy[i * n + j] += beta * fc[i * sc[0] + j * sc[1]];
        }
    }
}
