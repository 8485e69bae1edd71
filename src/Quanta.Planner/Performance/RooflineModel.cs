using Quanta.Planner.Catalogs;

namespace Quanta.Planner.Performance;

/// <summary>
/// Per-step cost of a transformer on a device from its roofline:
/// time = max(bytes / (bw x eff_bw), ops / (peak[precision] x eff_compute)) + step overhead + all-reduce time.
/// Bytes = weights touched (once per step; for mixture-of-experts the experts the step's tokens route to, expected
/// over uniform routing) + KV cache read and written + activations. Ops = 2 x matmul params x tokens + attention
/// (4 x attended pairs x heads x head_dim x layers). Tensor parallelism over <see cref="Tp"/> devices splits weights,
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

    /// <summary>
    /// Weight bytes one step reads (whole model, before the tensor-parallel split): all of a dense model; for a
    /// mixture-of-experts, the shared weights plus the expected fraction of experts that <paramref name="tokens"/> tokens
    /// route to, 1 - (1 - k/E)^tokens (at most all experts).
    /// </summary>
    public double WeightBytesTouched(double tokens)
    {
        double b = PrecisionInfo.BytesPerWeight(Weights);
        if (Model.Experts <= 1) return Model.TotalParams * b;
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

    /// <summary>Cost of one step.</summary>
    /// <param name="tokens">New tokens processed in the step (all sequences together).</param>
    /// <param name="kvReadTokens">Tokens of KV cache read from memory (decode: sum of the sequences' context lengths; prefill: 0, attention stays on chip).</param>
    /// <param name="attendedPairs">Sum over new tokens of the positions each attends to (decode: sum of context lengths; prefill of I tokens: I(I+1)/2).</param>
    /// <param name="prefill">True for a prefill step (uses the prefill compute efficiency).</param>
    public StepCost Step(double tokens, double kvReadTokens, double attendedPairs, bool prefill)
    {
        var m = Model;
        double kvpt = m.KvBytesPerToken(Kv);
        double bytes = WeightBytesTouched(tokens) / Tp + (kvReadTokens + tokens) * kvpt / Tp
            + tokens * m.Hidden * 2.0 * m.Layers * ActivationVectorsPerLayer;
        double ops = (2.0 * m.MatmulParamsPerToken * tokens + 4.0 * attendedPairs * m.Heads * m.HeadDim * m.Layers) / Tp;
        double memS = bytes / (Device.BandwidthBytesPerSecond * Eff.EffBandwidth);
        double compS = ops / (Peak * (prefill ? Eff.EffComputePrefill : Eff.EffComputeDecode));
        double commS = 2.0 * m.Layers * AllReduceSeconds(tokens * m.Hidden * 2.0);
        return new StepCost(Math.Max(memS, compS) + Eff.StepOverheadS + commS, bytes, ops, memS, compS, commS);
    }

    /// <summary>Time to prefill <paramref name="sequences"/> prompts of <paramref name="inputTokens"/> tokens, in chunks of at most <see cref="MemoryFit.StepTokens"/> tokens.</summary>
    public double PrefillSeconds(double sequences, double inputTokens)
    {
        double total = sequences * inputTokens;
        if (total <= 0) return 0;
        double chunks = Math.Ceiling(total / MemoryFit.StepTokens);
        var step = Step(total / chunks, 0, sequences * inputTokens * (inputTokens + 1) / 2 / chunks, prefill: true);
        return chunks * step.Seconds;
    }

    /// <summary>One decode step of <paramref name="sequences"/> sequences whose contexts average <paramref name="context"/> tokens.</summary>
    public StepCost DecodeStep(double sequences, double context) => Step(sequences, sequences * context, sequences * context, prefill: false);
}
