using Quanta.Core.ModelFiles.Onnx;

namespace Quanta.Models.Graph;

/// <summary>
/// Pattern fusions over a topologically sorted node list, applied when weights are constants and the
/// intermediate values have no other consumers (and are not graph outputs):
/// MatMul + Add(bias [N]) → MatMulAdd, then MatMulAdd + Gelu (erf) → MatMulAdd with activation "Gelu"; Add + Relu → Add with activation "Relu" (float results clamped); Conv + BatchNormalization (+ Relu) → Conv with folded weights and bias
/// (and a ReLU activation); the LayerNorm chain ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add over the last
/// axis → LayerNormalization; the GELU chain Div(√2)/Erf/Add(1)/Mul(x)/Mul(0.5) → Gelu; a residual Add (neither input
/// constant) feeding a LayerNormalization → AddLayerNormalization (domain quanta); attention scores Div(x, c) (or
/// Mul(x, 1/c)) → Add(mask) → Softmax(axis −1) → MaskedSoftmax (domain quanta, scale 1/c).
/// </summary>
internal static class GraphFusion
{
    public static List<GraphNode> Apply(List<GraphNode> nodes, Dictionary<string, GraphTensor> consts, ISet<string> outputs)
    {
        nodes = Run(nodes, consts, outputs, FuseLayerNorm);
        nodes = Run(nodes, consts, outputs, FuseGelu);
        nodes = Run(nodes, consts, outputs, FuseConvBn);
        nodes = Run(nodes, consts, outputs, FuseMatMulAdd);
        nodes = Run(nodes, consts, outputs, FuseMatMulAddGelu);
        nodes = Run(nodes, consts, outputs, FuseAddLayerNorm);
        nodes = Run(nodes, consts, outputs, FuseMaskedSoftmax);
        nodes = Run(nodes, consts, outputs, FuseAddRelu);
        return nodes;
    }

    private delegate (GraphNode New, GraphNode[] Removed)? Matcher(GraphNode start, Context ctx);

    private sealed class Context(List<GraphNode> nodes, Dictionary<string, GraphTensor> consts, ISet<string> outputs)
    {
        public Dictionary<string, GraphTensor> Consts { get; } = consts;
        private readonly Dictionary<string, List<GraphNode>> _users = Users(nodes);

        private static Dictionary<string, List<GraphNode>> Users(List<GraphNode> nodes)
        {
            var u = new Dictionary<string, List<GraphNode>>(StringComparer.Ordinal);
            foreach (var n in nodes)
                foreach (var i in n.Inputs)
                    if (i.Length > 0) { if (!u.TryGetValue(i, out var l)) u[i] = l = []; if (!l.Contains(n)) l.Add(n); }
            return u;
        }

        /// <summary>The single consumer of a value that is not a graph output, with the given op type.</summary>
        public GraphNode? Only(string value, string opType) =>
            !outputs.Contains(value) && _users.TryGetValue(value, out var l) && l.Count == 1 && l[0].OpType == opType && l[0].Domain.Length == 0 ? l[0] : null;

        public List<GraphNode> UsersOf(string value) => outputs.Contains(value) ? [] : _users.GetValueOrDefault(value) ?? [];

        public float? Scalar(string value) => Consts.TryGetValue(value, out var t) && t.Length == 1 && t.Type == TensorElementType.Float32 ? t.F![0] : null;

        /// <summary>The other input of a binary node, given one of them.</summary>
        public static string? Other(GraphNode n, string one) => n.Inputs.Length == 2 ? (n.Inputs[0] == one ? n.Inputs[1] : n.Inputs[1] == one ? n.Inputs[0] : null) : null;
    }

    private static List<GraphNode> Run(List<GraphNode> nodes, Dictionary<string, GraphTensor> consts, ISet<string> outputs, Matcher match)
    {
        var ctx = new Context(nodes, consts, outputs);
        var removed = new HashSet<GraphNode>();
        var replacement = new Dictionary<GraphNode, GraphNode>();
        foreach (var n in nodes)
        {
            if (removed.Contains(n)) continue;
            if (match(n, ctx) is not var (created, gone)) continue;
            if (gone.Any(removed.Contains)) continue;
            foreach (var g in gone) removed.Add(g);
            replacement[gone[^1]] = created;
        }
        if (removed.Count == 0) return nodes;
        var r = new List<GraphNode>();
        foreach (var n in nodes)
        {
            if (replacement.TryGetValue(n, out var c)) r.Add(c);
            else if (!removed.Contains(n)) r.Add(n);
        }
        return r;
    }

