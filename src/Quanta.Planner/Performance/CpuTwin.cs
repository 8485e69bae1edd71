using Quanta.Planner.Catalogs;
using Quanta.Planner.Simulation;

namespace Quanta.Planner.Performance;

/// <summary>
/// What the CPU twin takes from a measurement run on this machine (all measured in the same run as the engine timings
/// it is compared with).
/// </summary>
/// <param name="ReadBytesPerSecond">Memory read bandwidth over the run's threads (Quanta.Core.Diagnostics.MemoryBandwidth).</param>
/// <param name="MatmulOpsPerSecond">Rate of the model's weight-matrix dot kernels on cache-resident data, in ops/s
/// (2 per multiply-add), over the run's threads: the CPU's "tensor throughput" for the model's quantization (the
/// device entry's figure; steps use <see cref="GemmRates"/> when measured).</param>
/// <param name="Fp32OpsPerSecond">Rate of the FP32 dot kernel on cache-resident data, ops/s (attention math when
/// <see cref="AttentionOpsPerSecond"/> is not measured).</param>
/// <param name="Threads">Threads the engine and the probes used.</param>
public sealed record CpuMeasurements(double ReadBytesPerSecond, double MatmulOpsPerSecond, double Fp32OpsPerSecond, int Threads)
{
    /// <summary>
    /// The engine's matrix product measured at several activation-row counts m (<see cref="CpuProbe.GemmRates"/>), in
    /// increasing m; empty: every m runs at <see cref="MatmulOpsPerSecond"/>.
    /// </summary>
    public IReadOnlyList<GemmRate> GemmRates { get; init; } = [];

    /// <summary>
    /// The output head's matrix product at several m (its own format, e.g. Q6_K, with the model's hidden width as input),
    /// in increasing m; empty: the head runs at <see cref="GemmRates"/> like the layers.
    /// </summary>
    public IReadOnlyList<GemmRate> HeadGemmRates { get; init; } = [];

    /// <summary>
    /// Whether <see cref="GemmRates"/> and <see cref="HeadGemmRates"/> were measured on the model's own weights read from
    /// where a step reads them (<see cref="ModelGemmProbe"/>: streamed from memory at small m), so a rate's time already
    /// holds the weights' memory traffic and the step model does not bound it again by bytes / bandwidth; false: the rates
    /// are the kernels' on cache-resident weights and each product costs max(bytes / bandwidth, ops / rate).
    /// </summary>
    public bool GemmRatesStreamWeights { get; init; }

    /// <summary>
    /// The layers' product rate at m = 1 on the model's own weights streamed from memory (<see cref="ModelGemmProbe"/>
    /// with hot: false), ops/s, read in the same state as <see cref="ReadBytesPerSecond"/> and the m = 1 entry of
    /// <see cref="GemmRates"/>: with them it gives how far a one-token product falls short of the roofline max(bytes /
    /// bandwidth, ops / kernel rate), the overlap k of <see cref="CpuStepModel.Roofline"/>; 0: not measured
    /// (<see cref="EfficiencyParameters.OverlapK"/> stands in).
    /// </summary>
    public double StreamedOpsPerSecond { get; init; }

    /// <summary>The engine's attention kernel rate for one query row (a decode; <see cref="CpuProbe.AttentionRate"/>),
    /// ops/s (4 per cached position per head dimension); 0: not measured, <see cref="Fp32OpsPerSecond"/> stands in.</summary>
    public double AttentionOpsPerSecond { get; init; }

    /// <summary>The attention kernel's rate on blocks of consecutive query rows of one sequence (a prefill chunk: the
    /// kernel shares each key and value load between the block's rows), ops/s; 0: not measured, the one-row rate stands in.</summary>
    public double PrefillAttentionOpsPerSecond { get; init; }

    /// <summary>Engine-loop seconds per step outside the executor (scheduling, the scheduler's update), measured on the
    /// serving engine's recorded steps (<see cref="LoopCost"/>); 0: not measured.</summary>
    public double LoopStepSeconds { get; init; }

    /// <summary>Engine-loop seconds per sampled logits row outside the executor (sampling, the token's hand-off to its
    /// stream), measured with <see cref="LoopStepSeconds"/>; 0: not measured.</summary>
    public double LoopRowSeconds { get; init; }

    /// <summary>Attention ops/s of decode rows used by the step model.</summary>
    public double AttentionRate => AttentionOpsPerSecond > 0 ? AttentionOpsPerSecond : Fp32OpsPerSecond;

