using Quanta.Core.Kernels.Onnx;

namespace Quanta.Models.Graph.Operators;

/// <summary>
/// INT8 form of a 2-D, group-1 Conv with constant weights W [M, C, kH, kW] (optional bias, fused ReLU), built by
/// <see cref="GraphQuantizer"/>. Per image: X [C, H, W] is quantized per tensor to 7-bit codes and transposed to
/// pixel-major [H·W, C]; im2col gathers one row per output pixel with k ordered (kh, kw, c) (padding = the zero
/// point, i.e. exactly 0.0); <see cref="Int8Gemm"/> multiplies by the weights packed in the same k order and writes
/// Y [M, OH·OW] through a transposed store (row stride 1, column stride OH·OW). 1×1 stride-1 unpadded convolutions
/// with C a multiple of 4 use the transposed codes directly.
/// </summary>
internal sealed class QuantizedConv : GraphOperator
{
    private readonly GraphOperator _float;
    private readonly int _m, _c, _kh, _kw;
    private readonly sbyte[] _packed;   // Int8Gemm panels of W' [M, kH·kW·C]
    private readonly float[] _scale;    // [M]
    private readonly float[] _offset;   // [M]
    private readonly bool _relu;
    private readonly ActivationQuant _act;
    private byte[] _planar = [];        // [C, H·W] codes
    private byte[] _pixels = [];        // [H·W, C] codes
    private byte[] _col = [];           // [OH·OW, PaddedK(kH·kW·C)]

    private QuantizedConv(GraphNode node, GraphOperator original, int m, int c, int kh, int kw, sbyte[] packed, float[] scale, float[] offset, bool relu, ActivationQuant act)
        : base(node)
    {
        _float = original;
        _m = m; _c = c; _kh = kh; _kw = kw; _packed = packed; _scale = scale; _offset = offset; _relu = relu; _act = act;
    }

    public static QuantizedConv Create(GraphNode node, GraphOperator original, IReadOnlyDictionary<string, GraphTensor> consts, ActivationQuant act)
    {
        var w = consts[node.Inputs[1]];
        int m = w.Shape[0], c = w.Shape[1], kh = w.Shape[2], kw = w.Shape[3], k = c * kh * kw;
        var fw = w.Floats;
        var wt = new float[m * k]; // [M, (kh, kw, c)]
        for (int o = 0; o < m; o++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++)
                        wt[o * k + (i * kw + j) * c + ch] = fw[((o * c + ch) * kh + i) * kw + j];
        var (codes, scales, sums) = GraphQuantizer.QuantizeWeights(wt, m, k);
        var packed = new sbyte[Int8Gemm.PackedLength(m, k)];
        Int8Gemm.PackWeights(codes, m, k, packed);
        GraphTensor? bias = node.Inputs.Length > 2 && node.Inputs[2].Length > 0 ? consts[node.Inputs[2]] : null;
        var scale = new float[m];
        var offset = new float[m];
        for (int o = 0; o < m; o++)
        {
            scale[o] = act.Scale * scales[o];
            offset[o] = (bias is null ? 0 : bias.F![o]) - scale[o] * act.ZeroPoint * sums[o];
        }
        return new QuantizedConv(node, original, m, c, kh, kw, packed, scale, offset, node.Str("activation", "") == "Relu", act);
    }

    public override int[]?[] InferShapes(ShapeContext ctx) => _float.InferShapes(ctx);

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        if (x.Rank != 4 || x.Shape[1] != _c) throw new GraphException($"{Node.Describe}: input [{string.Join(", ", x.Shape)}] for {_c} channels");
        int n = x.Shape[0], h = x.Shape[2], wd = x.Shape[3];
        var g = ConvGeometry.Resolve(Node, h, wd, _kh, _kw);
        var y = ctx.OutputF(0, [n, _m, g.OH, g.OW]);
        int inPlane = h * wd, plane = g.OH * g.OW, k = _c * _kh * _kw, kp = Int8Gemm.PaddedK(k);
        bool direct = _kh == 1 && _kw == 1 && g.SH == 1 && g.SW == 1 && g.PadTop == 0 && g.PadLeft == 0 && g.PadBottom == 0 && g.PadRight == 0 && _c % 4 == 0;
        if (_planar.Length < _c * inPlane) _planar = new byte[_c * inPlane];
        if (_pixels.Length < _c * inPlane) _pixels = new byte[_c * inPlane];
        if (!direct && _col.Length < plane * kp) _col = new byte[plane * kp];
        var fx = x.Floats;
        var fy = y.Floats;
        for (int img = 0; img < n; img++)
        {
            Int8Activations.Quantize(fx.Slice(img * _c * inPlane, _c * inPlane), _act.InvScale, _act.ZeroPoint, _planar);
            Transpose(_planar, _pixels, _c, inPlane);
            ReadOnlySpan<byte> a;
            if (direct) a = _pixels.AsSpan(0, _c * inPlane);
            else
            {
                Im2Col(_pixels, h, wd, g, kp);
                a = _col.AsSpan(0, plane * kp);
            }
            Int8GemmParallel.MultiplyScaled(GraphThreads.Pool, plane, _m, k, a, direct ? _c : kp, _packed, _scale, _offset, _relu, fy.Slice(img * _m * plane, _m * plane), 1, plane);
        }
    }

    // src [rows, cols] → dst [cols, rows], in 32×32 blocks to stay in cache.
    private static void Transpose(byte[] src, byte[] dst, int rows, int cols)
    {
        const int B = 32;
        for (int r0 = 0; r0 < rows; r0 += B)
            for (int c0 = 0; c0 < cols; c0 += B)
            {
                int r1 = Math.Min(rows, r0 + B), c1 = Math.Min(cols, c0 + B);
                for (int r = r0; r < r1; r++)
                {
                    int s = r * cols;
                    for (int c = c0; c < c1; c++) dst[c * rows + r] = src[s + c];
                }
            }
    }

    // _pixels [H·W, C] → _col [OH·OW, kp]: row of pixel (oh, ow) = for (ki, kj): the C codes at the input tap, or the zero point.
    private void Im2Col(byte[] pixels, int h, int w, ConvGeometry g, int kp)
    {
        int c = _c, k = c * _kh * _kw;
        byte zp = (byte)_act.ZeroPoint;
        var col = _col;
        for (int oh = 0; oh < g.OH; oh++)
            for (int ow = 0; ow < g.OW; ow++)
            {
                int dst = (oh * g.OW + ow) * kp;
                for (int ki = 0; ki < _kh; ki++)
                {
                    int ih = oh * g.SH - g.PadTop + ki * g.DH;
                    for (int kj = 0; kj < _kw; kj++, dst += c)
                    {
                        int iw = ow * g.SW - g.PadLeft + kj * g.DW;
                        if (ih < 0 || ih >= h || iw < 0 || iw >= w) { col.AsSpan(dst, c).Fill(zp); continue; }
                        int src = (ih * w + iw) * c;
                        if (c >= 16) pixels.AsSpan(src, c).CopyTo(col.AsSpan(dst, c));
                        else for (int q = 0; q < c; q++) col[dst + q] = pixels[src + q];
                    }
                }
                if (kp > k) col.AsSpan(dst, kp - k).Fill(zp);
            }
    }
}
