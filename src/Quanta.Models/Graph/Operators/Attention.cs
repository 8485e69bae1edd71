using Quanta.Core.Kernels.Onnx;
using Quanta.Core.Threading;

namespace Quanta.Models.Graph.Operators;

/// <summary>
/// Internal "Attention" (domain quanta), made at plan time by <see cref="AttentionFusion"/>: multi-head scaled dot-product
/// attention over Q, K, V [B, T, H·D] (or one QKV [B, T, 3·H·D] holding them as column blocks; attribute heads = H) with an additive mask broadcast to the scores [B, H, T, T]
/// (attribute scale, e.g. 1/√D): for each batch b and head h, Y_bh = softmax(Q_bh·K_bhᵀ·scale + mask)·V_bh, with Y [B, T, H·D].
/// Q_bh, K_bh, V_bh and Y_bh are the D columns of head h read and written in place (row stride H·D, or 3·H·D for QKV) by
/// <see cref="AttentionHeadKernel"/>, which makes the scores a block of query rows at a time in an L1 scratch (the
/// [T, T] score matrix never exists) with the <see cref="Sgemm"/> micro-kernel, a two-pass masked exponential and the
/// division by Σ e after the product with V. The (b, h) pairs are spread over the graph pool when the work is large enough.
/// </summary>
internal sealed class Attention(GraphNode node) : GraphOperator(node)
{
    private readonly int _heads = checked((int)node.Int("heads", 0));
    private readonly float _scale = node.Float("scale", 1f);

    /// <summary>Multiply-adds (both products) from which the (b, h) pairs are spread over the graph pool.</summary>
    internal const long MinWork = 1 << 17;

    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        if (ctx.Shape(0) is not { Length: 3 } x) return [null];
        return Node.Inputs.Length == 2 ? (x[2] % 3 == 0 ? [[x[0], x[1], x[2] / 3]] : [null]) : [x];
    }

    public override void Run(OpContext ctx)
    {
        // Four inputs: Q, K, V [B, T, H·D], mask. Two: QKV [B, T, 3·H·D] (column blocks Q | K | V), mask.
        bool packed = ctx.InputCount == 2;
        var q = ctx.Input(0);
        var k = packed ? q : ctx.Input(1);
        var v = packed ? q : ctx.Input(2);
        var mask = ctx.Input(packed ? 1 : 3);
        if (q.Type != TensorElementType.Float32 || k.Type != TensorElementType.Float32 || v.Type != TensorElementType.Float32 || mask.Type != TensorElementType.Float32)
            throw new GraphException($"{Node.Describe}: float inputs expected");
        if (q.Rank != 3 || !k.Shape.AsSpan().SequenceEqual(q.Shape) || !v.Shape.AsSpan().SequenceEqual(q.Shape) || packed && q.Shape[2] % 3 != 0)
            throw new GraphException($"{Node.Describe}: Q, K and V must share one [B, T, H·D] shape, or QKV be [B, T, 3·H·D] (got {q}, {k}, {v})");
        int b = q.Shape[0], t = q.Shape[1], ld = q.Shape[2], hd = packed ? ld / 3 : ld;
        if (_heads < 1 || hd % _heads != 0) throw new GraphException($"{Node.Describe}: {hd} columns do not split into {_heads} heads");
        int d = hd / _heads;
        int[] scores = [b, _heads, t, t];
        if (mask.Rank > 4 || !Broadcast.Shape(Node, scores, mask.Shape).AsSpan().SequenceEqual(scores))
            throw new GraphException($"{Node.Describe}: mask {mask} does not broadcast to the scores [{string.Join(", ", scores)}]");
        var y = ctx.OutputF(0, [b, t, hd]);
        if (y.Length == 0) return;
        var sm = Broadcast.Strides(mask.Shape, scores);
        var body = new Pairs
        {
            Q = q.F!, K = k.F!, V = v.F!, M = mask.F!, Y = y.F!, Heads = _heads, T = t, D = d, Ld = ld, Scale = _scale,
            KOffset = packed ? hd : 0, VOffset = packed ? 2 * hd : 0,
            MaskB = sm[0], MaskH = sm[1], MaskRow = sm[2], MaskLast = sm[3],
        };
        int pairs = b * _heads;
        var pool = GraphThreads.Pool;
        // Lower bar than a lone product's SgemmParallel.MinWork: each pair also packs K and runs T softmax rows, and the
        // pairs need no splitting, so one 16-token sentence's 12 heads (~0.2M multiply-adds) already gain from two threads.
        if (pool is null || pairs < 2 || 2L * pairs * t * t * d < MinWork)
        {
            for (int i = 0; i < pairs; i++) body.Execute(i);
            return;
        }
        pool.ForChunked(pairs, 1, body);
    }

    private struct Pairs : IParallelBody
    {
        public float[] Q, K, V, M, Y;
        public int Heads, T, D, Ld, KOffset, VOffset, MaskB, MaskH, MaskRow, MaskLast;
        public float Scale;

        public readonly void Execute(int index)
        {
            int bi = index / Heads, h = index - bi * Heads, hd = Heads * D, t = T, ld = Ld;
            // head h of batch bi: D columns from h·D, rows at stride ld (inputs) or hd (output)
            int inOff = bi * t * ld + h * D, inSpan = (t - 1) * ld + D, outOff = bi * t * hd + h * D, outSpan = (t - 1) * hd + D;
            int mo = bi * MaskB + h * MaskH;
            int maskLen = (t - 1) * MaskRow + (MaskLast == 0 ? 1 : t);
            AttentionHeadKernel.Head(t, D, Q.AsSpan(inOff, inSpan), K.AsSpan(inOff + KOffset, inSpan), V.AsSpan(inOff + VOffset, inSpan), ld, Scale,
                M.AsSpan(mo, maskLen), MaskRow, MaskLast != 0 && t > 1, Y.AsSpan(outOff, outSpan), hd);
        }
    }
}
