namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Transpose (default permutation reverses the axes); float tensors copy output rows over <see cref="RowParallel"/>.</summary>
internal sealed class Transpose(GraphNode node) : GraphOperator(node)
{
    private int[] Perm(int rank)
    {
        var p = Node.Ints("perm");
        var r = new int[rank];
        var seen = new bool[rank];
        for (int i = 0; i < rank; i++)
        {
            r[i] = p is null ? rank - 1 - i : (p.Length == rank ? Broadcast.Axis(Node, p[i], rank) : throw new GraphException($"{Node.Describe}: perm length {p.Length} for rank {rank}"));
            if (seen[r[i]]) throw new GraphException($"{Node.Describe}: perm repeats axis {r[i]}");
            seen[r[i]] = true;
        }
        return r;
    }

    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        if (ctx.Shape(0) is not { } x) return [null];
        var p = Perm(x.Length);
        return [p.Select(a => x[a]).ToArray()];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        int rank = x.Rank;
        var p = Perm(rank);
        var shape = p.Select(a => x.Shape[a]).ToArray();
        var y = ctx.Output(0, x.Type, shape);
        var xs = Broadcast.Contiguous(x.Shape);
        var src = new int[rank];
        for (int i = 0; i < rank; i++) src[i] = xs[p[i]];
        if (y.Length == 0) return;
        if (rank == 0) { Broadcast.Copy(x, y); return; }
        if (x.Type == TensorElementType.Float32 && rank >= 2)
        {
            // Float: rows of the output's last axis, each from its source offset (a contiguous copy when the last axis
            // stays, a strided gather otherwise), spread over the graph pool when large.
            int inner = shape[rank - 1], rows = y.Length / Math.Max(inner, 1);
            var outer = shape[..^1];
            RowParallel.For(rows, inner, new Rows
            {
                X = x.F!, Y = y.F!, Inner = inner, Step = src[rank - 1], OuterStrides = Broadcast.Contiguous(outer), SourceStrides = src[..^1],
            });
            return;
        }
        Broadcast.ForEachRow(shape, src, new int[rank], (o, oa, _, n, ia, _) =>
        {
            switch (x.Type)
            {
                case TensorElementType.Float32: { var fx = x.F!; var fy = y.F!; for (int i = 0; i < n; i++) fy[o + i] = fx[oa + i * ia]; break; }
                default: for (int i = 0; i < n; i++) Broadcast.CopyElement(x, oa + i * ia, y, o + i); break;
            }
        });
    }

    private struct Rows : IRowBody
    {
        public float[] X, Y;
        public int Inner, Step;
        public int[] OuterStrides, SourceStrides;

        public readonly void Row(int r)
        {
            int rem = r, off = 0;
            for (int d = 0; d < OuterStrides.Length; d++)
            {
                int i = rem / OuterStrides[d];
                rem -= i * OuterStrides[d];
                off += i * SourceStrides[d];
            }
            var y = Y.AsSpan(r * Inner, Inner);
            if (Step == 1) { X.AsSpan(off, Inner).CopyTo(y); return; }
            var x = X;
            for (int i = 0; i < y.Length; i++) y[i] = x[off + i * Step];
        }
    }
}
