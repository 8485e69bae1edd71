namespace Quanta.Models.Graph.Operators;

/// <summary>
/// ONNX DequantizeLinear (int8/uint8/int32 x, widened to Int64 on load): y = (x − zero_point) · scale, with a scalar
/// scale/zero point (per tensor) or 1-D ones along <c>axis</c> (default 1; per axis, opset 13+). Blocked
/// quantization (block_size) is not supported. With constant inputs (a quantized weight or embedding table) it is
/// folded at load, so lookups then read the dequantized table.
/// </summary>
internal sealed class DequantizeLinear : GraphOperator
{
    public DequantizeLinear(GraphNode node) : base(node)
    {
        if (node.Int("block_size", 0) != 0) throw node.Unsupported("blocked quantization (block_size)");
    }

    public override int[]?[] InferShapes(ShapeContext ctx) => [ctx.Shape(0)];

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var scale = ctx.Input(1);
        var zp = ctx.Optional(2);
        var y = ctx.OutputF(0, x.Shape);
        var fy = y.Floats;
        var fs = scale.Floats;
        if (zp is not null && zp.Length != fs.Length) throw new GraphException($"{Node.Describe}: zero point of {zp.Length} for scale of {fs.Length}");
        if (fs.Length == 1 && scale.Rank <= 1)
        {
            double z = zp is null ? 0 : zp.Get(0);
            float s = fs[0];
            for (int i = 0; i < fy.Length; i++) fy[i] = (float)(x.Get(i) - z) * s;
            return;
        }
        if (scale.Rank != 1) throw Node.Unsupported($"scale of rank {scale.Rank}");
        int axis = Broadcast.Axis(Node, Node.Int("axis", 1), x.Rank);
        if (x.Shape[axis] != fs.Length) throw new GraphException($"{Node.Describe}: scale of {fs.Length} for axis {axis} of size {x.Shape[axis]}");
        int inner = GraphTensor.SizeOf(x.Shape.AsSpan(axis + 1)), dim = x.Shape[axis];
        for (int i = 0; i < fy.Length; i++)
        {
            int c = i / inner % dim;
            double z = zp is null ? 0 : zp.Get(c);
            fy[i] = (float)(x.Get(i) - z) * fs[c];
        }
    }
}
