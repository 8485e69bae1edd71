using Quanta.Planner.Catalogs;

namespace Quanta.Planner.Performance;

/// <summary>Steady-state serving estimate for fixed prompt and output lengths on one tensor-parallel group.</summary>
/// <param name="Batch">Sequences (samples) in flight.</param>
/// <param name="OutputTokensPerSecond">Output tokens/s of the whole group.</param>
/// <param name="PrefillSeconds">Time to prefill one batch of prompts.</param>
/// <param name="DecodeStep">One decode step at the mean context.</param>
/// <param name="Limit">What bounded the batch: memory, engine cap, given, or latency.</param>
public sealed record ServingEstimate(double Batch, double OutputTokensPerSecond, double PrefillSeconds, StepCost DecodeStep, string Limit)
{
    /// <summary>Mean time per output token a sequence sees (decode step plus the prefill work interleaved per step).</summary>
    public double TpotSeconds(double outputTokens) => DecodeStep.Seconds + PrefillSeconds / Math.Max(outputTokens, 1);
}

/// <summary>
/// Steady-state batch model: B sequences of I prompt tokens and O output tokens (beam width W) cycle through
/// prefill(B x I) + O decode steps of B x W sequences at the mean context I + O/2, so
/// tokens/s = B x O / (prefill time + O x decode step time). B is the given batch, else the largest the KV cache holds
/// (paged KV cache, continuous batching), capped by <see cref="EngineBatchCap"/> and, for Server scenarios, by the TPOT
/// limit. A scheduler that admits requests by what they hold now (vLLM, TensorRT-LLM MAX_UTILIZATION) fits the mean
/// context I + O/2 per sequence; one that reserves each request's whole sequence up front (TensorRT-LLM's default
/// GUARANTEED_NO_EVICT policy) fits I + O.
/// </summary>
public static class ServingModel
{
    /// <summary>Most sequences an engine batches at once (TensorRT-LLM's max_batch_size default of 2048).</summary>
    public const int EngineBatchCap = 2048;

    /// <summary>Mean TPOT a server targets as a fraction of its p99 TPOT limit (tail headroom).</summary>
    public const double TpotHeadroom = 0.75;

    /// <summary>Estimate for a fixed batch <paramref name="batch"/>.</summary>
    public static ServingEstimate AtBatch(RooflineModel r, double batch, double inputTokens, double outputTokens, int beams, string limit)
    {
        double prefill = r.PrefillSeconds(batch, inputTokens);
        var step = r.DecodeStep(batch * beams, inputTokens + outputTokens / 2);
        double cycle = prefill + outputTokens * step.Seconds;
        return new ServingEstimate(batch, batch * outputTokens / cycle, prefill, step, limit);
    }

    /// <summary>
    /// Largest batch the KV cache holds (0 when the weights leave no room): at the mean context I + O/2, or at the whole
    /// sequence I + O when <paramref name="reserveFullSequence"/> (the scheduler reserves each request's maximum).
    /// </summary>
    public static double MemoryBatch(RooflineModel r, double inputTokens, double outputTokens, int beams, bool reserveFullSequence = false) =>
        Math.Floor(MemoryFit.KvTokens(r.Model, r.Device, r.Weights, r.Kv, r.Tp) / ((inputTokens + (reserveFullSequence ? outputTokens : outputTokens / 2)) * beams));

    /// <summary>
    /// Offline (max-throughput) estimate; with <paramref name="tpotLimitS"/> the batch is also bounded so the mean TPOT
    /// stays within <see cref="TpotHeadroom"/> x the limit. <paramref name="reserveFullSequence"/>: see <see cref="MemoryBatch"/>.
    /// </summary>
    public static ServingEstimate Throughput(RooflineModel r, double inputTokens, double outputTokens, int beams = 1, double? batch = null, double? tpotLimitS = null,
        bool reserveFullSequence = false)
    {
        if (batch is double b) return AtBatch(r, b, inputTokens, outputTokens, beams, "given");
        double mem = MemoryBatch(r, inputTokens, outputTokens, beams, reserveFullSequence);
        if (mem < 1) throw new ArgumentException($"{r.Model.Id} at {PrecisionInfo.Name(r.Weights)} does not fit on {r.Tp} x {r.Device.Id} with a context of {inputTokens + outputTokens} tokens");
        double best = Math.Min(mem, EngineBatchCap);
        string limit = mem < EngineBatchCap ? "memory" : "engine cap";
        if (tpotLimitS is double lim)
        {
            double target = lim * TpotHeadroom;
            if (AtBatch(r, best, inputTokens, outputTokens, beams, limit).TpotSeconds(outputTokens) > target)
            {
                double lo = 1, hi = best;
                while (hi - lo > 1)
                {
                    double mid = Math.Floor((lo + hi) / 2);
                    if (AtBatch(r, mid, inputTokens, outputTokens, beams, "").TpotSeconds(outputTokens) <= target) lo = mid; else hi = mid;
                }
                best = lo; limit = "latency";
            }
        }
        return AtBatch(r, best, inputTokens, outputTokens, beams, limit);
    }

    /// <summary>Time to first token of one request of <paramref name="inputTokens"/> prompt tokens on an idle group.</summary>
    public static double TtftSeconds(RooflineModel r, double inputTokens) => r.PrefillSeconds(1, inputTokens) + r.Eff.RequestOverheadS;

    /// <summary>
    /// Samples/s of a vision or recommendation model on one device: 1 / max(flops / (peak x eff_dense), bytes / (bw x eff_bw)),
    /// bytes = activation elements x 2 (write + read) x bytes per element, or the catalog's bytes per sample.
    /// </summary>
    public static double SamplesPerSecond(ModelSpec m, DeviceSpec d, Precision p, EfficiencyParameters e)
    {
        if (m.IsLlm) throw new ArgumentException($"{m.Id} is a language model: use the token-step model");
        double peak = d.PeakOpsPerSecond(p) ?? throw new ArgumentException($"{d.Id} states no throughput usable at {PrecisionInfo.Name(p)}");
        double bytes = m.BytesPerSample > 0 ? m.BytesPerSample : m.ActivationElementsPerSample * 2 * PrecisionInfo.BytesPerKvElement(p);
        double t = Math.Max(m.FlopsPerSample / (peak * e.EffComputeDense), bytes / (d.BandwidthBytesPerSecond * e.EffBandwidth));
        return 1 / t;
    }
}
