using System.Globalization;
using Quanta.Planner.Catalogs;

namespace Quanta.Planner.Performance;

/// <summary>
/// The workloads a CPU-twin run times, with the engine settings they run under, and the twin's prediction of each
/// compared quantity: "ppN" (prefill tokens/s), "tgN" (decode tokens/s), "ttft@S" and "tpot@S" (ms, serve wave of S
/// streams).
/// </summary>
/// <param name="Prompt">Prompt tokens of the pp test.</param>
/// <param name="Gen">Tokens of the tg test.</param>
/// <param name="MicroBatch">The benchmark's prefill micro-batch (tokens per prefill step of pp).</param>
/// <param name="ServePrompt">Prompt tokens of each serve request.</param>
/// <param name="ServeOutput">Output tokens of each serve request.</param>
/// <param name="MaxBatchTokens">The serving engine's token budget per step.</param>
/// <param name="MaxRunning">The serving engine's running-sequence limit.</param>
public sealed record CpuTwinWorkload(int Prompt, int Gen, int MicroBatch, int ServePrompt, int ServeOutput, int MaxBatchTokens, int MaxRunning)
{
    /// <summary>
    /// Streams → when each of the wave's requests reached the engine, seconds after the wave's start (averaged over the
    /// waves); a wave without an entry is simulated with every request at t = 0.
    /// </summary>
    public IReadOnlyDictionary<int, IReadOnlyList<double>> Arrivals { get; init; } = new Dictionary<int, IReadOnlyList<double>>();

    /// <summary>The twin's prediction of <paramref name="quantity"/> (tokens/s for pp and tg, ms for TTFT and TPOT).</summary>
    /// <exception cref="ArgumentException">An unknown quantity name.</exception>
    public double Predict(CpuStepModel model, string quantity)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(quantity);
        if (quantity.StartsWith("pp", StringComparison.Ordinal)) return CpuTwin.PrefillTokensPerSecond(model, Prompt, MicroBatch);
        if (quantity.StartsWith("tg", StringComparison.Ordinal)) return CpuTwin.DecodeTokensPerSecond(model, Gen);
        int at = quantity.IndexOf('@', StringComparison.Ordinal);
        bool ttft = quantity.StartsWith("ttft@", StringComparison.Ordinal), tpot = quantity.StartsWith("tpot@", StringComparison.Ordinal);
        if ((!ttft && !tpot) || !int.TryParse(quantity.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int streams) || streams < 1)
            throw new ArgumentException($"unknown twin quantity '{quantity}' (ppN, tgN, ttft@S, tpot@S)", nameof(quantity));
        var w = CpuTwin.ServeWave(model, streams, ServePrompt, ServeOutput, MaxBatchTokens, MaxRunning, Arrivals.GetValueOrDefault(streams));
        return (ttft ? w.TtftSeconds : w.TpotSeconds) * 1e3;
    }
}

