using Quanta.Planner.Catalogs;
using Quanta.Planner.Simulation;

namespace Quanta.Planner.Performance;

/// <summary>
/// One breakdown of a CPU engine step (seconds; <see cref="Seconds"/> is their sum).
/// </summary>
/// <param name="Seconds">The step's time.</param>
/// <param name="MatmulSeconds">Weight matrix products of the layers: max(weight bytes / bw', ops / GEMM rate at m = tokens).</param>
/// <param name="HeadSeconds">Output head: max(head bytes / bw', ops / GEMM rate at m = logits rows); 0 without logits.</param>
/// <param name="AttentionSeconds">Attention: max(KV bytes / bw', attention ops / measured attention rate).</param>
/// <param name="HostSeconds">Per-token work on the calling thread (norms, rotary, activation functions, activation quantization).</param>
/// <param name="SampleSeconds">Serving only: the engine loop outside the executor (sampling of the step's logits rows, the tokens' hand-off, scheduling).</param>
/// <param name="OverheadSeconds">Fixed per step: step overhead + layers x layer overhead (thread barriers).</param>
public sealed record CpuStepCost(double Seconds, double MatmulSeconds, double HeadSeconds, double AttentionSeconds, double HostSeconds,
    double SampleSeconds, double OverheadSeconds)
{
    /// <summary>Whether the weight products (layers and head) were costed at weight bytes / achievable bandwidth rather
    /// than at the kernels' own rate: the roofline's memory side binds.</summary>
    public bool ProductsMemoryBound { get; init; }
}

/// <summary>
/// The cost of one step of the CPU engine (Quanta.Models DecoderModel.ForwardBatch through the serving engine's
/// CpuExecutor), built from what the twin measures on this machine (<see cref="CpuMeasurements"/>) and a few fitted
/// efficiency parameters. A step of T new tokens (all its sequences' prefill chunks and decode tokens, concatenated into
/// one activation matrix) of which L compute logits, reading K cached positions and attending P (token, position) pairs
/// (Pd of them from decode rows, P − Pd from prefill chunks):
/// <code>
/// time = roof(Wbody / bw', 2 Pbody T / (R(T) e))                layers' matrix products, one GEMM with m = T
///      + roof(Whead / bw', 2 Phead L / (Rhead(L) e))  [L > 0]   output head in its own format, m = L
///      + max((K + T) kv / bw', 4 heads headDim layers (Pd / A1 + (P − Pd) / A4) / e)
///      + T x layers x (6 hidden + 1 ffn) x host_element_s       per-token work on the calling thread
///      + step_overhead_s + layers x layer_overhead_s
///      [serving] + loop_step_s + S x (loop_row_s + sample_row_s)  the engine loop outside the executor
/// </code>
/// with roof(tm, tc) = max(tm, tc) + k min(tm, tc) (<see cref="Roofline"/>; k = 0 is the plain roofline, k the share of
/// the shorter time that does not overlap the longer: <see cref="Overlap"/>), bw' = measured read bandwidth x eff_bandwidth (the weights' also x <see cref="CacheGain"/>), e = eff_compute_prefill (one compute fraction: the rates are
/// already those of the kernels at the step's m), R(m) the layers' measured GEMM rate at m
/// (<see cref="CpuMeasurements.MatmulRateAt"/>), Rhead(m) the head's (<see cref="CpuMeasurements.HeadRateAt"/>: the
/// head is usually Q6_K, a slower kernel than the layers' Q4_0), A1 the measured attention rate of one query row (decode)
/// and A4 that of blocks of consecutive rows (prefill, <see cref="CpuMeasurements.PrefillAttentionRate"/>). Wbody and
/// Whead are the file's bytes of the layers' matrices and of the head (by parameter share when the head's bytes are not
/// given). When the rates were probed on the model's own weights as a step streams them
/// (<see cref="CpuMeasurements.GemmRatesStreamWeights"/>, <see cref="ModelGemmProbe"/>: every product at its real shape,
/// the activation conversion and the weights' memory traffic inside the measured time), the products cost
/// 2 Pbody T / (R(T) e) and 2 Phead L / (Rhead(L) e) alone: bounding them again by bytes / bw' would count the traffic
/// twice. The loop's costs loop_step_s and loop_row_s are measured on the serving engine's recorded steps
/// (<see cref="CpuMeasurements.LoopCost"/>) and only serving steps (<see cref="Seconds"/>) pay them; the benchmarks' steps
/// run without the loop. A batched decode of S sequences is one step with T = L = S: its matrix products run at R(S),
/// not as S single-token decodes. Pure and allocation-free.
/// </summary>
public sealed class CpuStepModel : IStepTimeModel
{
    /// <summary>Activation elements per token per layer of the host-thread work, in units of the hidden size: the two
    /// norms, the two residual adds, rotary on Q and K, the K and V rows written to the cache. (The activation
    /// conversions before the products run inside the matrix product and are in its probed rate.)</summary>
    public const double HostHiddenVectorsPerLayer = 6;

