using Quanta.Core.Formats;

namespace Quanta.Models.Conversion;

/// <summary>
/// llama-quantize's choice of a type for each tensor (llama.cpp src/llama-quant.cpp, without importance matrix, for
/// the dense non-IQ targets of <see cref="GgufQuantType"/>):
/// <list type="bullet">
/// <item>Only tensors of 2+ dims whose name ends in "weight", not "_norm.weight", "ffn_gate_inp", "pos_embd",
/// "token_types" or "ssm_conv1d", are quantized; others are copied.</item>
/// <item>For block-quantized targets: output.weight (or token_embd.weight when there is no output.weight) becomes
/// Q6_K unless the target is Q8_0 (Q8_0 when its rows do not divide the default block size).
/// attn_v: Q2_K → Q4_K when n_head/n_head_kv ≥ 4 else Q3_K; Q4_K_M/Q5_K_M → Q6_K on "more bits" layers;
/// Q4_K_S → Q5_K for the first 4. ffn_down: Q2_K → Q3_K; Q4_K_M/Q5_K_M → Q6_K on "more bits" layers; Q4_K_S →
/// Q5_K for the first n/8. attn_output: Q2_K → Q3_K. "More bits" layer i of n: i &lt; n/8, i ≥ 7n/8 or (i − n/8) mod 3 = 2.
/// Counters run over tensors in name order (llama-quantize walks a std::map), the ffn_down count is the block count.</item>
/// <item>Rows that do not divide the chosen block size fall back: Q2_K/Q3_K → Q4_0, Q4_K → Q5_0, Q5_K → Q5_1,
/// Q6_K → Q8_0, then F16 when even that does not divide. Types llama-quantize has no fallback for (Q4_0, Q8_0, ...)
/// go to F16 here where llama-quantize stops with an error.</item>
/// </list>
/// </summary>
public sealed class GgufQuantizationRules
{
    private readonly GgufQuantType _target;
    private readonly int _layers, _gqa, _attnV;
    private readonly bool _tied;
    private int _iAttnV, _iFfnDown;

    /// <summary>Rules for a model of <paramref name="layers"/> blocks whose tensors are <paramref name="tensorNames"/>.</summary>
    public GgufQuantizationRules(GgufQuantType target, IEnumerable<string> tensorNames, int layers, int heads, int kvHeads)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(tensorNames);
        _target = target;
        _layers = layers;
        _gqa = kvHeads > 0 ? heads / kvHeads : 1;
        var names = tensorNames.ToList();
        _attnV = names.Count(n => n.Contains("attn_v.weight", StringComparison.Ordinal) || n.Contains("attn_qkv.weight", StringComparison.Ordinal));
        _tied = !names.Contains("output.weight");
    }

    /// <summary>Whether llama-quantize would quantize a tensor of this name and rank at all.</summary>
    public static bool AllowsQuantization(string name, int rank)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (rank < 2 || !name.EndsWith("weight", StringComparison.Ordinal)) return false;
        foreach (string skip in (string[])["_norm.weight", "ffn_gate_inp.weight", "ssm_conv1d", "attn_rel_b.weight"])
            if (name.Contains(skip, StringComparison.Ordinal)) return false;
        return name is not ("position_embd.weight" or "token_types.weight");
    }

    /// <summary>
    /// The type for each tensor, in the order llama-quantize decides them (sorted by name, ordinal). Keys are the names,
    /// values the new type or the current one when the tensor is copied.
    /// </summary>
    public static Dictionary<string, GgmlType> Plan(GgufQuantType target, IReadOnlyList<(string Name, int Rank, long RowLength, GgmlType Type)> tensors,
        int layers, int heads, int kvHeads)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var rules = new GgufQuantizationRules(target, tensors.Select(t => t.Name), layers, heads, kvHeads);
        var plan = new Dictionary<string, GgmlType>(StringComparer.Ordinal);
        foreach (var t in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
            plan[t.Name] = AllowsQuantization(t.Name, t.Rank) ? rules.Choose(t.Name, t.RowLength) : t.Type;
        return plan;
    }

    /// <summary>Chooses the type of the next quantizable tensor (call in name order: the attn_v/ffn_down counters advance).</summary>
    public GgmlType Choose(string name, long rowLength)
    {
        ArgumentNullException.ThrowIfNull(name);
        GgmlType t = _target.DefaultType;
        if (!_target.IsQuantized) return t;
        string ft = _target.Name;
        bool moreBitsV = MoreBits(_iAttnV, _attnV);
        if (name == "output.weight" || (_tied && name == "token_embd.weight"))
        {
            if (rowLength % GgmlTypeInfo.BlockSize(t) != 0) t = GgmlType.Q8_0;
            else if (t != GgmlType.Q8_0) t = GgmlType.Q6_K;
        }
        else if (name == "token_embd.weight") { }
        else if (name.Contains("attn_v.weight", StringComparison.Ordinal) || name.Contains("attn_qkv.weight", StringComparison.Ordinal))
        {
            if (ft == "Q2_K") t = _gqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
            else if (ft is "Q4_K_M" or "Q5_K_M" && moreBitsV) t = GgmlType.Q6_K;
            else if (ft == "Q4_K_S" && _iAttnV < 4) t = GgmlType.Q5_K;
            _iAttnV++;
        }
        else if (name.Contains("ffn_down", StringComparison.Ordinal))
        {
            int i = _iFfnDown, n = _layers;
            if (ft == "Q2_K") t = GgmlType.Q3_K;
            else if (ft is "Q4_K_M" or "Q5_K_M" && MoreBits(i, n)) t = GgmlType.Q6_K;
            else if (ft == "Q4_K_S" && i < n / 8) t = GgmlType.Q5_K;
            _iFfnDown++;
        }
        else if (name.Contains("attn_output.weight", StringComparison.Ordinal))
        {
            if (ft == "Q2_K") t = GgmlType.Q3_K;
        }
        return Fallback(t, rowLength);
    }

    private static bool MoreBits(int i, int n) => i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;

    /// <summary>llama-quantize's fallback for rows that do not divide the block size.</summary>
    public static GgmlType Fallback(GgmlType t, long rowLength)
    {
        if (rowLength % GgmlTypeInfo.BlockSize(t) == 0) return t;
        GgmlType f = t switch
        {
            GgmlType.Q2_K or GgmlType.Q3_K => GgmlType.Q4_0,
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => GgmlType.F16,
        };
        return rowLength % GgmlTypeInfo.BlockSize(f) == 0 ? f : GgmlType.F16;
    }
}
