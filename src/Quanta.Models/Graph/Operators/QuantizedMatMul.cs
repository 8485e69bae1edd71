using Quanta.Core.Kernels.Onnx;

namespace Quanta.Models.Graph.Operators;

/// <summary>
/// INT8 form of MatMul / MatMulAdd (constant weight W [k, n], optional bias [n]) and Gemm (constant B, transA = 0,
/// optional row-vector C; alpha and beta folded into the per-column scale and offset), built by
/// <see cref="GraphQuantizer"/>. X [..., k] (Gemm: [m, k]) is quantized per tensor to 7-bit codes, multiplied by the
/// packed per-column INT8 weights in <see cref="Int8Gemm"/> and rescaled to float Y [..., n]. With dynamic activations
/// the per-tensor range is the min/max of each run's input instead of the calibrated one. Shape inference is the
/// float operator's.
/// </summary>
internal sealed class QuantizedMatMul : GraphOperator
{
    private readonly GraphOperator _float;
    private readonly int _k, _n;
    private readonly sbyte[] _packed;     // Int8Gemm panels of W [n, k]
    private readonly float[] _scale;      // [n]
    private readonly float[] _offset;     // [n]
    private readonly ActivationQuant _act;
    private readonly bool _dynamic;
    private readonly float[] _wScale, _bias; // [n]: weight scale·alpha, bias·beta (dynamic mode recomputes scale/offset per run)
    private readonly int[] _wSum;             // [n]: Σ_p q_jp
    private byte[] _codes = [];           // [m, PaddedK(k)]
    private float[]? _invSmooth;          // [k]: 1/s_p of SmoothQuant, or null
    private float[] _smoothed = [];       // [m, k]: X with channel p divided by s_p

    private QuantizedMatMul(GraphNode node, GraphOperator original, int k, int n, sbyte[] packed, float[] wScale, float[] bias, int[] wSum, ActivationQuant act, bool dynamic) : base(node)
    {
        _float = original;
        _k = k; _n = n; _packed = packed; _wScale = wScale; _bias = bias; _wSum = wSum; _act = act; _dynamic = dynamic;
        _scale = new float[n];
        _offset = new float[n];
        SetActivation(act);
    }

    // scale_j = s_a·s_j, offset_j = bias_j − scale_j·zp·Σq_j
    private void SetActivation(ActivationQuant act)
    {
        for (int j = 0; j < _n; j++)
        {
            _scale[j] = act.Scale * _wScale[j];
            _offset[j] = _bias[j] - _scale[j] * act.ZeroPoint * _wSum[j];
        }
    }

    /// <summary>
    /// Builds the INT8 operator. With <paramref name="smooth"/> (one factor s_p per input channel, SmoothQuant): the
    /// weight rows are multiplied by s_p before quantization and each run divides input channel p by s_p before
    /// quantizing it, so X·W is unchanged while outlier channels of X shrink (and <paramref name="act"/> must be the
    /// range of the divided input).
    /// </summary>
    public static QuantizedMatMul Create(GraphNode node, GraphOperator original, IReadOnlyDictionary<string, GraphTensor> consts, ActivationQuant act, bool dynamic = false,
        float[]? smooth = null)
    {
        var w = consts[node.Inputs[1]];
        bool gemm = node.OpType == "Gemm";
        bool transB = gemm && node.Int("transB", 0) != 0;
        int k = transB ? w.Shape[1] : w.Shape[0], n = transB ? w.Shape[0] : w.Shape[1];
        var fw = w.Floats;
        var wt = new float[n * k]; // [n, k]: one row per output column
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++) wt[j * k + p] = (transB ? fw[j * k + p] : fw[p * n + j]) * (smooth?[p] ?? 1f);
        var (codes, scales, sums) = GraphQuantizer.QuantizeWeights(wt, n, k);
        var packed = new sbyte[Int8Gemm.PackedLength(n, k)];
        Int8Gemm.PackWeights(codes, n, k, packed);
        float alpha = gemm ? node.Float("alpha", 1f) : 1f, beta = gemm ? node.Float("beta", 1f) : 1f;
        GraphTensor? bias = node.Inputs.Length > 2 && node.Inputs[2].Length > 0 ? consts[node.Inputs[2]] : null;
        var wScale = new float[n];
        var b = new float[n];
        for (int j = 0; j < n; j++)
        {
            wScale[j] = scales[j] * alpha;
            b[j] = bias is null ? 0 : (gemm ? beta : 1f) * bias.F![bias.Length == 1 ? 0 : j];
        }
        var op = new QuantizedMatMul(node, original, k, n, packed, wScale, b, sums, act, dynamic);
        if (smooth is not null) op._invSmooth = smooth.Select(v => 1f / v).ToArray();
        return op;
    }

    public override int[]?[] InferShapes(ShapeContext ctx) => _float.InferShapes(ctx);

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        if (x.Rank == 0 || x.Shape[^1] != _k || (Node.OpType == "Gemm" && x.Rank != 2))
            throw new GraphException($"{Node.Describe}: input [{string.Join(", ", x.Shape)}] does not end in the weight's {_k} rows");
        int m = x.Length / _k;
        int[] shape = [.. x.Shape[..^1], _n];
        var y = ctx.OutputF(0, shape);
        if (m == 0) return;
        int kp = Int8Gemm.PaddedK(_k);
        if (_codes.Length < m * kp) _codes = new byte[m * kp];
        ReadOnlySpan<float> fx = x.Floats;
        if (_invSmooth is { } inv)
        {
            if (_smoothed.Length < m * _k) _smoothed = new float[m * _k];
            var xs = _smoothed.AsSpan(0, m * _k);
            for (int i = 0; i < m; i++)
            {
                var src = fx.Slice(i * _k, _k);
                var dst = xs.Slice(i * _k, _k);
                for (int p = 0; p < _k; p++) dst[p] = src[p] * inv[p];
            }
            fx = xs;
        }
        var act = _act;
        if (_dynamic)
        {
            var (lo, hi) = GraphQuantizer.MinMax(fx);
            act = GraphQuantizer.ActivationParams(lo, hi);
            SetActivation(act);
        }
        if (kp == _k) Int8Activations.Quantize(fx, act.InvScale, act.ZeroPoint, _codes);
        else
            for (int i = 0; i < m; i++) Int8Activations.Quantize(fx.Slice(i * _k, _k), act.InvScale, act.ZeroPoint, _codes.AsSpan(i * kp, kp));
        Int8GemmParallel.MultiplyScaled(GraphThreads.Pool, m, _n, _k, _codes, kp, _packed, _scale, _offset, false, y.Floats, _n, 1);
        // A MatMulAdd that absorbed a GELU (MatMulAdd+Gelu fusion) keeps it in INT8 form.
        if (Node.Str("activation", "") == "Gelu") GeluKernel.Apply(y.Floats, y.Floats);
    }
}
