using System.Runtime.Intrinsics;

namespace Quanta.Models.Graph.Operators;

/// <summary>
/// ONNX MaxPool and AveragePool, 2-D: kernel_shape, strides, pads, dilations, auto_pad, ceil_mode; AveragePool's
/// count_include_pad. Undilated pools spread their (image, channel) planes over <see cref="GraphThreads"/> (<see cref="RowParallel"/>). MaxPool's Indices output and storage_order are not supported.
/// </summary>
internal sealed class Pool(GraphNode node) : GraphOperator(node)
{
    private ConvGeometry Geometry(int h, int w)
    {
        var k = Node.Ints("kernel_shape") ?? throw new GraphException($"{Node.Describe}: no kernel_shape");
        if (k.Length != 2) throw Node.Unsupported($"a {k.Length}-D pool");
        return ConvGeometry.Resolve(Node, h, w, (int)k[0], (int)k[1], Node.Int("ceil_mode", 0) != 0);
    }

    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        if (ctx.Shape(0) is not { Length: 4 } x) return new int[]?[Node.Outputs.Length];
        var g = Geometry(x[2], x[3]);
        return [[x[0], x[1], g.OH, g.OW]];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Run(OpContext ctx)
    {
        if (ctx.Wants(1)) throw Node.Unsupported("the Indices output");
        var x = ctx.Input(0);
        if (x.Rank != 4) throw Node.Unsupported($"a {x.Rank - 2}-D pool");
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        var g = Geometry(h, w);
        var y = ctx.OutputF(0, [n, c, g.OH, g.OW]);
        bool max = Node.OpType == "MaxPool";
        bool includePad = Node.Int("count_include_pad", 0) != 0;
        var fx = x.F!; var fy = y.F!;
        if (g.DH == 1 && g.DW == 1)
        {
            RowParallel.For(n * c, h * w, new UndilatedPlanes { X = fx, Y = fy, H = h, W = w, G = g, Max = max, IncludePad = includePad });
            return;
        }
        for (int p = 0; p < n * c; p++)
        {
            int xo = p * h * w, yo = p * g.OH * g.OW;
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    float acc = max ? float.NegativeInfinity : 0;
                    int count = 0, padded = 0;
                    for (int ki = 0; ki < g.KH; ki++)
                    {
                        int ih = oh * g.SH - g.PadTop + ki * g.DH;
                        for (int kj = 0; kj < g.KW; kj++)
                        {
                            int iw = ow * g.SW - g.PadLeft + kj * g.DW;
                            if (ih >= -g.PadTop && ih < h + g.PadBottom && iw >= -g.PadLeft && iw < w + g.PadRight) padded++;
                            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                            float v = fx[xo + ih * w + iw];
                            acc = max ? Math.Max(acc, v) : acc + v;
                            count++;
                        }
                    }
                    fy[yo + oh * g.OW + ow] = max ? acc : acc / Math.Max(includePad ? padded : count, 1);
                }
        }
    }

    // Dilation 1, one (image, channel) plane per row of the parallel loop.
    private struct UndilatedPlanes : IRowBody
    {
        public float[] X, Y;
        public int H, W;
        public ConvGeometry G;
        public bool Max, IncludePad;

        public readonly void Row(int r)
        {
            if (Max) UndilatedMax(X, Y, r, H, W, G);
            else Undilated(X, Y, r, H, W, G, Max, IncludePad);
        }
    }

    // MaxPool, dilation 1: per output row, the element-wise maximum of the window's (clipped) input rows first, then
    // each output the maximum of its (clipped) columns of that row: KH·W vector steps and KW scalar steps per output row
    // and column instead of KH·KW per output. Same values as Undilated (maximum is exact, and order-free).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void UndilatedMax(float[] fx, float[] fy, int p, int h, int w, ConvGeometry g)
    {
        int xo = p * h * w, yo = p * g.OH * g.OW;
        Span<float> vm = w <= 4096 ? stackalloc float[w] : new float[w];
        for (int oh = 0; oh < g.OH; oh++)
        {
            int hs = oh * g.SH - g.PadTop;
            int h0 = Math.Max(hs, 0), h1 = Math.Min(hs + g.KH, h);
            var yrow = fy.AsSpan(yo + oh * g.OW, g.OW);
            if (h1 <= h0) { yrow.Fill(float.NegativeInfinity); continue; }
            fx.AsSpan(xo + h0 * w, w).CopyTo(vm);
            for (int ih = h0 + 1; ih < h1; ih++) MaxInto(vm, fx.AsSpan(xo + ih * w, w));
            for (int ow = 0; ow < g.OW; ow++)
            {
                int ws = ow * g.SW - g.PadLeft;
                int w0 = Math.Max(ws, 0), w1 = Math.Min(ws + g.KW, w);
                float acc = float.NegativeInfinity;
                for (int iw = w0; iw < w1; iw++) acc = Math.Max(acc, vm[iw]);
                yrow[ow] = acc;
            }
        }
    }

    // dst[i] = max(dst[i], src[i]) (Vector512 → Vector256 → Vector128 → scalar; the same IEEE maximum as Math.Max).
    private static void MaxInto(Span<float> dst, ReadOnlySpan<float> src)
    {
        ref float d = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dst);
        ref float a = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(src);
        int n = dst.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16) Vector512.Max(Vector512.LoadUnsafe(ref d, (nuint)i), Vector512.LoadUnsafe(ref a, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8) Vector256.Max(Vector256.LoadUnsafe(ref d, (nuint)i), Vector256.LoadUnsafe(ref a, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        if (Vector128.IsHardwareAccelerated)
            for (; i + 4 <= n; i += 4) Vector128.Max(Vector128.LoadUnsafe(ref d, (nuint)i), Vector128.LoadUnsafe(ref a, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        for (; i < n; i++) dst[i] = Math.Max(dst[i], src[i]);
    }

    // Dilation 1: the window's rows and columns clipped to the image once per output, no per-tap bounds checks.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Undilated(float[] fx, float[] fy, int p, int h, int w, ConvGeometry g, bool max, bool includePad)
    {
        int xo = p * h * w, yo = p * g.OH * g.OW;
        for (int oh = 0; oh < g.OH; oh++)
        {
            int hs = oh * g.SH - g.PadTop, he = hs + g.KH;
            int ph = Math.Min(he, h + g.PadBottom) - Math.Max(hs, -g.PadTop);
            int h0 = Math.Max(hs, 0), h1 = Math.Min(he, h);
            for (int ow = 0; ow < g.OW; ow++)
            {
                int ws = ow * g.SW - g.PadLeft, we = ws + g.KW;
                int w0 = Math.Max(ws, 0), w1 = Math.Min(we, w);
                float acc = max ? float.NegativeInfinity : 0;
                for (int ih = h0; ih < h1; ih++)
                {
                    int row = xo + ih * w;
                    if (max) for (int iw = w0; iw < w1; iw++) acc = Math.Max(acc, fx[row + iw]);
                    else for (int iw = w0; iw < w1; iw++) acc += fx[row + iw];
                }
                if (max) fy[yo + oh * g.OW + ow] = acc;
                else
                {
                    int count = Math.Max(h1 - h0, 0) * Math.Max(w1 - w0, 0);
                    int padded = Math.Max(ph, 0) * Math.Max(Math.Min(we, w + g.PadRight) - Math.Max(ws, -g.PadLeft), 0);
                    fy[yo + oh * g.OW + ow] = acc / Math.Max(includePad ? padded : count, 1);
                }
            }
        }
    }
}