/// <summary>
/// One model's CPU-twin run as the fit needs it: the model, its weight bytes, the machine figures measured in the run,
/// the workloads, and the measured value of each quantity.
/// </summary>
/// <param name="Name">Model (file) name.</param>
/// <param name="Spec">Model shape.</param>
/// <param name="WeightBytes">Weight bytes of the file.</param>
/// <param name="Kv">KV-cache precision.</param>
/// <param name="Machine">Machine figures of the run (of its benchmark phase when <see cref="ServeMachine"/> is set).</param>
/// <param name="Workload">Workloads and engine settings.</param>
/// <param name="Measured">Quantity name → measured value.</param>
public sealed record CpuTwinObservation(string Name, ModelSpec Spec, double WeightBytes, Precision Kv, CpuMeasurements Machine, CpuTwinWorkload Workload,
    IReadOnlyList<KeyValuePair<string, double>> Measured)
{
    /// <summary>
    /// Machine figures read around the serve waves (TTFT and TPOT are predicted from them); null: <see cref="Machine"/>.
    /// On a shared machine the load, and with it the bandwidth and kernel rates, can change between a run's phases.
    /// </summary>
    public CpuMeasurements? ServeMachine { get; init; }

    /// <summary>Bytes of the output head in the file (0: its parameter share of <see cref="WeightBytes"/>).</summary>
    public double HeadBytes { get; init; }

    /// <summary>The serving engine's recorded steps of one serve wave of <paramref name="Streams"/> streams.</summary>
    /// <param name="Streams">Concurrent streams of the wave.</param>
    /// <param name="Steps">Its steps, in order.</param>
    public sealed record WaveSteps(int Streams, IReadOnlyList<RecordedStep> Steps);

    /// <summary>The serve waves' recorded steps (empty: none recorded).</summary>
    public IReadOnlyList<WaveSteps> ServeSteps { get; init; } = [];

    /// <summary>
    /// Quantity → the read bandwidth (bytes/s) measured immediately around that quantity's measurement (the mean of a
    /// reading before and one after it); a quantity without an entry is predicted from its phase's
    /// <see cref="CpuMeasurements.ReadBytesPerSecond"/>. The serve waves' step rows ("prefill-steps@S",
    /// "decode-steps@S") take the entry of "ttft@S". The machine's bandwidth changes state by itself between
    /// measurements, so each is predicted from the state it ran in.
    /// </summary>
    public IReadOnlyDictionary<string, double> Bandwidths { get; init; } = new Dictionary<string, double>();

    /// <summary>
    /// Quantity → the factor by which the kernels ran faster or slower around that quantity's measurement than when the
    /// phase's GEMM rates were probed (the ratio of m = 1 readings); it scales the m = 1 rates of the layers and the head
    /// for that quantity (rates between m = 1 and the next probed m follow by interpolation). The larger m keep their
    /// probed rates: what moves an m = 1 reading between brackets on this machine is mostly the per-call cost of the
    /// pool's hand-offs (the two cores on one core complex or on two), which a call with m times the work amortizes;
    /// scaling every m by the m = 1 ratio put the 1B 16-stream rows of the fast state 16-17% slow (two runs of
    /// 2026-11-27 16:12-16:20: 19 of 24 rows within 15% scaling every m, 22 of 24 scaling m = 1 only;
    /// docs/benchmarks.md). Keys and fallback as <see cref="Bandwidths"/>; none: 1.
    /// </summary>
    public IReadOnlyDictionary<string, double> KernelScales { get; init; } = new Dictionary<string, double>();

    /// <summary>
    /// Quantity → the factor by which the layers' hot products ran faster or slower around that quantity's measurement
    /// than when the phase's GEMM rates were probed, read at several m (the ratio of the bracket's readings at each m to
    /// the phase probe's at the same m; m rising). Where present it replaces <see cref="KernelScales"/>: every probed m
    /// of the layers and the head is scaled by the factor at its m (interpolated in log m between the bracket's m,
    /// the nearest one's outside them), so a core that ran faster or slower around a measurement moves the prediction
    /// of its prefill chunks and batched decodes by what it did at their m, not by the m = 1 ratio (160M, 18:41 run: the
    /// kept 16-stream wave's m = 1 reading was 17% over the phase's and its 256-token steps ran 19% faster than the same
    /// steps of the 4-stream wave, while the 1B's m = 1 reading fell 11% around a wave whose prefill ran at the phase's
    /// rates). Keys and fallback as <see cref="Bandwidths"/>; none: <see cref="KernelScales"/>.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<KernelScale>> KernelScalesAt { get; init; } = new Dictionary<string, IReadOnlyList<KernelScale>>();

    /// <summary>A bracket's kernel factor at <paramref name="M"/> activation rows (<see cref="KernelScalesAt"/>).</summary>
    public sealed record KernelScale(int M, double Scale);

    /// <summary>The factor at <paramref name="m"/> from <paramref name="scales"/> (m rising, factors positive): linear in
    /// log m between the two nearest, the nearest one's outside them.</summary>
    public static double ScaleAt(IReadOnlyList<KernelScale> scales, double m)
    {
        ArgumentNullException.ThrowIfNull(scales);
        if (scales.Count == 0) return 1;
        if (m <= scales[0].M) return scales[0].Scale;
        for (int i = 1; i < scales.Count; i++)
            if (m <= scales[i].M)
            {
                double f = Math.Log(m / scales[i - 1].M) / Math.Log((double)scales[i].M / scales[i - 1].M);
                return scales[i - 1].Scale + f * (scales[i].Scale - scales[i - 1].Scale);
            }
        return scales[^1].Scale;
    }

    /// <summary>
    /// Quantity → the layers' m = 1 product rate on the model's weights streamed from memory, ops/s, read immediately
    /// around that quantity's measurement (the mean of a reading before and one after it), which with the bandwidth and
    /// the kernel rate of the same bracket gives the products' overlap (<see cref="CpuStepModel.Overlap"/>). Keys and
    /// fallback as <see cref="Bandwidths"/>; none: <see cref="EfficiencyParameters.OverlapK"/>.
    /// </summary>
    public IReadOnlyDictionary<string, double> StreamedRates { get; init; } = new Dictionary<string, double>();

    /// <summary>
    /// Quantity → seconds the JIT spent compiling (all threads) during the serve waves kept for that quantity (TTFT and
    /// TPOT of a wave size share them). Not a model input: a measurement with the JIT's background thread busy ran on
    /// fewer cores than the engine's threads (the twin reruns a wave whose JIT time is over 1% of it); kept so a saved run
    /// says how clean its serve rows were. None: not recorded (runs saved before 2026-11-27 18:00 UTC).
    /// </summary>
    public IReadOnlyDictionary<string, double> JitSeconds { get; init; } = new Dictionary<string, double>();

    /// <summary>The step model <paramref name="quantity"/> is predicted with: its phase's machine figures (the serve
    /// machine's for a quantity with '@') with the bandwidth read around its own measurement and the GEMM rates scaled
    /// by its <see cref="KernelScalesAt"/> entry at each m, or without one the m = 1 rates by its <see cref="KernelScales"/>
    /// entry.</summary>
    public CpuStepModel ModelFor(EfficiencyParameters eff, string quantity)
    {
        ArgumentNullException.ThrowIfNull(quantity);
        var machine = MachineOf(quantity);
        string key = BracketOf(quantity);
        if (Bandwidths.TryGetValue(key, out double bw)) machine = machine with { ReadBytesPerSecond = bw };
        if (StreamedOf(key) is double sr and > 0) machine = machine with { StreamedOpsPerSecond = sr };
        if (KernelScalesAt.TryGetValue(key, out var at) && at.Count > 0 && at.All(a => a.M >= 1 && a.Scale > 0 && double.IsFinite(a.Scale)))
            machine = machine with
            {
                GemmRates = machine.GemmRates.Select(g => g with { OpsPerSecond = g.OpsPerSecond * ScaleAt(at, g.M) }).ToList(),
                HeadGemmRates = machine.HeadGemmRates.Select(g => g with { OpsPerSecond = g.OpsPerSecond * ScaleAt(at, g.M) }).ToList(),
                MatmulOpsPerSecond = machine.MatmulOpsPerSecond * ScaleAt(at, 1),
            };
        else if (KernelScales.TryGetValue(key, out double k) && k > 0 && double.IsFinite(k) && k != 1)
            machine = machine with
            {
                GemmRates = machine.GemmRates.Select(g => g.M == 1 ? g with { OpsPerSecond = g.OpsPerSecond * k } : g).ToList(),
                HeadGemmRates = machine.HeadGemmRates.Select(g => g.M == 1 ? g with { OpsPerSecond = g.OpsPerSecond * k } : g).ToList(),
                MatmulOpsPerSecond = machine.MatmulOpsPerSecond * k,
            };
        return CpuTwin.StepModel(Spec, WeightBytes, Kv, machine, eff, HeadBytes);
    }

    /// <summary>Whether <paramref name="quantity"/> is predicted with an overlap read in the run (a streamed reading of its
    /// bracket, or of its phase's machine figures) rather than <see cref="EfficiencyParameters.OverlapK"/>.</summary>
    public bool ReadsOverlap(string quantity)
    {
        ArgumentNullException.ThrowIfNull(quantity);
        return StreamedOf(BracketOf(quantity)) > 0 || MachineOf(quantity).StreamedOpsPerSecond > 0;
    }

    // the streamed reading of a bracket when it is a usable rate (positive and finite), else 0
    private double StreamedOf(string key) => StreamedRates.TryGetValue(key, out double sr) && sr > 0 && double.IsFinite(sr) ? sr : 0;

    // the phase's machine figures of a quantity: the serve machine's for one with '@'
    private CpuMeasurements MachineOf(string quantity) => quantity.Contains('@', StringComparison.Ordinal) ? ServeMachine ?? Machine : Machine;

    // the key of a quantity's bracket in Bandwidths, KernelScales(At) and StreamedRates: a serve wave's rows without their own
    // entry take the wave's TTFT bracket
    private string BracketOf(string quantity) =>
        quantity.Contains('@', StringComparison.Ordinal) && !Bandwidths.ContainsKey(quantity) ? "ttft" + quantity[quantity.IndexOf('@', StringComparison.Ordinal)..] : quantity;

    /// <summary>(quantity, predicted, measured) of every measured quantity under <paramref name="eff"/>.</summary>
    public IEnumerable<(string Quantity, double Predicted, double Measured)> Predict(EfficiencyParameters eff)
    {
        foreach (var (q, m) in Measured) yield return (q, Workload.Predict(ModelFor(eff, q), q), m);
    }

    /// <summary>
    /// Which limit bounds the weight products of <paramref name="quantity"/>'s typical step under
    /// <paramref name="eff"/>: "memory-bound" (weight bytes / achievable bandwidth) or "kernel-bound" (the kernels' own
    /// rate), for a decode of one token (tg), of S tokens (tpot@S), or a prefill chunk (pp: the micro-batch; ttft@S: the
    /// serving engine's token budget), followed by " (overlap k)" when k is not 0 (<see cref="CpuStepModel.Overlap"/>).
    /// </summary>
    public string BoundOf(EfficiencyParameters eff, string quantity)
    {
        ArgumentNullException.ThrowIfNull(quantity);
        var w = Workload;
        int at = quantity.IndexOf('@', StringComparison.Ordinal);
        int streams = at >= 0 && int.TryParse(quantity.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int s) ? s : 1;
        double tokens = quantity.StartsWith("pp", StringComparison.Ordinal) ? Math.Min(w.MicroBatch, w.Prompt)
            : quantity.StartsWith("ttft", StringComparison.Ordinal) ? Math.Min(w.MaxBatchTokens, (double)streams * w.ServePrompt)
            : Math.Min(streams, w.MaxRunning);
        var model = ModelFor(eff, quantity);
        var c = model.Cost(tokens, 1, 0, 0, CpuTwin.PairsOf(0, tokens));
        return (c.ProductsMemoryBound ? "memory-bound" : "kernel-bound")
            + (model.Overlap > 0 ? string.Create(CultureInfo.InvariantCulture, $" (overlap {model.Overlap:0.00})") : "")
            + (model.CacheGain > 1 ? string.Create(CultureInfo.InvariantCulture, $" (cache gain {model.CacheGain:0.00})") : "");
    }

    /// <summary>
    /// The executor time of the recorded serve steps, predicted (the step model's cost without the engine loop) against
    /// measured, summed per wave size over two groups: "prefill-steps@S" (steps with prompt tokens) and
    /// "decode-steps@S" (steps of decodes only), in seconds; groups without steps are left out.
    /// </summary>
    public IEnumerable<(string Quantity, double Predicted, double Measured)> PredictSteps(EfficiencyParameters eff)
    {
        if (ServeSteps.Count == 0) yield break;
        foreach (var g in ServeSteps.GroupBy(w => w.Streams).OrderBy(g => g.Key))
        {
            var serve = ModelFor(eff, string.Create(CultureInfo.InvariantCulture, $"ttft@{g.Key}"));
            double pp = 0, pm = 0, dp = 0, dm = 0;
            foreach (var wave in g)
                foreach (var s in wave.Steps)
                {
                    var sh = s.Shape;
                    double decodePairs = sh.PrefillTokens == 0 ? sh.AttendedPairs : Math.Min(sh.DecodePairs, sh.AttendedPairs);
                    double predicted = serve.Cost(sh.Tokens, sh.LogitsRows, 0, sh.KvReadTokens, sh.AttendedPairs, decodePairs).Seconds;
                    if (sh.PrefillTokens > 0) { pp += predicted; pm += s.ExecuteSeconds; } else { dp += predicted; dm += s.ExecuteSeconds; }
                }
            if (pm > 0) yield return (string.Create(CultureInfo.InvariantCulture, $"prefill-steps@{g.Key}"), pp, pm);
            if (dm > 0) yield return (string.Create(CultureInfo.InvariantCulture, $"decode-steps@{g.Key}"), dp, dm);
        }
    }
}
