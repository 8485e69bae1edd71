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
/// score tensor's trips through memory disappear. When Q, K and V are biased products (MatMulAdd) of one input with
/// [K, H·D] weights, used only by the head reshapes, the three become one product over the concatenated weights and the
/// Attention node reads Q, K and V as column blocks of its [B, T, 3·H·D] result (inputs QKV, mask). Every intermediate
/// must have that single consumer and not be a graph output; anything else is left as it is. Projections are not merged
/// while a calibration observer watches the nodes (the quantizer must see each), nor once they run in INT8.
/// </summary>
internal static class AttentionFusion
{
    public static List<GraphNode> Apply(List<GraphNode> order, Dictionary<string, int[]?> shapes, ISet<string> outputs,
        Dictionary<string, GraphTensor> consts, Dictionary<string, (GraphNode Node, GraphTensor Weight, GraphTensor Bias)> qkvCache, bool mergeProjections)
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
        var before = new Dictionary<GraphNode, GraphNode>(); // a merged projection, placed where its first part was
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
            string[] inputs = [q, k, v, ms.Inputs[1]];
            // Q, K and V projected from one input by three biased products: one product over the concatenated weights
            // [K, 3·H·D] instead (one dispatch, wider columns to share), its output read by the Attention in place.
            if (mergeProjections && Projection(q, rq) is { } pq && Projection(k, rk) is { } pk && Projection(v, rv) is { } pvn &&
                pq.Inputs[0] == pk.Inputs[0] && pq.Inputs[0] == pvn.Inputs[0] && !removed.Contains(pq) && !removed.Contains(pk) && !removed.Contains(pvn) &&
                Merged(pq, pk, pvn) is var (merged, weight, bias))
            {
                consts[merged.Inputs[1]] = weight;
                consts[merged.Inputs[2]] = bias;
                shapes[merged.Outputs[0]] = [sq[0], sq[1], 3 * sq[2]];
                removed.Add(pq);
                removed.Add(pk);
                removed.Add(pvn);
                int first = Math.Min(order.IndexOf(pq), Math.Min(order.IndexOf(pk), order.IndexOf(pvn)));
                before[order[first]] = merged;
                inputs = [merged.Outputs[0], ms.Inputs[1]];
            }
            var node = new GraphNode(ms.Name + "/Attention", "Attention", GraphSession.InternalDomain, inputs, [ro.Outputs[0]],
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
            if (before.TryGetValue(n, out var mp)) r.Add(mp);
            if (replacement.TryGetValue(n, out var c)) r.Add(c);
            else if (!removed.Contains(n)) r.Add(n);
        }
        return r;

        // The biased product (MatMulAdd without activation, constant [K, N] weight and [N] bias) that makes `value`, when
        // `value` feeds only the head reshape.
        GraphNode? Projection(string value, GraphNode reshape)
        {
            if (From(value, "MatMulAdd", GraphSession.InternalDomain) is not { } p || !Single(value, reshape) || p.Attr("activation") is not null) return null;
            if (p.Operator is not Operators.MatMul) return null; // e.g. quantized to INT8: stays as it is
            if (p.Inputs.Length != 3 || !consts.TryGetValue(p.Inputs[1], out var w) || w.Rank != 2 || w.Type != TensorElementType.Float32) return null;
            if (!consts.TryGetValue(p.Inputs[2], out var b) || b.Type != TensorElementType.Float32 || b.Length != w.Shape[1]) return null;
            return p;
        }

        // One MatMulAdd over [Wq | Wk | Wv] and [bq | bk | bv], cached per session by the three weights' names so that every
        // plan shares the node (its operator packs the merged weight once).
        (GraphNode, GraphTensor, GraphTensor)? Merged(GraphNode pq, GraphNode pk, GraphNode pv)
        {
            string key = string.Join("|", pq.Inputs[0], pq.Inputs[1], pq.Inputs[2], pk.Inputs[1], pk.Inputs[2], pv.Inputs[1], pv.Inputs[2]);
            if (qkvCache.TryGetValue(key, out var hit)) return hit;
            var ws = new[] { consts[pq.Inputs[1]], consts[pk.Inputs[1]], consts[pv.Inputs[1]] };
            var bs = new[] { consts[pq.Inputs[2]], consts[pk.Inputs[2]], consts[pv.Inputs[2]] };
            int kdim = ws[0].Shape[0], n = ws[0].Shape[1];
            if (ws.Any(w => w.Shape[0] != kdim || w.Shape[1] != n)) return null;
            var wm = new float[kdim * 3 * n];
            var bm = new float[3 * n];
            for (int part = 0; part < 3; part++)
            {
                var src = ws[part].Floats;
                for (int row = 0; row < kdim; row++) src.Slice(row * n, n).CopyTo(wm.AsSpan(row * 3 * n + part * n, n));
                bs[part].Floats.CopyTo(bm.AsSpan(part * n, n));
            }
            string name = pq.Name + "/qkv";
            var node = new GraphNode(name, "MatMulAdd", GraphSession.InternalDomain, [pq.Inputs[0], name + "/weight", name + "/bias"], [name], []);
            var made = (node, GraphTensor.FromFloats([kdim, 3 * n], wm), GraphTensor.FromFloats([3 * n], bm));
            qkvCache[key] = made;
            return made;
        }

        // A head view: value = Transpose(perm)(Reshape(x)), each used once, by `user`.
        (GraphNode T, GraphNode R, string X)? Head(string value, GraphNode user, long[] perm)
        {
            if (From(value, "Transpose") is not { } t || !Single(value, user) || !Perm(t, perm)) return null;
            if (From(t.Inputs[0], "Reshape") is not { } rs || !Single(t.Inputs[0], t)) return null;
            return (t, rs, rs.Inputs[0]);
        }
    }
}