    private static OnnxAttribute IntAttr(string name, long v) => new() { Name = name, Type = OnnxAttributeType.Int, I = v };
    private static OnnxAttribute FloatAttr(string name, float v) => new() { Name = name, Type = OnnxAttributeType.Float, F = v };
    private static OnnxAttribute StrAttr(string name, string v) => new() { Name = name, Type = OnnxAttributeType.String, S = System.Text.Encoding.UTF8.GetBytes(v) };

    private static (GraphNode, GraphNode[])? FuseMatMulAdd(GraphNode mm, Context ctx)
    {
        if (mm.OpType != "MatMul" || mm.Domain.Length > 0) return null;
        if (!ctx.Consts.TryGetValue(mm.Inputs[1], out var b) || b.Rank != 2) return null;
        var add = ctx.Only(mm.Outputs[0], "Add");
        if (add is null || Context.Other(add, mm.Outputs[0]) is not { } biasName || !ctx.Consts.TryGetValue(biasName, out var bias)) return null;
        int n = b.Shape[1];
        if (bias.Type != TensorElementType.Float32 || bias.Length != n || bias.Shape.Take(bias.Rank - 1).Any(d => d != 1) || (bias.Rank > 0 && bias.Shape[^1] != n)) return null;
        string name = mm.Name + "/fused_bias";
        ctx.Consts[name] = GraphTensor.FromFloats([n], bias.Floats.ToArray());
        var node = new GraphNode(mm.Name + "+" + add.Name, "MatMulAdd", GraphSession.InternalDomain, [mm.Inputs[0], mm.Inputs[1], name], add.Outputs, []);
        return (node, [mm, add]);
    }

    private static (GraphNode, GraphNode[])? FuseMatMulAddGelu(GraphNode mm, Context ctx)
    {
        if (mm.OpType != "MatMulAdd" || mm.Domain != GraphSession.InternalDomain || mm.Attr("activation") is not null) return null;
        var gelu = ctx.Only(mm.Outputs[0], "Gelu");
        if (gelu is null || gelu.Str("approximate", "none") != "none") return null;
        var node = new GraphNode(mm.Name + "+" + gelu.Name, "MatMulAdd", GraphSession.InternalDomain, mm.Inputs, gelu.Outputs, [StrAttr("activation", "Gelu")]);
        return (node, [mm, gelu]);
    }

    private static (GraphNode, GraphNode[])? FuseAddLayerNorm(GraphNode add, Context ctx)
    {
        if (add.OpType != "Add" || add.Domain.Length > 0 || add.Inputs.Length != 2 || add.Attr("activation") is not null) return null;
        if (add.Inputs.Any(i => i.Length == 0 || ctx.Consts.ContainsKey(i))) return null; // a bias add: left to MatMulAdd
        var ln = ctx.Only(add.Outputs[0], "LayerNormalization");
        if (ln is null || ln.Inputs[0] != add.Outputs[0] || ln.Inputs.Skip(1).Contains(add.Outputs[0]) || ln.Outputs.Skip(1).Any(o => o.Length > 0)) return null;
        string[] inputs = ln.Inputs.Length > 2 && ln.Inputs[2].Length > 0 ? [add.Inputs[0], add.Inputs[1], ln.Inputs[1], ln.Inputs[2]] : [add.Inputs[0], add.Inputs[1], ln.Inputs[1]];
        var attrs = ln.Attributes.Where(a => a.Name is "axis" or "epsilon").ToArray();
        var node = new GraphNode(add.Name + "+" + ln.Name, "AddLayerNormalization", GraphSession.InternalDomain, inputs, [ln.Outputs[0]], attrs);
        return (node, [add, ln]);
    }

