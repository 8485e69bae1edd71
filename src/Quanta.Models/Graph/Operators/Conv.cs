using Quanta.Core.Kernels.Onnx;

namespace Quanta.Models.Graph.Operators;

/// <summary>
/// ONNX Conv, 2-D: X [N, C, H, W], W [M, C/group, kH, kW], optional B [M]; pads, strides, dilations, auto_pad,
/// groups (depthwise included). Lowered to im2col + <see cref="Sgemm"/> per image and group (1×1 stride-1 unpadded
/// convolutions skip im2col). The internal attribute "activation" = "Relu" (set by Conv+BatchNormalization+Relu
/// fusion) applies ReLU to the output.
/// </summary>
internal sealed class Conv(GraphNode node) : GraphOperator(node)
{
    private float[] _col = [];

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
        var g = ConvGeometry.Resolve(Node, h, wd, w.Shape[2], w.Shape[3]);
        var y = ctx.OutputF(0, [n, m, g.OH, g.OW]);
        int mg = m / groups, kdim = cg * g.KH * g.KW, plane = g.OH * g.OW;
        bool direct = g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PadTop == 0 && g.PadLeft == 0 && g.PadBottom == 0 && g.PadRight == 0;
        if (!direct && _col.Length < kdim * plane) _col = new float[kdim * plane];
        var fx = x.F!; var fw = w.F!; var fy = y.F!;
        for (int img = 0; img < n; img++)
            for (int gi = 0; gi < groups; gi++)
            {
                int xOff = (img * c + gi * cg) * h * wd;
                ReadOnlySpan<float> col;
                if (direct) col = fx.AsSpan(xOff, kdim * plane);
                else { Im2Col(fx, xOff, cg, h, wd, g); col = _col.AsSpan(0, kdim * plane); }
                SgemmParallel.Multiply(GraphThreads.Pool, mg, plane, kdim, fw.AsSpan(gi * mg * kdim, mg * kdim), kdim, false, col, plane, false,
                    fy.AsSpan((img * m + gi * mg) * plane, mg * plane), plane, false);
            }
        bool relu = Node.Str("activation", "") == "Relu";
        if (bias is not null || relu)
        {
            var fb = bias?.F;
            for (int img = 0; img < n; img++)
                for (int oc = 0; oc < m; oc++)
                {
                    var row = fy.AsSpan((img * m + oc) * plane, plane);
                    float bv = fb is null ? 0 : fb[oc];
                    if (relu) for (int i = 0; i < row.Length; i++) row[i] = Math.Max(row[i] + bv, 0);
                    else for (int i = 0; i < row.Length; i++) row[i] += bv;
                }
        }
    }

    // col: [cg·kH·kW, OH·OW]
    private void Im2Col(float[] x, int xOff, int cg, int h, int w, ConvGeometry g)
    {
        var col = _col;
        int plane = g.OH * g.OW, r = 0;
        for (int ch = 0; ch < cg; ch++)
            for (int ki = 0; ki < g.KH; ki++)
                for (int kj = 0; kj < g.KW; kj++, r++)
                {
                    int dst = r * plane;
                    for (int oh = 0; oh < g.OH; oh++)
                    {
                        int ih = oh * g.SH - g.PadTop + ki * g.DH;
                        if (ih < 0 || ih >= h) { col.AsSpan(dst + oh * g.OW, g.OW).Clear(); continue; }
                        int src = xOff + (ch * h + ih) * w;
                        for (int ow = 0; ow < g.OW; ow++)
                        {
                            int iw = ow * g.SW - g.PadLeft + kj * g.DW;
                            col[dst + oh * g.OW + ow] = iw >= 0 && iw < w ? x[src + iw] : 0;
                        }
                    }
                }
    }
}
