using Quanta.Core.Kernels.Onnx;

namespace Quanta.Models.Graph.Operators;

/// <summary>
/// ONNX Conv, 2-D: X [N, C, H, W], W [M, C/group, kH, kW], optional B [M]; pads, strides, dilations, auto_pad,
/// groups (depthwise included). 3×3 stride-1 convolutions with enough output tiles run as Winograd F(2×2, 3×3)
/// (<see cref="WinogradConv"/>, transformed filters cached while the weight is a plan constant); the rest are lowered per
/// group to <see cref="SgemmConv.ForwardBatch"/> (per image, or several small
/// images folded into one product): filters packed once while the
/// weight is a plan constant, im2col patches packed block by block as the product runs (never stored), bias and ReLU in the
/// product's epilogue, output pixels spread over <see cref="GraphThreads"/>. The internal attribute "activation" = "Relu" (set by Conv+BatchNormalization+Relu
/// fusion) applies ReLU to the output.
/// </summary>
internal sealed class Conv(GraphNode node) : GraphOperator(node)
{
    // Folded-product output scratch shared by every Conv run on this thread (one call at a time per thread), so
    // consecutive layers reuse the same, cache-warm buffer instead of one cold buffer per node.
    [ThreadStatic] private static float[]? t_col;
    private SgemmPackedOperand[] _packed = [];
    private GraphTensor? _packedFrom;
    private WinogradFilters[] _winograd = [];
    private GraphTensor? _winogradFrom;

    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        if (ctx.Shape(0) is not { Length: 4 } x || ctx.Shape(1) is not { Length: 4 } w) return [null];
        var g = ConvGeometry.Resolve(Node, x[2], x[3], w[2], w[3]);
        return [[x[0], w[0], g.OH, g.OW]];
    }

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var w = ctx.Input(1);
        var bias = ctx.Optional(2);
        if (x.Rank != 4 || w.Rank != 4) throw Node.Unsupported($"a {x.Rank - 2}-D convolution");
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int m = w.Shape[0], cg = w.Shape[1];
        int groups = (int)Node.Int("group", 1);
        if (groups <= 0 || c != cg * groups || m % groups != 0) throw new GraphException($"{Node.Describe}: {c} input channels, weight [{string.Join(", ", w.Shape)}] and group {groups} disagree");
        if (bias is not null && bias.Length != m) throw new GraphException($"{Node.Describe}: bias of {bias.Length} values for {m} output channels");
        var g = ConvGeometry.Resolve(Node, h, wd, w.Shape[2], w.Shape[3]);
        var y = ctx.OutputF(0, [n, m, g.OH, g.OW]);
        int mg = m / groups, kdim = cg * g.KH * g.KW, plane = g.OH * g.OW;
        var shape = new Conv2dShape(cg, h, wd, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PadTop, g.PadLeft, g.OH, g.OW);
        bool relu = Node.Str("activation", "") == "Relu";
        var fx = x.F!; var fy = y.F!;
        if (n == 0) return;
        int xImage = c * h * wd, yImage = m * plane;
        var pool = GraphThreads.Pool;
        if (WinogradConv.Preferred(shape, mg))
        {
            var wf = Winograd(w, ctx.IsConstant(1), groups, mg, cg);
            for (int gi = 0; gi < groups; gi++)
                WinogradConv.ForwardBatch(pool, wf[gi], fx.AsSpan(gi * cg * h * wd, (n - 1) * xImage + cg * h * wd), xImage, n, shape,
                    fy.AsSpan(gi * mg * plane, (n - 1) * yImage + mg * plane), yImage, bias is null ? default : bias.Floats.Slice(gi * mg, mg), relu);
            return;
        }
        var filters = Filters(w, ctx.IsConstant(1), groups, mg, kdim);
        long need = SgemmConv.BatchScratchLength(shape, mg, n);
        var col = t_col is { } tc && tc.Length >= need ? tc : t_col = new float[Math.Max(need, 1)];
        for (int gi = 0; gi < groups; gi++)
        {
            int xOff = gi * cg * h * wd, yOff = gi * mg * plane;
            SgemmConv.ForwardBatch(pool, filters[gi], fx.AsSpan(xOff, (n - 1) * xImage + cg * h * wd), xImage, n, shape,
                fy.AsSpan(yOff, (n - 1) * yImage + mg * plane), yImage, bias is null ? default : bias.Floats.Slice(gi * mg, mg), relu, col);
        }
    }

    // Per group the 3×3 filters [mg, cg, 3, 3] transformed for Winograd F(2×2, 3×3); cached while the weight is the same constant tensor.
    private WinogradFilters[] Winograd(GraphTensor w, bool constant, int groups, int mg, int cg)
    {
        if (constant && ReferenceEquals(_winogradFrom, w) && _winograd.Length == groups) return _winograd;
        var fw = w.Floats;
        var filters = new WinogradFilters[groups];
        for (int gi = 0; gi < groups; gi++) filters[gi] = WinogradFilters.Create(fw.Slice(gi * mg * cg * 9, mg * cg * 9), mg, cg);
        if (constant) { _winograd = filters; _winogradFrom = w; }
        return filters;
    }

    // Per group the filter matrix [mg, kdim] packed for the kernel; cached while the weight is the same constant tensor.
    private SgemmPackedOperand[] Filters(GraphTensor w, bool constant, int groups, int mg, int kdim)
    {
        if (constant && ReferenceEquals(_packedFrom, w) && _packed.Length == groups) return _packed;
        var fw = w.Floats;
        var packed = new SgemmPackedOperand[groups];
        for (int gi = 0; gi < groups; gi++) packed[gi] = SgemmPackedOperand.PackA(fw.Slice(gi * mg * kdim, mg * kdim), mg, kdim, kdim, false);
        if (constant) { _packed = packed; _packedFrom = w; }
        return packed;
    }
}
