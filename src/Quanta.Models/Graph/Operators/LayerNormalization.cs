using Quanta.Core.Kernels.Onnx;

namespace Quanta.Models.Graph.Operators;

/// <summary>
/// ONNX LayerNormalization: normalizes over the dims from axis (default -1) with epsilon, then Y = X̂·scale + bias
/// (scale/bias broadcast to the normalized dims). Optional outputs Mean and InvStdDev have the normalized dims set to 1.
/// </summary>
internal sealed class LayerNormalization(GraphNode node) : GraphOperator(node)
{
    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        var r = new int[]?[Node.Outputs.Length];
        if (ctx.Shape(0) is not { } x) return r;
        r[0] = x;
        int axis = Broadcast.Axis(Node, Node.Int("axis", -1), x.Length);
        var stat = x.Select((d, i) => i < axis ? d : 1).ToArray();
        for (int i = 1; i < r.Length; i++) r[i] = stat;
        return r;
    }

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        int axis = Broadcast.Axis(Node, Node.Int("axis", -1), x.Rank);
        var y = ctx.OutputF(0, x.Shape);
        var stat = x.Shape.Select((d, i) => i < axis ? d : 1).ToArray();
        var mean = ctx.Wants(1) ? ctx.OutputF(1, stat) : null;
        var inv = ctx.Wants(2) ? ctx.OutputF(2, stat) : null;
        Normalize(Node, x, ctx.Input(1), ctx.Optional(2), y, mean, inv);
    }

    /// <summary>
    /// y = layer norm of x over the dims from the node's axis (y may be x); mean and inv (the statistics outputs) are
    /// null or have the normalized dims set to 1.
    /// </summary>
    internal static void Normalize(GraphNode node, GraphTensor x, GraphTensor scale, GraphTensor? bias, GraphTensor y, GraphTensor? mean, GraphTensor? inv)
    {
        int axis = Broadcast.Axis(node, node.Int("axis", -1), x.Rank);
        float eps = node.Float("epsilon", 1e-5f);
        int n = GraphTensor.SizeOf(x.Shape.AsSpan(axis)), outer = GraphTensor.SizeOf(x.Shape.AsSpan(0, axis));
        var normShape = x.Shape[axis..];
        var fx = x.F!; var fy = y.F!; var g = scale.F!; var b = bias?.F;
        if (scale.Length == n && (bias is null || bias.Length == n))
        {
            // Scale and bias cover the normalized dims exactly: the vector row kernel.
            RowParallel.For(outer, n, new Rows { X = fx, Y = fy, G = g, B = b, N = n, Eps = eps, Mean = mean?.F, Inv = inv?.F });
            return;
        }
        var idxScale = Map(normShape, Broadcast.Strides(scale.Shape, normShape));
        var idxBias = bias is null ? null : Map(normShape, Broadcast.Strides(bias.Shape, normShape));
        for (int o = 0; o < outer; o++)
        {
            int at = o * n;
            double s = 0;
            for (int i = 0; i < n; i++) s += fx[at + i];
            float mu = (float)(s / n);
            double v = 0;
            for (int i = 0; i < n; i++) { float d = fx[at + i] - mu; v += d * d; }
            float r = 1f / MathF.Sqrt((float)(v / n) + eps);
            for (int i = 0; i < n; i++)
                fy[at + i] = (fx[at + i] - mu) * r * g[idxScale[i]] + (b is null ? 0 : b[idxBias![i]]);
            if (mean is not null) mean.F![o] = mu;
            if (inv is not null) inv.F![o] = r;
        }
    }

    private static int[] Map(int[] shape, int[] strides)
    {
        int n = GraphTensor.SizeOf(shape);
        var r = new int[n];
        var cs = Broadcast.Contiguous(shape);
        for (int k = 0; k < n; k++)
        {
            int rem = k, off = 0;
            for (int d = 0; d < shape.Length; d++) { int i = rem / cs[d]; rem -= i * cs[d]; off += i * strides[d]; }
            r[k] = off;
        }
        return r;
    }

    private struct Rows : IRowBody
    {
        public float[] X, Y, G;
        public float[]? B, Mean, Inv;
        public int N;
        public float Eps;

        public readonly void Row(int o)
        {
            var (mu, r) = LayerNormKernel.Row(X.AsSpan(o * N, N), G.AsSpan(0, N), B is null ? default : B.AsSpan(0, N), Eps, Y.AsSpan(o * N, N));
            if (Mean is not null) Mean[o] = mu;
            if (Inv is not null) Inv[o] = r;
        }
    }
}
