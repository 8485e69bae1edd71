namespace Quanta.Models.Graph;

/// <summary>
/// Liveness-based buffer assignment: intermediate values whose lifetimes (producer index .. last consumer index in
/// execution order) do not overlap share a slot. Graph outputs are never pooled. A slot's storage grows to its
/// largest value; with static shapes known, a free slot whose planned size fits best is preferred.
/// </summary>
internal sealed class BufferPlan
{
    public BufferPlan(IReadOnlyList<GraphNode> order, ISet<string> graphOutputs, IReadOnlyDictionary<string, int[]?> shapes)
    {
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < order.Count; i++)
            foreach (var v in order[i].Inputs) if (v.Length > 0) lastUse[v] = i;
        var free = new List<int>();
        var planned = new List<long>();
        for (int i = 0; i < order.Count; i++)
        {
            foreach (var v in order[i].Outputs)
            {
                if (v.Length == 0 || graphOutputs.Contains(v)) continue;
                long size = shapes.TryGetValue(v, out var s) && s is not null ? GraphTensor.SizeOf(s) : -1;
                int pick = -1;
                for (int f = 0; f < free.Count; f++)
                {
                    if (pick < 0) { pick = f; continue; }
                    long cand = planned[free[f]], best = planned[free[pick]];
                    // Prefer the smallest slot that fits, else the largest (least growth).
                    bool candFits = size >= 0 && cand >= size, bestFits = size >= 0 && best >= size;
                    if (candFits && (!bestFits || cand < best) || !candFits && !bestFits && cand > best) pick = f;
                }
                int slot;
                if (pick >= 0) { slot = free[pick]; free.RemoveAt(pick); }
                else { slot = planned.Count; planned.Add(0); }
                planned[slot] = Math.Max(planned[slot], size);
                Slot[v] = slot;
            }
            foreach (var v in order[i].Outputs)
                if (v.Length > 0 && Slot.TryGetValue(v, out int s) && !lastUse.ContainsKey(v)) free.Add(s);
            foreach (var v in order[i].Inputs)
                if (v.Length > 0 && lastUse.TryGetValue(v, out int last) && last == i && Slot.TryGetValue(v, out int s) && !free.Contains(s)) free.Add(s);
            // A value consumed twice by the same node is released once (guarded by Contains above).
        }
        SlotCount = planned.Count;
    }

    /// <summary>Value name to slot index for pooled values.</summary>
    public Dictionary<string, int> Slot { get; } = new(StringComparer.Ordinal);

    public int SlotCount { get; }
}
