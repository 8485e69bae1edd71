namespace Quanta.Models.Graph.Operators;

/// <summary>2-D window geometry shared by Conv and the pools: kernel, strides, dilations, pads (auto_pad resolved), output size.</summary>
internal readonly record struct ConvGeometry(int KH, int KW, int SH, int SW, int DH, int DW, int PadTop, int PadLeft, int PadBottom, int PadRight, int OH, int OW)
{
    public static ConvGeometry Resolve(GraphNode node, int h, int w, int kh, int kw, bool ceilMode = false)
    {
        var s = node.Ints("strides") ?? [1, 1];
        var d = node.Ints("dilations") ?? [1, 1];
        var p = node.Ints("pads") ?? [0, 0, 0, 0];
        if (s.Length != 2 || d.Length != 2 || p.Length != 4) throw node.Unsupported("a window that is not 2-D");
        string auto = node.Str("auto_pad", "NOTSET");
        int pt = (int)p[0], pl = (int)p[1], pb = (int)p[2], pr = (int)p[3];
        int oh, ow;
        int ekh = (int)d[0] * (kh - 1) + 1, ekw = (int)d[1] * (kw - 1) + 1;
        if (auto is "SAME_UPPER" or "SAME_LOWER")
        {
            oh = (int)((h + s[0] - 1) / s[0]); ow = (int)((w + s[1] - 1) / s[1]);
            int th = Math.Max((oh - 1) * (int)s[0] + ekh - h, 0), tw = Math.Max((ow - 1) * (int)s[1] + ekw - w, 0);
            if (auto == "SAME_UPPER") { pt = th / 2; pl = tw / 2; } else { pt = th - th / 2; pl = tw - tw / 2; }
            pb = th - pt; pr = tw - pl;
        }
        else
        {
            if (auto == "VALID") pt = pl = pb = pr = 0;
            else if (auto != "NOTSET") throw node.Unsupported($"auto_pad '{auto}'");
            oh = Out(h + pt + pb - ekh, (int)s[0], ceilMode, h + pt);
            ow = Out(w + pl + pr - ekw, (int)s[1], ceilMode, w + pl);
        }
        if (oh <= 0 || ow <= 0) throw new GraphException($"{node.Describe}: window larger than the padded input");
        return new ConvGeometry(kh, kw, (int)s[0], (int)s[1], (int)d[0], (int)d[1], pt, pl, pb, pr, oh, ow);
    }

    private static int Out(int span, int stride, bool ceil, int lastStartLimit)
    {
        if (span < 0) return 0;
        int o = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
        if (ceil && (o - 1) * stride >= lastStartLimit) o--;
        return o;
    }
}
