namespace Quanta.Models.Graph.Operators;

/// <summary>
/// ONNX Resize (and Upsample): modes "nearest" (nearest_mode round_prefer_floor, round_prefer_ceil, floor, ceil) and
/// "linear" (N-linear, applied axis by axis, which is exact for separable interpolation); coordinate transformation
/// modes half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn. Output size from sizes, or
/// floor(input × scale). Cubic, antialias, tf_crop_and_resize, axes and keep_aspect_ratio_policy are not supported.
/// </summary>
internal sealed class Resize : GraphOperator
{
    public Resize(GraphNode node) : base(node)
    {
        string mode = node.Str("mode", "nearest");
        if (mode is not ("nearest" or "linear" or "bilinear")) throw node.Unsupported($"mode '{mode}'");
        if (node.Int("antialias", 0) != 0) throw node.Unsupported("antialias");
        if (node.Attr("axes") is not null) throw node.Unsupported("the axes attribute");
        if (node.Str("keep_aspect_ratio_policy", "stretch") != "stretch") throw node.Unsupported("keep_aspect_ratio_policy");
        string ct = node.Str("coordinate_transformation_mode", "half_pixel");
        if (ct is not ("half_pixel" or "pytorch_half_pixel" or "align_corners" or "asymmetric" or "tf_half_pixel_for_nn"))
            throw node.Unsupported($"coordinate_transformation_mode '{ct}'");
    }

    private (int[] Out, double[] Scales)? Plan(int[] x, Func<int, GraphTensor?> input, int count)
    {
        int rank = x.Length;
        var outShape = new int[rank];
        var scales = new double[rank];
        GraphTensor? sizes = null, sc = null;
        if (Node.OpType == "Upsample") sc = input(1);
        else
        {
            if (count > 3 && Node.Inputs[3].Length > 0) sizes = input(3) ?? throw new InvalidOperationException();
            if (sizes is null && count > 2 && Node.Inputs[2].Length > 0) sc = input(2) ?? throw new InvalidOperationException();
            if (sc is not null && sc.Length == 0) sc = null;
        }
        if (sizes is not null && sizes.Length == rank)
        {
            for (int i = 0; i < rank; i++) { outShape[i] = (int)sizes.Get(i); scales[i] = (double)outShape[i] / x[i]; }
        }
        else if (sc is not null && sc.Length == rank)
        {
            for (int i = 0; i < rank; i++) { scales[i] = (float)sc.Get(i); outShape[i] = (int)Math.Floor(x[i] * scales[i]); }
        }
        else if (Node.Floats("scales") is { } attr && attr.Length == rank)
        {
            for (int i = 0; i < rank; i++) { scales[i] = attr[i]; outShape[i] = (int)Math.Floor(x[i] * scales[i]); }
        }
        else throw new GraphException($"{Node.Describe}: needs scales or sizes for all {rank} axes");
        return (outShape, scales);
    }

    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        if (ctx.Shape(0) is not { } x) return [null];
        try { return [Plan(x, ctx.Constant, ctx.Shapes.Length)?.Out]; }
        catch (Exception e) when (e is InvalidOperationException or GraphException) { return [null]; }
    }

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var (outShape, scales) = Plan(x.Shape, ctx.Optional, ctx.InputCount)!.Value;
        bool fromSizes = Node.OpType != "Upsample" && ctx.InputCount > 3 && ctx.Optional(3) is { Length: > 0 };
        bool linear = Node.Str("mode", "nearest") != "nearest";
        string ct = Node.Str("coordinate_transformation_mode", Node.OpType == "Upsample" ? "asymmetric" : "half_pixel");
        string nm = Node.Str("nearest_mode", Node.OpType == "Upsample" ? "floor" : "round_prefer_floor");
        var cur = x.Floats.ToArray();
        var curShape = (int[])x.Shape.Clone();
        for (int ax = 0; ax < x.Rank; ax++)
        {
            if (outShape[ax] == curShape[ax] && scales[ax] == 1) continue;
            int inDim = curShape[ax], outDim = outShape[ax];
            int outer = GraphTensor.SizeOf(curShape.AsSpan(0, ax)), inner = GraphTensor.SizeOf(curShape.AsSpan(ax + 1));
            var next = new float[outer * outDim * inner];
            for (int o = 0; o < outDim; o++)
            {
                double c = ct switch
                {
                    "half_pixel" => (o + 0.5) / scales[ax] - 0.5,
                    "pytorch_half_pixel" => outDim > 1 ? (o + 0.5) / scales[ax] - 0.5 : 0,
                    "align_corners" => outDim == 1 ? 0 : o * (inDim - 1.0) / ((fromSizes ? outDim : inDim * scales[ax]) - 1.0),
                    "tf_half_pixel_for_nn" => (o + 0.5) / scales[ax],
                    _ => o / scales[ax],
                };
                int i0, i1;
                double wgt = 0;
                if (linear)
                {
                    c = Math.Clamp(c, 0, inDim - 1);
                    i0 = (int)Math.Floor(c);
                    i1 = Math.Min(i0 + 1, inDim - 1);
                    wgt = c - i0;
                }
                else
                {
                    double f = Math.Floor(c);
                    i0 = nm switch
                    {
                        "floor" => (int)f,
                        "ceil" => (int)Math.Ceiling(c),
                        "round_prefer_ceil" => c - f == 0.5 ? (int)f + 1 : (int)Math.Round(c),
                        _ => c - f == 0.5 ? (int)f : (int)Math.Round(c),
                    };
                    i0 = Math.Clamp(i0, 0, inDim - 1);
                    i1 = i0;
                }
                for (int p = 0; p < outer; p++)
                {
                    int s0 = (p * inDim + i0) * inner, s1 = (p * inDim + i1) * inner, d = (p * outDim + o) * inner;
                    for (int q = 0; q < inner; q++)
                        next[d + q] = linear ? (float)(cur[s0 + q] * (1 - wgt) + cur[s1 + q] * wgt) : cur[s0 + q];
                }
            }
            cur = next;
            curShape[ax] = outDim;
        }
        cur.AsSpan().CopyTo(ctx.OutputF(0, outShape).Floats);
    }
}
