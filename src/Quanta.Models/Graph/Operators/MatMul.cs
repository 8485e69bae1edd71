using Quanta.Core.Kernels.Onnx;

namespace Quanta.Models.Graph.Operators;

/// <summary>
/// ONNX MatMul (numpy semantics: 1-D operands promoted and the added axis removed, batch dims broadcast), on the
/// blocked <see cref="Sgemm"/>. The fused form "MatMulAdd" (domain quanta, created by the MatMul+Add fusion) adds a
/// bias of shape [N] to every output row. A constant 2-D weight is packed once (<see cref="SgemmPackedOperand"/>) and
/// the bias is added in the product's epilogue. The MatMulAdd+Gelu fusion sets the internal attribute "activation" =
/// "Gelu": GELU (erf form) is applied to the biased result, in the epilogue when the weight is packed.
/// </summary>
internal sealed class MatMul(GraphNode node) : GraphOperator(node)
{
    private SgemmPackedOperand? _packed;
    private GraphTensor? _packedFrom;
    private readonly bool _gelu = node.Str("activation", "") == "Gelu";

    private int[] Target(int[] a, int[] b, out int m, out int k, out int n, out int[] batch)
    {
        if (a.Length == 0 || b.Length == 0) throw new GraphException($"{Node.Describe}: scalar operand");
        int[] a2 = a.Length == 1 ? [1, a[0]] : a;
        int[] b2 = b.Length == 1 ? [b[0], 1] : b;
        m = a2[^2]; k = a2[^1]; n = b2[^1];
        if (b2[^2] != k) throw new GraphException($"{Node.Describe}: inner dimensions differ ([{string.Join(", ", a)}] x [{string.Join(", ", b)}])");
        batch = Broadcast.Shape(Node, a2[..^2], b2[..^2]);
        var r = new List<int>(batch);
        if (a.Length > 1) r.Add(m);
        if (b.Length > 1) r.Add(n);
        return r.ToArray();
    }

    public override int[]?[] InferShapes(ShapeContext ctx) =>
        ctx.Shape(0) is { } a && ctx.Shape(1) is { } b ? [Target(a, b, out _, out _, out _, out _)] : [null];

    public override void Run(OpContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        var shape = Target(a.Shape, b.Shape, out int m, out int k, out int n, out int[] batch);
        var y = ctx.OutputF(0, shape);
        int[] a2 = a.Rank == 1 ? [1, k] : a.Shape;
        int[] b2 = b.Rank == 1 ? [k, 1] : b.Shape;
        int batches = GraphTensor.SizeOf(batch);
        var biasT = ctx.Optional(2);
        if (biasT is not null && biasT.Length != n) throw new GraphException($"{Node.Describe}: bias of {biasT.Length} for {n} columns");
        if (b2.Length == 2 && a2.Length >= 2 && ctx.IsConstant(1))
        {
            // Constant weight: packed once, bias added in the product's epilogue.
            if (!ReferenceEquals(_packedFrom, b)) { _packed = SgemmPackedOperand.PackB(b.Floats, k, n, n, false); _packedFrom = b; }
            SgemmParallel.Multiply(GraphThreads.Pool, batches * m, a.Floats, k, false, _packed!, y.Floats, n, biasT is null ? default : biasT.Floats,
                _gelu ? SgemmActivation.Gelu : SgemmActivation.None);
            return;
        }
        if (b2.Length == 2 && a2.Length >= 2)
        {
            // Shared B: fold every batch of A into the rows of one product.
            SgemmParallel.Multiply(GraphThreads.Pool, batches * m, n, k, a.Floats, k, false, b.Floats, n, false, y.Floats, n, false);
        }
        else
        {
            var sa = Broadcast.Strides(a2[..^2], batch);
            var sb = Broadcast.Strides(b2[..^2], batch);
            var cs = Broadcast.Contiguous(batch);
            var ao = new int[batches];
            var bo = new int[batches];
            for (int t = 0; t < batches; t++)
            {
                int rem = t, ia = 0, ib = 0;
                for (int d = 0; d < batch.Length; d++) { int i = rem / cs[d]; rem -= i * cs[d]; ia += i * sa[d]; ib += i * sb[d]; }
                ao[t] = ia * m * k;
                bo[t] = ib * k * n;
            }
            SgemmParallel.MultiplyBatch(batches * m * n * (long)k < 1 << 23 ? null : GraphThreads.Pool, batches, m, n, k, a.Floats, ao, b.Floats, bo, y.Floats);
        }
        if (biasT is { } bias)
        {
            var fb = bias.Floats;
            var fy = y.Floats;
            for (int r = 0; r < fy.Length; r += n)
                for (int j = 0; j < n; j++) fy[r + j] += fb[j];
        }
        if (_gelu) GeluKernel.Apply(y.Floats, y.Floats);
    }
}
