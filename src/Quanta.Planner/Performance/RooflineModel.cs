using Quanta.Planner.Catalogs;

namespace Quanta.Planner.Performance;

/// <summary>
/// Per-step cost of a transformer on a device, summed over its operators, each on its own roofline:
/// time = max(weight bytes / bw', matmul ops / peak') [weight matrix products]
///      + max(KV bytes / bw', attention ops / attention peak') [attention]
///      + activation bytes / bw' [norms, residuals, rotary, activation functions]
///      + step overhead + layers x layer overhead + all-reduce time,
/// with bw' = bandwidth x eff_bw and peak' = peak at the weight precision x eff_compute (x eff_moe for a
/// mixture-of-experts model's matrix products). Operators run one after another (separate kernels), so their times
/// add; within one operator memory traffic and math overlap, so the slower bounds it. Weight bytes = weights touched
/// once per step (for mixture-of-experts the experts the step's tokens route to, expected over uniform routing);
/// KV bytes = cache read and written; matmul ops = 2 x matmul params x tokens; attention ops = 4 x attended pairs x
/// heads x head_dim x layers, run at the KV-cache precision (FP8 attention with an FP8 cache, else 16-bit: attention
/// is never computed at 4-bit weight precision). Tensor parallelism over <see cref="Tp"/> devices splits weights,
/// KV cache and ops evenly and adds 2 ring all-reduces per layer of tokens x hidden x 2 bytes.
/// </summary>
public sealed class RooflineModel
{
    /// <summary>Hidden-size vectors read or written per token per layer outside the matrix products (norms, residuals, rotary, activation functions), 16-bit.</summary>
    public const double ActivationVectorsPerLayer = 6;

    /// <summary>Latency of one all-reduce (launch + synchronization), seconds.</summary>
    public const double AllReduceLatencyS = 10e-6;

    /// <summary>One-direction bandwidth assumed between devices the catalog gives no interconnect for (PCIe Gen4 x16), bytes/s.</summary>
    public const double FallbackLinkBytesPerS = 32e9;

    /// <summary>Creates the model of <paramref name="model"/> on <paramref name="tp"/> devices <paramref name="device"/>.</summary>
    public RooflineModel(ModelSpec model, DeviceSpec device, Precision weights, Precision kv, int tp, EfficiencyParameters eff)
    {
        if (!model.IsLlm) throw new ArgumentException($"{model.Id} is not a language model");
        if (tp < 1) throw new ArgumentException($"tensor-parallel degree must be >= 1, got {tp}");
        Model = model; Device = device; Weights = weights; Kv = kv; Tp = tp; Eff = eff;
        Peak = device.PeakOpsPerSecond(weights) ?? throw new ArgumentException($"{device.Id} states no throughput usable at {PrecisionInfo.Name(weights)}");
        AttentionPeak = device.PeakOpsPerSecond(AttentionPrecision(kv)) ?? Peak;
        if (device.BandwidthBytesPerSecond <= 0) throw new ArgumentException($"{device.Id} states no memory bandwidth");
    }

    /// <summary>The model.</summary>
    public ModelSpec Model { get; }

    /// <summary>The device.</summary>
    public DeviceSpec Device { get; }

    /// <summary>Weight (and math) precision.</summary>
    public Precision Weights { get; }

    /// <summary>KV-cache precision.</summary>
    public Precision Kv { get; }

    /// <summary>Tensor-parallel degree.</summary>
    public int Tp { get; }

    /// <summary>Efficiency parameters.</summary>
    public EfficiencyParameters Eff { get; }

    /// <summary>Peak ops/s at the weight precision.</summary>
    public double Peak { get; }

    /// <summary>Peak ops/s of attention math (at <see cref="AttentionPrecision"/> of the KV cache).</summary>
    public double AttentionPeak { get; }

    /// <summary>Precision attention math runs at: FP8 with an 8-bit (or narrower) KV cache, FP32 with an FP32 cache, else FP16.</summary>
    public static Precision AttentionPrecision(Precision kv) => kv switch
    {
        Precision.Fp32 => Precision.Fp32,
        Precision.Fp16 or Precision.Bf16 => Precision.Fp16,
        _ => Precision.Fp8,
    };

    /// <summary>
    /// Bytes of weights a dense model reads per step when known exactly (e.g. summed over a model file's tensors, whose
    /// mixed quantization types no single precision describes); null: parameters x bytes per weight at <see cref="Weights"/>.
    /// </summary>
    public double? WeightBytesOverride { get; init; }