    /// <summary>Activation elements per token per layer of the host-thread work, in units of the FFN width: the gated
    /// activation. (The conversion before the down product is in the product's probed rate.)</summary>
    public const double HostFfnVectorsPerLayer = 1;

    /// <summary>Creates the model of <paramref name="model"/> (weights of <paramref name="weightBytes"/> bytes in the file,
    /// <paramref name="headBytes"/> of them the output head's, 0: its parameter share; KV cache at <paramref name="kv"/>)
    /// on the measured CPU.</summary>
    public CpuStepModel(ModelSpec model, double weightBytes, Precision kv, CpuMeasurements machine, EfficiencyParameters eff, double headBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(eff);
        if (!model.IsLlm) throw new ArgumentException($"{model.Id} is not a language model");
        if (!(weightBytes > 0) || double.IsInfinity(weightBytes)) throw new ArgumentException($"weight bytes must be positive, got {weightBytes}");
        machine.Validate();
        Model = model; Machine = machine; Eff = eff; WeightBytes = weightBytes;
        HeadParams = (double)model.Vocab * model.Hidden;
        BodyParams = model.MatmulParamsPerToken - HeadParams;
        if (!(BodyParams > 0)) throw new ArgumentException($"{model.Id}: no layer parameters");
        if (!(headBytes >= 0) || headBytes >= weightBytes) throw new ArgumentException($"head bytes must be in [0, {weightBytes}), got {headBytes}");
        HeadBytes = headBytes > 0 ? headBytes : weightBytes * HeadParams / model.MatmulParamsPerToken;
        KvBytesPerToken = model.KvBytesPerToken(kv);
        HostElementsPerToken = model.Layers * (HostHiddenVectorsPerLayer * model.Hidden + HostFfnVectorsPerLayer * model.Intermediate);
        bool streamed = machine.StreamedOpsPerSecond > 0 && !machine.GemmRatesStreamWeights;
        double streamedTime = streamed ? 2 * BodyParams / machine.StreamedOpsPerSecond : 0;
        double memoryTime = (WeightBytes - HeadBytes) / (machine.ReadBytesPerSecond * eff.EffBandwidth);
        CacheGain = streamed ? CacheGainFrom(streamedTime, memoryTime) : 1;
        Overlap = streamed
            ? OverlapFrom(streamedTime, memoryTime / CacheGain, 2 * BodyParams / (machine.MatmulRateAt(1) * eff.EffComputePrefill))
            : eff.OverlapK;
    }

    /// <summary>
    /// How much faster than bytes / bandwidth the model's weights arrive when a step reads them all, in order, step after
    /// step (≥ 1): <paramref name="memory"/> (the layers' bytes over the two-second read test's bandwidth, a buffer far
    /// larger than the last-level cache) over <paramref name="streamed"/> (the same layers' one-token products timed on
    /// weights streamed from memory, layer after layer as a decode reads them), when the products ran faster than the
    /// memory limit; 1 otherwise (the kernel or the memory binds, <see cref="OverlapFrom"/> prices the rest). Above 1 the
    /// last-level cache keeps part of a working set that does not fit it from one pass to the next: on this project's
    /// machine, with both threads on one core complex (the ~33 GB/s state), the 160M Q4_0 model's 84 MB decoded at 108% of
    /// the read test's bound while its streamed probe read 36 GB/s of layer weights against 32.3.
    /// </summary>
    public static double CacheGainFrom(double streamed, double memory) =>
        streamed > 0 && double.IsFinite(streamed) && memory > streamed ? memory / streamed : 1;