    private static (GraphNode, GraphNode[])? FuseMaskedSoftmax(GraphNode scale, Context ctx)
    {
        if (scale.OpType is not ("Div" or "Mul") || scale.Domain.Length > 0 || scale.Inputs.Length != 2) return null;
        if (ctx.Scalar(scale.Inputs[1]) is not { } c || c == 0 || !float.IsFinite(c)) return null;
        float factor = scale.OpType == "Div" ? 1f / c : c;
        var add = ctx.Only(scale.Outputs[0], "Add");
        if (add is null || add.Attr("activation") is not null || Context.Other(add, scale.Outputs[0]) is not { } mask || mask == scale.Outputs[0]) return null;
        var softmax = ctx.Only(add.Outputs[0], "Softmax");
        // axis −1 written out: the last axis under every opset's definition.
        if (softmax is null || softmax.Attr("axis") is null || softmax.Int("axis", 0) != -1) return null;
        var node = new GraphNode(scale.Name + "/MaskedSoftmax", "MaskedSoftmax", GraphSession.InternalDomain, [scale.Inputs[0], mask], softmax.Outputs,
            [FloatAttr("scale", factor)]);
        return (node, [scale, add, softmax]);
    }

    private static (GraphNode, GraphNode[])? FuseAddRelu(GraphNode add, Context ctx)
    {
        if (add.OpType != "Add" || add.Domain.Length > 0 || add.Inputs.Length != 2 || add.Attr("activation") is not null) return null;
        var relu = ctx.Only(add.Outputs[0], "Relu");
        if (relu is null) return null;
        var node = new GraphNode(add.Name + "+" + relu.Name, "Add", "", add.Inputs, relu.Outputs, [StrAttr("activation", "Relu")]);
        return (node, [add, relu]);
    }

    private static (GraphNode, GraphNode[])? FuseConvBn(GraphNode conv, Context ctx)
    {
        if (conv.OpType != "Conv" || conv.Domain.Length > 0) return null;
        if (!ctx.Consts.TryGetValue(conv.Inputs[1], out var w) || w.Rank != 4) return null;
        GraphTensor? b = null;
        if (conv.Inputs.Length > 2 && conv.Inputs[2].Length > 0 && !ctx.Consts.TryGetValue(conv.Inputs[2], out b)) return null;
        var bn = ctx.Only(conv.Outputs[0], "BatchNormalization");
        if (bn is null || bn.Outputs.Skip(1).Any(o => o.Length > 0) || bn.Int("training_mode", 0) != 0 || bn.Inputs.Length < 5) return null;
        var p = new GraphTensor[4];
        for (int i = 0; i < 4; i++) if (!ctx.Consts.TryGetValue(bn.Inputs[i + 1], out p[i]!)) return null;
        int m = w.Shape[0], per = w.Length / m;
        if (p.Any(t => t.Length != m)) return null;
        float eps = bn.Float("epsilon", 1e-5f);
        var nw = new float[w.Length];
        var nb = new float[m];
        for (int oc = 0; oc < m; oc++)
        {
            float s = p[0].F![oc] / MathF.Sqrt(p[3].F![oc] + eps);
            for (int i = 0; i < per; i++) nw[oc * per + i] = w.F![oc * per + i] * s;
            nb[oc] = ((b?.F![oc] ?? 0) - p[2].F![oc]) * s + p[1].F![oc];
        }
        string wn = conv.Name + "/fused_W", bnName = conv.Name + "/fused_B";
        ctx.Consts[wn] = GraphTensor.FromFloats((int[])w.Shape.Clone(), nw);
        ctx.Consts[bnName] = GraphTensor.FromFloats([m], nb);
        var attrs = conv.Attributes.Where(a => a.Name != "activation").ToList();
        var relu = ctx.Only(bn.Outputs[0], "Relu");
        GraphNode[] gone = relu is null ? [conv, bn] : [conv, bn, relu];
        if (relu is not null) attrs.Add(StrAttr("activation", "Relu"));
        var node = new GraphNode(string.Join("+", gone.Select(g => g.Name)), "Conv", "", [conv.Inputs[0], wn, bnName], (relu ?? bn).Outputs, attrs);
        return (node, gone);
    }

    private static bool LastAxis(GraphNode reduce, Context ctx)
    {
        long[]? axes = reduce.Ints("axes");
        if (reduce.Inputs.Length > 1 && reduce.Inputs[1].Length > 0)
            axes = ctx.Consts.TryGetValue(reduce.Inputs[1], out var t) ? Broadcast.ToLongs(t) : null;
        return axes is [-1] && reduce.Int("keepdims", 1) == 1;
    }

