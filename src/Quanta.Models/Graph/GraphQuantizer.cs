using Quanta.Core.Kernels.Onnx;
using Quanta.Models.Graph.Operators;

namespace Quanta.Models.Graph;

/// <summary>What <see cref="GraphQuantizer.Quantize"/> changed.</summary>
/// <param name="QuantizedNodes">Names of the nodes that now run in INT8.</param>
/// <param name="SkippedNodes">Candidate nodes left in float32, each with the reason.</param>
/// <param name="CalibrationRuns">Calibration inputs run.</param>
public sealed record Int8Report(IReadOnlyList<string> QuantizedNodes, IReadOnlyList<string> SkippedNodes, int CalibrationRuns);

/// <summary>
/// Post-training static INT8 quantization of a <see cref="GraphSession"/> (opt-in: a session runs float32 unless this
/// is applied). Candidates: Conv (2-D, group 1, constant weights; with the fused BatchNormalization/ReLU), MatMul and
/// the fused MatMul+Add with a constant 2-D weight, and Gemm with a constant B, transA = 0 and a bias that is absent or
/// a row vector.
/// <list type="bullet">
/// <item>Weights: symmetric per output channel, scale_j = max|W_j| / 127, codes round-half-even in -127..127.</item>
/// <item>Activations (the candidate's first input): per tensor, asymmetric 7-bit unsigned codes 0..127 with a zero
/// point (see <see cref="Int8Activations"/>). The range is [min(0, lo), max(0, hi)] with lo/hi the smallest and
/// largest value the input took over all calibration runs (plain min/max, no percentile clipping: transformer
/// activations carry a few large outlier channels that matter), so zero is exact (padding) and ReLU outputs get
/// zero point 0. Values outside the calibrated range clip. 7 bits, not 8, because vpmaddubsw adds two u8×s8
/// products in saturating int16: with codes ≤ 127 the pair sum ≤ 2·127·128 fits.</item>
/// <item>Compute: <see cref="Int8Gemm"/> sums exactly in int32; y = acc·(s_a·s_j) + (bias_j − s_a·s_j·zp·Σ_p q_jp),
/// the zero point folded into a per-column offset; ReLU after (fused conv).</item>
/// </list>
/// Calibration runs the float graph on the given inputs, observing candidate inputs before they are replaced.
/// Quantization replaces operators in place; the session stays usable for any input shape.
/// </summary>
public static class GraphQuantizer
{
    /// <summary>
    /// Calibrates on <paramref name="calibrationInputs"/> (each a full set of graph inputs) and switches the candidates to INT8.
    /// With <paramref name="dynamicMatMulActivations"/>, MatMul/Gemm inputs are quantized with the min/max of each
    /// run's own input (one extra pass over it) instead of the calibrated range; Conv always uses the calibrated range.
    /// </summary>
    public static Int8Report Quantize(GraphSession session, IEnumerable<IReadOnlyDictionary<string, GraphTensor>> calibrationInputs, bool dynamicMatMulActivations = false)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(calibrationInputs);
        var skipped = new List<string>();
        var candidates = new Dictionary<GraphNode, string>();
        foreach (var node in session.Nodes)
        {
            string? why = Candidate(node, session.Constants);
            if (why is null) candidates[node] = "";
            else if (why.Length > 0) skipped.Add($"{node.Describe}: {why}");
        }
        var lo = new Dictionary<GraphNode, float>();
        var hi = new Dictionary<GraphNode, float>();
        int runs = 0;
        session.Observer = (node, ins) =>
        {
            if (!candidates.ContainsKey(node) || ins[0] is not { Type: TensorElementType.Float32 } x) return;
            var (mn, mx) = MinMax(x.Floats);
            lo[node] = Math.Min(lo.GetValueOrDefault(node, 0f), mn);
            hi[node] = Math.Max(hi.GetValueOrDefault(node, 0f), mx);
        };
        try
        {
            foreach (var inputs in calibrationInputs)
            {
                session.Run(inputs);
                runs++;
            }
        }
        finally
        {
            session.Observer = null;
        }
        if (runs == 0) throw new ArgumentException("no calibration inputs", nameof(calibrationInputs));
        var done = new List<string>();
        foreach (var node in candidates.Keys)
        {
            if (!lo.TryGetValue(node, out float mn)) { skipped.Add($"{node.Describe}: never ran during calibration"); continue; }
            var act = ActivationParams(mn, hi[node]);
            node.Operator = node.OpType == "Conv"
                ? QuantizedConv.Create(node, node.Operator!, session.Constants, act)
                : QuantizedMatMul.Create(node, node.Operator!, session.Constants, act, dynamicMatMulActivations);
            done.Add(node.Name);
        }
        return new Int8Report(done, skipped, runs);
    }

    /// <summary>null: a candidate; "": not a quantizable op type; otherwise why a quantizable op type stays float.</summary>
    private static string? Candidate(GraphNode n, IReadOnlyDictionary<string, GraphTensor> consts)
    {
        if (n.Inputs.Length < 2) return "";
        bool isDefault = n.Domain.Length == 0;
        bool fused = n.Domain == GraphSession.InternalDomain && n.OpType == "MatMulAdd";
        if (!fused && !(isDefault && n.OpType is "Conv" or "MatMul" or "Gemm")) return "";
        if (!consts.TryGetValue(n.Inputs[1], out var w) || w.Type != TensorElementType.Float32) return n.OpType == "MatMul" ? "" : "weights are not a float constant";
        GraphTensor? bias = n.Inputs.Length > 2 && n.Inputs[2].Length > 0 ? consts.GetValueOrDefault(n.Inputs[2]) : null;
        if (n.Inputs.Length > 2 && n.Inputs[2].Length > 0 && bias is null) return "bias is not a constant";
        switch (n.OpType)
        {
            case "Conv":
                if (w.Rank != 4) return "not a 2-D convolution";
                if (n.Int("group", 1) != 1) return "grouped convolution";
                return null;
            case "Gemm":
                if (w.Rank != 2) return "B is not 2-D";
                if (n.Int("transA", 0) != 0) return "transA";
                int cols = n.Int("transB", 0) != 0 ? w.Shape[0] : w.Shape[1];
                if (bias is not null && !(bias.Length == 1 || (bias.Length == cols && bias.Shape[^1] == cols))) return "bias is not a row vector";
                return null;
            default:
                return w.Rank == 2 ? null : "weights are not 2-D";
        }
    }

    internal static (float Min, float Max) MinMax(ReadOnlySpan<float> x)
    {
        float mn = float.PositiveInfinity, mx = float.NegativeInfinity;
        foreach (float v in x) { if (v < mn) mn = v; if (v > mx) mx = v; }
        return (mn, mx);
    }

    /// <summary>Scale and zero point of the 7-bit activation codes for the range [lo, hi] (zero included).</summary>
    internal static ActivationQuant ActivationParams(float lo, float hi)
    {
        lo = Math.Min(lo, 0);
        hi = Math.Max(hi, 0);
        if (!(hi > lo) || !float.IsFinite(hi - lo)) return new ActivationQuant(1f, 0);
        float scale = (hi - lo) / Int8Activations.MaxCode;
        int zp = Math.Clamp((int)MathF.Round(-lo / scale), 0, Int8Activations.MaxCode);
        return new ActivationQuant(scale, zp);
    }

    /// <summary>
    /// Symmetric per-row quantization of W [rows, k]: scale_r = max|W_r|/127 (1 for an all-zero row), codes in
    /// -127..127. Returns codes [rows, k], scales [rows] and code sums [rows].
    /// </summary>
    internal static (sbyte[] Codes, float[] Scales, int[] Sums) QuantizeWeights(ReadOnlySpan<float> w, int rows, int k)
    {
        var q = new sbyte[rows * k];
        var s = new float[rows];
        var sums = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = w.Slice(r * k, k);
            float max = 0;
            foreach (float v in row) max = Math.Max(max, Math.Abs(v));
            float scale = max > 0 ? max / 127 : 1;
            s[r] = scale;
            int sum = 0;
            for (int p = 0; p < k; p++)
            {
                int c = Math.Clamp((int)MathF.Round(row[p] / scale), -127, 127);
                q[r * k + p] = (sbyte)c;
                sum += c;
            }
            sums[r] = sum;
        }
        return (q, s, sums);
    }
}

/// <summary>Activation quantization of one operator input: x ≈ (q − ZeroPoint)·Scale, q in 0..127.</summary>
internal readonly record struct ActivationQuant(float Scale, int ZeroPoint)
{
    public float InvScale => 1f / Scale;
}