    /// <summary>Attention ops/s of prefill rows used by the step model.</summary>
    public double PrefillAttentionRate => PrefillAttentionOpsPerSecond > 0 ? PrefillAttentionOpsPerSecond : AttentionRate;

    /// <summary>
    /// Matrix-product rate of the layers at <paramref name="m"/> activation rows: linear in log m between the measured
    /// points of <see cref="GemmRates"/>, the end points' rates outside them; <see cref="MatmulOpsPerSecond"/> when none
    /// were measured.
    /// </summary>
    public double MatmulRateAt(double m) => RateAt(GemmRates, m);

    /// <summary>The output head's product rate at <paramref name="m"/> rows (<see cref="HeadGemmRates"/>, interpolated as
    /// <see cref="MatmulRateAt"/>); the layers' rate when the head's was not measured.</summary>
    public double HeadRateAt(double m) => HeadGemmRates.Count > 0 ? RateAt(HeadGemmRates, m) : MatmulRateAt(m);

    private double RateAt(IReadOnlyList<GemmRate> g, double m)
    {
        if (g.Count == 0) return MatmulOpsPerSecond;
        if (m <= g[0].M) return g[0].OpsPerSecond;
        for (int i = 1; i < g.Count; i++)
        {
            if (m > g[i].M) continue;
            double f = Math.Log(m / g[i - 1].M) / Math.Log((double)g[i].M / g[i - 1].M);
            return g[i - 1].OpsPerSecond + f * (g[i].OpsPerSecond - g[i - 1].OpsPerSecond);
        }
        return g[^1].OpsPerSecond;
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless every rate is positive and finite and the GEMM points rise strictly in m.</summary>
    public void Validate()
    {
        foreach (double v in (double[])[ReadBytesPerSecond, MatmulOpsPerSecond, Fp32OpsPerSecond])
            if (!(v > 0) || double.IsInfinity(v)) throw new ArgumentException($"CPU measurements must be positive and finite, got {v}");
        if (Threads < 1) throw new ArgumentException($"threads must be at least 1, got {Threads}");
        foreach (double v in (double[])[AttentionOpsPerSecond, PrefillAttentionOpsPerSecond, LoopStepSeconds, LoopRowSeconds, StreamedOpsPerSecond])
            if (!(v >= 0) || double.IsInfinity(v)) throw new ArgumentException($"attention rates, the streamed product rate and loop costs must be >= 0 and finite, got {v}");
        foreach (var g in (IReadOnlyList<GemmRate>[])[GemmRates, HeadGemmRates])
            for (int i = 0; i < g.Count; i++)
            {
                if (g[i].M < 1 || (i > 0 && g[i].M <= g[i - 1].M)) throw new ArgumentException("GEMM rates need rising activation-row counts >= 1");
                if (!(g[i].OpsPerSecond > 0) || double.IsInfinity(g[i].OpsPerSecond)) throw new ArgumentException($"GEMM rate at m = {g[i].M} must be positive and finite");
            }
    }

    /// <summary>
    /// The engine loop's cost outside the executor from recorded serving steps: least squares of each step's gap (the
    /// time from the previous executor call's end to its own start: sampling the previous step's rows, handing their
    /// tokens to the streams, the scheduler's update and the next schedule) on the previous step's logits rows,
    /// gap = per step + per row x rows. Steps without a previous step in their wave (NaN gap) are skipped. Both
    /// coefficients are clamped at 0 (a negative fitted intercept or slope means the data cannot tell it from 0).
    /// Returns (0, 0) when fewer than 2 steps have a gap.
    /// </summary>
    public static (double PerStep, double PerRow) LoopCost(IEnumerable<IReadOnlyList<RecordedStep>> waves)
    {
        ArgumentNullException.ThrowIfNull(waves);
        double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        foreach (var steps in waves)
            for (int i = 1; i < steps.Count; i++)
            {
                double y = steps[i].GapSeconds;
                if (!double.IsFinite(y)) continue;
                double x = steps[i - 1].Shape.LogitsRows;
                n++; sx += x; sy += y; sxx += x * x; sxy += x * y;
            }
        if (n < 2) return (0, 0);
        double det = n * sxx - sx * sx;
        if (det <= 1e-12 * n * n) return (Math.Max(sy / n, 0), 0);   // every step had the same row count
        double slope = (n * sxy - sx * sy) / det, intercept = (sy - slope * sx) / n;
        if (slope < 0) return (Math.Max(sy / n, 0), 0);
        if (intercept < 0) return (0, sxy / sxx);
        return (intercept, slope);
    }
}

/// <summary>Mean time to first token and mean time per output token (after the first) of one wave of requests.</summary>
/// <param name="TtftSeconds">Mean over the wave's requests of first-token time minus submit time.</param>
/// <param name="TpotSeconds">Mean over the requests of (last-token time − first-token time) / (output − 1).</param>
/// <param name="Steps">Engine steps the wave took.</param>
public sealed record ServeWaveEstimate(double TtftSeconds, double TpotSeconds, int Steps);

/// <summary>
/// The CPU twin: this machine's CPU as a device of the performance model, built from a measurement run
/// (<see cref="CpuMeasurements"/>: read bandwidth, the engine's GEMM rate at several m, its attention rate), and the
/// engine's benchmark and serving workloads costed step by step with <see cref="CpuStepModel"/>:
/// <list type="bullet">
/// <item>pp (llama-bench): a prompt of n tokens from an empty cache in micro-batches of <c>chunk</c> tokens, each chunk
/// one GEMM step at m = chunk computing the logits of its last token only;</item>
/// <item>tg: n tokens decoded one at a time (m = 1), token k attending to depth + k + 1 positions;</item>
/// <item>a serve wave: <c>streams</c> requests of P prompt and O output tokens submitted together to the serving
/// engine, simulated with the engine's own scheduler (<see cref="ServeWave"/>).</item>
/// </list>
/// Weight bytes are the model file's (mixed quantization types). The CPU's efficiency parameters (bandwidth fraction,
/// compute fraction, per-step, per-layer, host-thread and sampling costs) are fitted on measurements and stored in
/// Catalog/efficiency-cpu.json (<see cref="CpuTwinFit"/>); the machine's figures themselves come from the same run.
/// </summary>
public static class CpuTwin
{
    /// <summary>The CPU as a device: measured bandwidth, dot-kernel rate (as its INT8 figure), FP32 rate; no FP16/FP8 units.</summary>
    public static DeviceSpec Device(CpuMeasurements m, double memoryBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(m);
        m.Validate();
        const string src = "measured in this run (quanta plan twin)";
        Figure F(double? v, string text) => new(v, text, src);
        Figure None(string text) => new(null, text, src);
        return new DeviceSpec("cpu-twin", $"this machine's CPU ({m.Threads} threads)", "measured", ["cpu-twin"], "cpu", "host memory", "measured", "",
            F(memoryBytes > 0 ? memoryBytes / 1e9 : null, "host memory"),
            F(m.ReadBytesPerSecond / 1e12, "read bandwidth"),
            None("no FP16 tensor unit"), None("no FP8 unit"),
            F(m.MatmulOpsPerSecond / 1e12, "weight dot-kernel rate"), None("int4 runs on the int8 dot kernel"), None("n/a"),
            F(m.Fp32OpsPerSecond / 1e12, "FP32 dot rate"), None("not measured"), None("not measured"), None("none"), None("not priced"));
    }