    private static (GraphNode, GraphNode[])? FuseLayerNorm(GraphNode mean, Context ctx)
    {
        if (mean.OpType != "ReduceMean" || mean.Domain.Length > 0 || !LastAxis(mean, ctx)) return null;
        string x = mean.Inputs[0];
        var sub = ctx.Only(mean.Outputs[0], "Sub");
        if (sub is null || sub.Inputs[0] != x || sub.Inputs[1] != mean.Outputs[0]) return null;
        var users = ctx.UsersOf(sub.Outputs[0]);
        var pow = users.FirstOrDefault(u => u.OpType == "Pow");
        var div = users.FirstOrDefault(u => u.OpType == "Div");
        if (users.Count != 2 || pow is null || div is null || pow.Inputs[0] != sub.Outputs[0] || ctx.Scalar(pow.Inputs[1]) != 2f) return null;
        var mean2 = ctx.Only(pow.Outputs[0], "ReduceMean");
        if (mean2 is null || !LastAxis(mean2, ctx)) return null;
        var addEps = ctx.Only(mean2.Outputs[0], "Add");
        if (addEps is null || Context.Other(addEps, mean2.Outputs[0]) is not { } epsName || ctx.Scalar(epsName) is not { } eps) return null;
        var sqrt = ctx.Only(addEps.Outputs[0], "Sqrt");
        if (sqrt is null || ctx.Only(sqrt.Outputs[0], "Div") != div || div.Inputs[0] != sub.Outputs[0] || div.Inputs[1] != sqrt.Outputs[0]) return null;
        var mul = ctx.Only(div.Outputs[0], "Mul");
        if (mul is null || Context.Other(mul, div.Outputs[0]) is not { } gamma || !ctx.Consts.TryGetValue(gamma, out var g) || g.Rank > 1) return null;
        var addB = ctx.Only(mul.Outputs[0], "Add");
        if (addB is null || Context.Other(addB, mul.Outputs[0]) is not { } beta || !ctx.Consts.TryGetValue(beta, out var bt) || bt.Rank > 1) return null;
        var node = new GraphNode(mean.Name + "/LayerNormalization", "LayerNormalization", "", [x, gamma, beta], addB.Outputs,
            [IntAttr("axis", -1), FloatAttr("epsilon", eps)]);
        return (node, [mean, sub, pow, mean2, addEps, sqrt, div, mul, addB]);
    }

    private static (GraphNode, GraphNode[])? FuseGelu(GraphNode scale, Context ctx)
    {
        // x / √2 (or x · 1/√2) → Erf → + 1 → · x → · 0.5   (or x · 0.5 first, then · (erf + 1))
        if (scale.Domain.Length > 0 || scale.Inputs.Length != 2) return null;
        string x = scale.Inputs[0];
        float? c = ctx.Scalar(scale.Inputs[1]);
        bool ok = scale.OpType == "Div" && c is { } d && MathF.Abs(d - MathF.Sqrt(2)) < 1e-3f
               || scale.OpType == "Mul" && c is { } m && MathF.Abs(m - 1 / MathF.Sqrt(2)) < 1e-3f;
        if (!ok) return null;
        var erf = ctx.Only(scale.Outputs[0], "Erf");
        if (erf is null) return null;
        var add = ctx.Only(erf.Outputs[0], "Add");
        if (add is null || Context.Other(add, erf.Outputs[0]) is not { } one || ctx.Scalar(one) != 1f) return null;
        var mul1 = ctx.Only(add.Outputs[0], "Mul");
        if (mul1 is null || Context.Other(mul1, add.Outputs[0]) is not { } other) return null;
        GraphNode[] gone;
        string output;
        if (other == x)
        {
            var half = ctx.Only(mul1.Outputs[0], "Mul");
            if (half is null || Context.Other(half, mul1.Outputs[0]) is not { } h || ctx.Scalar(h) != 0.5f) return null;
            gone = [scale, erf, add, mul1, half];
            output = half.Outputs[0];
        }
        else
        {
            // other = x · 0.5 produced by a Mul whose only consumer is mul1
            var xHalf = ctx.UsersOf(x).FirstOrDefault(u => u.OpType == "Mul" && u.Outputs[0] == other);
            if (xHalf is null || ctx.Only(other, "Mul") != mul1 || Context.Other(xHalf, x) is not { } h || ctx.Scalar(h) != 0.5f) return null;
            gone = [xHalf, scale, erf, add, mul1];
            output = mul1.Outputs[0];
        }
        var node = new GraphNode(scale.Name + "/Gelu", "Gelu", "", [x], [output], []);
        return (node, gone);
    }
}