    /// <summary>
    /// Weight bytes one step reads (whole model, before the tensor-parallel split): all of a dense model (or
    /// <see cref="WeightBytesOverride"/>); for a
    /// mixture-of-experts, the shared weights plus the expected fraction of experts that <paramref name="tokens"/> tokens
    /// route to, 1 - (1 - k/E)^tokens (at most all experts).
    /// </summary>
    public double WeightBytesTouched(double tokens)
    {
        double b = PrecisionInfo.BytesPerWeight(Weights);
        if (Model.Experts <= 1) return WeightBytesOverride ?? Model.TotalParams * b;
        double frac = 1 - Math.Pow(1 - (double)Model.ActiveExperts / Model.Experts, Math.Max(tokens, 1));
        return (Model.SharedParams + Model.ExpertParamsTotal * frac) * b;
    }

    /// <summary>Ring all-reduce time for <paramref name="bytes"/> over the group: 2(n-1)/n x bytes / link + latency.</summary>
    public double AllReduceSeconds(double bytes)
    {
        if (Tp == 1) return 0;
        double link = Device.LinkBytesPerSecond ?? FallbackLinkBytesPerS;
        return 2.0 * (Tp - 1) / Tp * bytes / link + AllReduceLatencyS;
    }

    /// <summary>Cost of one step in which every token computes logits (see the 5-argument overload).</summary>
    public StepCost Step(double tokens, double kvReadTokens, double attendedPairs, bool prefill) =>
        Step(tokens, kvReadTokens, attendedPairs, prefill, tokens);

    /// <summary>Cost of one step (per-operator roofline, see the type's summary).</summary>
    /// <param name="tokens">New tokens processed in the step (all sequences together).</param>
    /// <param name="kvReadTokens">Tokens of KV cache read from memory (decode: sum of the sequences' context lengths; prefill: 0, attention stays on chip).</param>
    /// <param name="attendedPairs">Sum over new tokens of the positions each attends to (decode: sum of context lengths; prefill of I tokens: I(I+1)/2).</param>
    /// <param name="prefill">True for a prefill step (uses the prefill compute efficiency).</param>
    /// <param name="logitsRows">Tokens whose logits the step computes (the output head's rows): every decode token, but
    /// only the last token of each prompt (engines skip the head for the other prompt positions).</param>
    public StepCost Step(double tokens, double kvReadTokens, double attendedPairs, bool prefill, double logitsRows)
    {
        var m = Model;
        double kvpt = m.KvBytesPerToken(Kv);
        double weightBytes = WeightBytesTouched(tokens) / Tp;
        double kvBytes = (kvReadTokens + tokens) * kvpt / Tp;
        double actBytes = tokens * m.Hidden * 2.0 * m.Layers * ActivationVectorsPerLayer;
        double headParams = (double)m.Vocab * m.Hidden;
        double matmulOps = 2.0 * ((m.MatmulParamsPerToken - headParams) * tokens + headParams * Math.Min(logitsRows, tokens)) / Tp;
        double attnOps = 4.0 * attendedPairs * m.Heads * m.HeadDim * m.Layers / Tp;
        double bw = Device.BandwidthBytesPerSecond * Eff.EffBandwidth;
        double eff = prefill ? Eff.EffComputePrefill : Eff.EffComputeDecode;
        double matmulPeak = Peak * eff * (m.Experts > 1 ? Eff.EffComputeMoe : 1);
        double attnPeak = AttentionPeak * eff;
        double seconds = Math.Max(weightBytes / bw, matmulOps / matmulPeak) + Math.Max(kvBytes / bw, attnOps / attnPeak) + actBytes / bw;
        double commS = 2.0 * m.Layers * AllReduceSeconds(tokens * m.Hidden * 2.0);
        double bytes = weightBytes + kvBytes + actBytes;
        return new StepCost(seconds + Eff.StepOverheadS + Eff.LayerOverheadS * m.Layers + commS, bytes, matmulOps + attnOps, bytes / bw,
            matmulOps / matmulPeak + attnOps / attnPeak, commS);
    }

    /// <summary>Time to prefill <paramref name="sequences"/> prompts of <paramref name="inputTokens"/> tokens, in chunks of at most <see cref="MemoryFit.StepTokens"/> tokens.</summary>
    public double PrefillSeconds(double sequences, double inputTokens)
    {
        double total = sequences * inputTokens;
        if (total <= 0) return 0;
        double chunks = Math.Ceiling(total / MemoryFit.StepTokens);
        var step = Step(total / chunks, 0, sequences * inputTokens * (inputTokens + 1) / 2 / chunks, prefill: true, logitsRows: sequences / chunks);
        return chunks * step.Seconds;
    }

    /// <summary>One decode step of <paramref name="sequences"/> sequences whose contexts average <paramref name="context"/> tokens.</summary>
    public StepCost DecodeStep(double sequences, double context) => Step(sequences, sequences * context, sequences * context, prefill: false);
}