    /// <summary>The fitted CPU efficiency parameters (built-in Catalog/efficiency-cpu.json).</summary>
    public static EfficiencyParameters BuiltInEfficiency() =>
        EfficiencyParameters.Parse(CatalogJson.BuiltIn("efficiency-cpu.json"), "built-in efficiency-cpu.json");

    /// <summary>The CPU step model of <paramref name="model"/> on the measured machine (see <see cref="CpuStepModel"/>).</summary>
    public static CpuStepModel StepModel(ModelSpec model, double weightBytes, Precision kv, CpuMeasurements m, EfficiencyParameters eff, double headBytes = 0) =>
        new(model, weightBytes, kv, m, eff, headBytes);

    /// <summary>
    /// Seconds to prefill <paramref name="tokens"/> prompt tokens from an empty cache in micro-batches of
    /// <paramref name="chunk"/> (llama-bench pp): each chunk is one step computing the logits of its last token, nothing sampled.
    /// </summary>
    public static double PrefillSeconds(CpuStepModel r, int tokens, int chunk)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (tokens < 1 || chunk < 1) throw new ArgumentException("tokens and chunk must be at least 1");
        double s = 0;
        for (int start = 0; start < tokens; start += chunk)
        {
            int c = Math.Min(chunk, tokens - start);
            s += r.Cost(c, 1, 0, start, PairsOf(start, c)).Seconds;
        }
        return s;
    }

