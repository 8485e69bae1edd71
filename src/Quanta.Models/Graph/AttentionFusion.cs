namespace Quanta.Models.Graph;

/// <summary>
/// Plan-time fusion of multi-head self-attention, run on a plan's nodes after folding (when every shape is known and the
/// Shape → Concat subgraphs that build the head reshapes have become constants):
/// <code>
/// Q, K, V [B, T, H·D] → Reshape [B, T, H, D] → Transpose (Q, V: 0,2,1,3; K: 0,2,3,1)
/// MatMul(Q', K') → MaskedSoftmax(·, mask) → MatMul(·, V') → Transpose(0,2,1,3) → Reshape [B, T, H·D]
/// </code>
/// becomes one internal "Attention" node (domain quanta; inputs Q, K, V, mask; attributes heads, scale) whose products
/// read each head in place through strides, so the eight copies (four reshapes, four transposes) and the [B, H, T, T]
/// score tensor's trips through memory disappear. Every intermediate must have that single consumer and not be a graph
/// output; anything else is left as it is.
/// </summary>
internal static class AttentionFusion
{
    public static List<GraphNode> Apply(List<GraphNode> order, IReadOnlyDictionary<string, int[]?> shapes, ISet<string> outputs)
    {
        var producer = new Dictionary<string, GraphNode>(StringComparer.Ordinal);
        var users = new Dictionary<string, List<GraphNode>>(StringComparer.Ordinal);
        foreach (var n in order)
        {
            foreach (var o in n.Outputs) if (o.Length > 0) producer[o] = n;
            foreach (var i in n.Inputs)
                if (i.Length > 0) { if (!users.TryGetValue(i, out var l)) users[i] = l = []; if (!l.Contains(n)) l.Add(n); }
        }
        GraphNode? From(string value, string op, string domain = "") =>
            producer.TryGetValue(value, out var p) && p.OpType == op && p.Domain == domain ? p : null;
        bool Single(string value, GraphNode user) =>
            !outputs.Contains(value) && users.TryGetValue(value, out var l) && l.Count == 1 && l[0] == user;
        GraphNode? OnlyUser(string value, string op) =>
            !outputs.Contains(value) && users.TryGetValue(value, out var l) && l.Count == 1 && l[0].OpType == op && l[0].Domain.Length == 0 ? l[0] : null;
        int[]? Shape(string v) => shapes.TryGetValue(v, out var s) ? s : null;
        static bool Perm(GraphNode t, params long[] p) => t.Ints("perm") is { } q && q.AsSpan().SequenceEqual(p);

        var removed = new HashSet<GraphNode>();
        var replacement = new Dictionary<GraphNode, GraphNode>();
        foreach (var ms in order)
        {
            if (ms.OpType != "MaskedSoftmax" || ms.Domain != GraphSession.InternalDomain || removed.Contains(ms)) continue;
            // scores = MatMul(Transpose(Reshape(Q)), Transpose(Reshape(K))), used only by the softmax
            if (From(ms.Inputs[0], "MatMul") is not { } qk || !Single(ms.Inputs[0], ms) || ms.Inputs[1] == ms.Inputs[0]) continue;
            if (OnlyUser(ms.Outputs[0], "MatMul") is not { } pv || pv.Inputs[0] != ms.Outputs[0] || pv.Inputs[1] == ms.Outputs[0]) continue;
            if (Head(qk.Inputs[0], qk, [0, 2, 1, 3]) is not var (tq, rq, q) || Head(qk.Inputs[1], qk, [0, 2, 3, 1]) is not var (tk, rk, k)) continue;
            if (Head(pv.Inputs[1], pv, [0, 2, 1, 3]) is not var (tv, rv, v)) continue;
            if (OnlyUser(pv.Outputs[0], "Transpose") is not { } to || !Perm(to, 0, 2, 1, 3) || OnlyUser(to.Outputs[0], "Reshape") is not { } ro) continue;
            // shapes: Q, K, V and the result [B, T, H·D]; heads [B, T, H, D]
            if (Shape(q) is not { Length: 3 } sq || Shape(rq.Outputs[0]) is not { Length: 4 } h4 || Shape(ro.Outputs[0]) is not { } so) continue;
            if (h4[0] != sq[0] || h4[1] != sq[1] || h4[2] * h4[3] != sq[2] || h4[2] < 1) continue;
            if (Shape(k) is not { } sk || !sk.AsSpan().SequenceEqual(sq) || Shape(v) is not { } sv || !sv.AsSpan().SequenceEqual(sq) || !so.AsSpan().SequenceEqual(sq)) continue;
            if (Shape(rk.Outputs[0]) is not { } k4 || !k4.AsSpan().SequenceEqual(h4) || Shape(rv.Outputs[0]) is not { } v4 || !v4.AsSpan().SequenceEqual(h4)) continue;
            // the mask must broadcast to the scores [B, H, T, T] without widening them
            if (Shape(ms.Inputs[1]) is not { } sm || sm.Length > 4) continue;
            int[] scores = [sq[0], h4[2], sq[1], sq[1]];
            bool fits = true;
            for (int i = 0; i < sm.Length; i++) fits &= sm[^(i + 1)] == 1 || sm[^(i + 1)] == scores[^(i + 1)];
            if (!fits) continue;
            GraphNode[] gone = [rq, tq, rk, tk, rv, tv, qk, ms, pv, to, ro];
            if (gone.Any(removed.Contains)) continue;
            var node = new GraphNode(ms.Name + "/Attention", "Attention", GraphSession.InternalDomain, [q, k, v, ms.Inputs[1]], [ro.Outputs[0]],
            [
                new Quanta.Core.ModelFiles.Onnx.OnnxAttribute { Name = "heads", Type = Quanta.Core.ModelFiles.Onnx.OnnxAttributeType.Int, I = h4[2] },
                new Quanta.Core.ModelFiles.Onnx.OnnxAttribute { Name = "scale", Type = Quanta.Core.ModelFiles.Onnx.OnnxAttributeType.Float, F = ms.Float("scale", 1f) },
            ]);
            foreach (var g in gone) removed.Add(g);
            replacement[ro] = node;
        }
        if (removed.Count == 0) return order;
        var r = new List<GraphNode>(order.Count);
        foreach (var n in order)
        {
            if (replacement.TryGetValue(n, out var c)) r.Add(c);
            else if (!removed.Contains(n)) r.Add(n);
        }
        return r;

        // A head view: value = Transpose(perm)(Reshape(x)), each used once, by `user`.
        (GraphNode T, GraphNode R, string X)? Head(string value, GraphNode user, long[] perm)
        {
            if (From(value, "Transpose") is not { } t || !Single(value, user) || !Perm(t, perm)) return null;
            if (From(t.Inputs[0], "Reshape") is not { } rs || !Single(t.Inputs[0], t)) return null;
            return (t, rs, rs.Inputs[0]);
        }
    }
}