    /// <summary>
    /// The factor by which the weights' effective bandwidth exceeds the read test's (<see cref="CacheGainFrom"/> on the
    /// machine's streamed m = 1 reading; 1 when it was not read). Every weight read of a step (the layers' and the head's)
    /// is priced at read bandwidth x eff_bandwidth x this gain: the head is read in the same pass, so the same share of it
    /// stays cached. The KV cache's traffic keeps the plain bandwidth.
    /// </summary>
    public double CacheGain { get; }

    /// <summary>
    /// A weight product's time from its two roofline limits, memory time <paramref name="memory"/> (bytes / achievable
    /// bandwidth) and kernel time <paramref name="kernel"/> (ops / the kernels' own rate on cache-resident weights):
    /// max(tm, tc) + <paramref name="overlap"/> x min(tm, tc). 0 is the plain roofline, the two overlapping perfectly;
    /// 1 runs them back to back. The loss is largest where the two are close (a kernel that needs most of the core's
    /// issue slots leaves few for the waits on its stream) and vanishes where one dominates.
    /// </summary>
    public static double Roofline(double memory, double kernel, double overlap) => Math.Max(memory, kernel) + overlap * Math.Min(memory, kernel);

    /// <summary>
    /// The overlap k for which <see cref="Roofline"/>(memory, kernel, k) equals the measured time
    /// <paramref name="streamed"/> of the same products on weights streamed from memory, clamped to [0, 1] (a product
    /// faster than the roofline's max, within the readings' noise, is 0; 0 also when either limit is 0).
    /// </summary>
    public static double OverlapFrom(double streamed, double memory, double kernel)
    {
        double lo = Math.Min(memory, kernel);
        if (!(lo > 0) || !double.IsFinite(streamed)) return 0;
        return Math.Clamp((streamed - Math.Max(memory, kernel)) / lo, 0, 1);
    }

    /// <summary>
    /// The overlap k of the weight products' roofline (<see cref="Roofline"/>): from the machine's streamed m = 1 reading
    /// of the layers (<see cref="CpuMeasurements.StreamedOpsPerSecond"/>, <see cref="OverlapFrom"/> on this model's
    /// layer bytes and ops at the measured bandwidth and m = 1 kernel rate) when it was read, else
    /// <see cref="EfficiencyParameters.OverlapK"/>. One k for every m and for the head: the share of the shorter limit
    /// that the core fails to hide, as read on the model's own one-token products in the state of the measurement.
    /// </summary>
    public double Overlap { get; }

    /// <summary>The model.</summary>
    public ModelSpec Model { get; }

    /// <summary>The machine's measured figures.</summary>
    public CpuMeasurements Machine { get; }

    /// <summary>The efficiency parameters.</summary>
    public EfficiencyParameters Eff { get; }

    /// <summary>Weight bytes of the file (layers and head).</summary>
    public double WeightBytes { get; }

    /// <summary>Output-head parameters (vocab x hidden).</summary>
    public double HeadParams { get; }

    /// <summary>Matrix parameters of the layers.</summary>
    public double BodyParams { get; }

    /// <summary>Bytes of the output head (as given, else its parameter share of <see cref="WeightBytes"/>).</summary>
    public double HeadBytes { get; }

    /// <summary>KV-cache bytes per position (all layers, K and V).</summary>
    public double KvBytesPerToken { get; }

    /// <summary>Host-thread activation elements per token (all layers).</summary>
    public double HostElementsPerToken { get; }

    /// <inheritdoc/>
    public double RequestOverheadSeconds => Eff.RequestOverheadS;