    /// <summary>pp tokens/s: <paramref name="tokens"/> / <see cref="PrefillSeconds"/>.</summary>
    public static double PrefillTokensPerSecond(CpuStepModel r, int tokens, int chunk) => tokens / PrefillSeconds(r, tokens, chunk);

    /// <summary>Seconds to decode <paramref name="tokens"/> tokens one at a time after <paramref name="depth"/> cached
    /// positions (llama-bench tg: logits computed, nothing sampled).</summary>
    public static double DecodeSeconds(CpuStepModel r, int tokens, int depth = 0)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (tokens < 1 || depth < 0) throw new ArgumentException("tokens must be at least 1 and depth non-negative");
        double s = 0;
        for (int k = 0; k < tokens; k++) s += r.Cost(1, 1, 0, depth + k, depth + k + 1).Seconds;
        return s;
    }

    /// <summary>tg tokens/s: <paramref name="tokens"/> / <see cref="DecodeSeconds"/>.</summary>
    public static double DecodeTokensPerSecond(CpuStepModel r, int tokens, int depth = 0) => tokens / DecodeSeconds(r, tokens, depth);

    /// <summary>
    /// One wave of <paramref name="streams"/> requests (<paramref name="prompt"/> prompt tokens, <paramref name="output"/>
    /// output tokens each) submitted together at t = 0 to the serving engine, simulated by <see cref="ServingSimulator"/>:
    /// the engine's own <see cref="Quanta.Engine.Scheduling.Scheduler"/> with the serving options the real run uses
    /// (<paramref name="maxBatchTokens"/> tokens per step, at most <paramref name="maxRunning"/> running sequences, a KV
    /// pool holding every request whole, as the serving engine's default pool does), each step costed by
    /// <paramref name="steps"/> (for the CPU: <see cref="CpuStepModel"/>, so a step's prefill chunks and decodes are one
    /// GEMM at m = the step's tokens and every logits row is sampled). TTFT and TPOT as the twin measures them: mean over
    /// requests of first-token time since the wave's start, and of (last − first) / (output − 1).
    /// <para><paramref name="arrivals"/>: when each request reached the engine, seconds after the wave's start (the
    /// benchmark submits one after another, and the engine loop starts its first step with the requests it has by then:
    /// a request arriving during a step waits for its end); null: all at t = 0.</para>
    /// </summary>
    public static ServeWaveEstimate ServeWave(IStepTimeModel steps, int streams, int prompt, int output, int maxBatchTokens, int maxRunning,
        IReadOnlyList<double>? arrivals = null)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (streams < 1 || prompt < 1 || output < 1 || maxBatchTokens < 1 || maxRunning < 1)
            throw new ArgumentException("streams, prompt, output, token budget and running limit must be at least 1");
        if (arrivals != null && arrivals.Count != streams) throw new ArgumentException($"{arrivals.Count} arrival times for {streams} requests", nameof(arrivals));
        const int block = 16;
        int blocksPerRequest = (prompt + output + 1 + block - 1) / block;
        var result = ServingSimulator.Run(new SimulationOptions
        {
            Arrival = arrivals is null ? new ArrivalProcess.Offline() : new ArrivalProcess.Trace(arrivals),
            Prompt = new LengthDistribution.Fixed(prompt),
            Output = new LengthDistribution.Fixed(output),
            Requests = streams,
            MaxBatchTokens = maxBatchTokens,
            MaxRunning = maxRunning,
            BlockSize = block,
            KvBlocks = checked(streams * blocksPerRequest + 2),
            WarmupFraction = 0,
        }, steps);
        if (result.Completed != streams) throw new InvalidOperationException($"the simulated wave completed {result.Completed} of {streams} requests");
        double meanArrival = arrivals is null ? 0 : arrivals.Average();   // TTFT is counted from the wave's start
        return new ServeWaveEstimate(result.Ttft.Mean + meanArrival, output > 1 ? result.Tpot.Mean : 0, (int)result.Steps);
    }

    /// <summary>Sum over <paramref name="count"/> new tokens at positions start.. of the positions each attends to (itself included).</summary>
    public static double PairsOf(double start, double count) => count * start + count * (count + 1) / 2;
}