    /// <inheritdoc/>
    /// <remarks>A serving step: it pays the engine loop's costs and samples every logits row. Its decode rows' attended
    /// pairs are <see cref="StepShape.DecodePairs"/> (all of them when the step has no prefill tokens).</remarks>
    public double Seconds(in StepShape step)
    {
        if (step.Tokens <= 0) throw new ArgumentException("a step runs at least one token", nameof(step));
        double decodePairs = step.PrefillTokens == 0 ? step.AttendedPairs : Math.Min(step.DecodePairs, step.AttendedPairs);
        return Cost(step.Tokens, step.LogitsRows, step.LogitsRows, step.KvReadTokens, step.AttendedPairs, decodePairs, serving: true).Seconds;
    }

    /// <summary>Cost of one step (see the type's summary).</summary>
    /// <param name="tokens">New tokens T (≥ 1).</param>
    /// <param name="logitsRows">Rows of logits computed L (0..T).</param>
    /// <param name="sampledRows">Rows sampled S (0 for the benchmarks, L when serving).</param>
    /// <param name="kvReadTokens">Cached positions read (Σ of each item's start position).</param>
    /// <param name="attendedPairs">Σ over new tokens of the positions each attends to.</param>
    /// <param name="decodePairs">The part of <paramref name="attendedPairs"/> from one-token decode rows (0..pairs); negative:
    /// every row is a decode when T = L, a prefill row otherwise.</param>
    /// <param name="serving">Whether the step runs in the serving engine's loop (pays loop_step_s and loop_row_s).</param>
    public CpuStepCost Cost(double tokens, double logitsRows, double sampledRows, double kvReadTokens, double attendedPairs, double decodePairs = -1,
        bool serving = false)
    {
        if (!(tokens >= 1) || !(logitsRows >= 0) || logitsRows > tokens || !(sampledRows >= 0) || !(kvReadTokens >= 0) || !(attendedPairs >= 0)
            || decodePairs > attendedPairs || double.IsNaN(decodePairs))
            throw new ArgumentException($"invalid step: {tokens} tokens, {logitsRows} logits rows, {sampledRows} sampled, {kvReadTokens} KV read, {attendedPairs} pairs ({decodePairs} of decodes)");
        var m = Model;
        if (decodePairs < 0) decodePairs = tokens == logitsRows ? attendedPairs : 0;
        double bw = Machine.ReadBytesPerSecond * Eff.EffBandwidth;
        double e = Eff.EffComputePrefill;
        // rates probed on the model's own streamed weights already hold the weights' memory traffic
        double bodyBytes = Machine.GemmRatesStreamWeights ? 0 : (WeightBytes - HeadBytes) / (bw * CacheGain);
        double headBytes = Machine.GemmRatesStreamWeights ? 0 : HeadBytes / (bw * CacheGain);
        double bodyKernel = 2 * BodyParams * tokens / (Machine.MatmulRateAt(tokens) * e);
        double headKernel = logitsRows > 0 ? 2 * HeadParams * logitsRows / (Machine.HeadRateAt(logitsRows) * e) : 0;
        double body = Roofline(bodyBytes, bodyKernel, Overlap);
        double head = logitsRows > 0 ? Roofline(headBytes, headKernel, Overlap) : 0;
        bool memoryBound = bodyBytes + (logitsRows > 0 ? headBytes : 0) > bodyKernel + headKernel;
        double opsPerPair = 4.0 * m.Heads * m.HeadDim * m.Layers;
        double attnCompute = opsPerPair * (decodePairs / Machine.AttentionRate + (attendedPairs - decodePairs) / Machine.PrefillAttentionRate) / e;
        double attention = Math.Max((kvReadTokens + tokens) * KvBytesPerToken / bw, attnCompute);
        double host = tokens * HostElementsPerToken * Eff.HostElementS;
        double sample = sampledRows * (Eff.SampleRowS + (serving ? Machine.LoopRowSeconds : 0)) + (serving ? Machine.LoopStepSeconds : 0);
        double overhead = Eff.StepOverheadS + m.Layers * Eff.LayerOverheadS;
        return new CpuStepCost(body + head + attention + host + sample + overhead, body, head, attention, host, sample, overhead) { ProductsMemoryBound = memoryBound };
    }
}
