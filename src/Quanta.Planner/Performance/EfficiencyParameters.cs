using System.Text.Json;
using Quanta.Planner.Catalogs;

namespace Quanta.Planner.Performance;

/// <summary>
/// The few physically meaningful efficiency parameters of the performance model, fitted on measured rows and stored
/// in Catalog/efficiency.json with the fit date and the rows used.
/// </summary>
/// <param name="EffBandwidth">Achievable fraction of peak memory bandwidth (0..1).</param>
/// <param name="EffComputePrefill">Achievable fraction of peak tensor throughput in prefill (large matrix products).</param>
/// <param name="EffComputeDecode">Achievable fraction of peak tensor throughput in batched decode steps.</param>
/// <param name="StepOverheadS">Fixed seconds per model step (kernel launches, scheduling, sampling).</param>
/// <param name="EffComputeDense">Achievable fraction of peak tensor throughput for vision / recommendation models.</param>
/// <param name="ServerUtilization">Fraction of its offline throughput a system sustains under Poisson arrivals with a tail-latency bound.</param>
public sealed record EfficiencyParameters(double EffBandwidth, double EffComputePrefill, double EffComputeDecode, double StepOverheadS,
    double EffComputeDense, double ServerUtilization)
{
    /// <summary>
    /// Achievable fraction of the tensor-throughput fraction that a mixture-of-experts model's routed expert matrix
    /// products reach (grouped GEMMs over uneven per-expert token counts, plus routing); 1 for dense models.
    /// </summary>
    public double EffComputeMoe { get; init; } = 1;

    /// <summary>
    /// Fraction of a tuned deployment's throughput that a run at an engine's default settings reaches (vendor tables
    /// measured with trtllm-bench "left at default settings", as their source states: untuned batch and token limits,
    /// default scheduler); 1 for tuned deployments such as MLPerf submissions.
    /// </summary>
    public double DefaultSettingsThroughput { get; init; } = 1;

    /// <summary>
    /// Fixed seconds per layer per step on top of <see cref="StepOverheadS"/>: the synchronization of each layer's
    /// parallel regions (thread barriers on a CPU, kernel launches without graphs on a GPU); 0 when not fitted.
    /// </summary>
    public double LayerOverheadS { get; init; }

    /// <summary>
    /// Seconds per activation element of the per-token work a CPU engine does on its calling thread, outside the
    /// parallel matrix products (norms, rotary, activation functions, residual adds, the activation quantization before
    /// each product): a step of T tokens spends T x elements-per-token x this (see <see cref="CpuStepModel"/>); 0 when
    /// not fitted.
    /// </summary>
    public double HostElementS { get; init; }

    /// <summary>
    /// Seconds per sampled logits row in a serving step beyond what the step model measures itself: the CPU twin measures
    /// the engine loop's time outside the executor (sampling and the token's hand-off included) on the serving engine's
    /// recorded steps (<see cref="CpuMeasurements.LoopRowSeconds"/>) and no longer fits this (it stays 0); serving only,
    /// the benchmarks' pp and tg sample nothing; 0 when not fitted.
    /// </summary>
    public double SampleRowS { get; init; }

    /// <summary>
    /// CPU weight products: the fraction of the shorter of a product's two roofline times (weight bytes / achievable
    /// bandwidth, ops / the kernels' own rate) that does not overlap the longer one, t = max(tm, tc) + k min(tm, tc)
    /// (<see cref="CpuStepModel.Roofline"/>): 0 is the plain roofline (memory traffic and kernel work overlap
    /// perfectly), 1 runs them one after the other. Used where the run did not measure the overlap itself (a CPU-twin
    /// bracket reads it from the model's own products streamed from memory, <see cref="CpuMeasurements.StreamedOpsPerSecond"/>);
    /// 0 when not fitted.
    /// </summary>
    public double OverlapK { get; init; }

    /// <summary>
    /// Fixed seconds once per request, outside the model steps: request parsing and tokenization, admission, the first
    /// step's host-side setup and detokenization. It adds to time to first token (and so to end-to-end latency), never
    /// to the time per output token; 0 when not fitted. Without it a single TTFT measurement would be explained by a
    /// large per-step overhead that then inflates every decode step.
    /// </summary>
    public double RequestOverheadS { get; init; }

    /// <summary>Date of the fit ("unfitted" for hand-set values).</summary>
    public string FitDate { get; init; } = "unfitted";

    /// <summary>Ids of the calibration rows the fit used.</summary>
    public IReadOnlyList<string> RowsUsed { get; init; } = [];

    /// <summary>How the fit was made.</summary>
    public string? Method { get; init; }

    /// <summary>File format tag.</summary>
    public string Format { get; init; } = "quanta-efficiency/1";

    /// <summary>Why the rows were chosen (free text).</summary>
    public string? WhyTheseRows { get; init; }

    /// <summary>Caveats of the fit (free text).</summary>
    public string? Note { get; init; }

    /// <summary>The command that reproduces the fit.</summary>
    public string? RefitWith { get; init; }

    /// <summary>
    /// The parameters as a vector (for fitting): constructor order, then <see cref="EffComputeMoe"/>,
    /// <see cref="DefaultSettingsThroughput"/> and <see cref="RequestOverheadS"/>. Indices 3 and 8 (the overheads, in
    /// seconds) are the ones that are not fractions: see <see cref="IsSeconds"/>.
    /// </summary>
    public double[] ToVector() => [EffBandwidth, EffComputePrefill, EffComputeDecode, StepOverheadS, EffComputeDense, ServerUtilization,
        EffComputeMoe, DefaultSettingsThroughput, RequestOverheadS];

    /// <summary>The JSON names of the <see cref="ToVector"/> entries, in order.</summary>
    public static IReadOnlyList<string> VectorNames { get; } = ["eff_bandwidth", "eff_compute_prefill", "eff_compute_decode", "step_overhead_s",
        "eff_compute_dense", "server_utilization", "eff_compute_moe", "default_settings_throughput", "request_overhead_s"];

    /// <summary>Whether entry <paramref name="index"/> of <see cref="ToVector"/> is a time in seconds (not a fraction).</summary>
    public static bool IsSeconds(int index) => index is 3 or 8;

    /// <summary>Parameters from a vector in <see cref="ToVector"/> order (6 entries leave the later ones at 1, 1 and 0).</summary>
    public static EfficiencyParameters FromVector(IReadOnlyList<double> v) => new(v[0], v[1], v[2], v[3], v[4], v[5])
    {
        EffComputeMoe = v.Count > 6 ? v[6] : 1,
        DefaultSettingsThroughput = v.Count > 7 ? v[7] : 1,
        RequestOverheadS = v.Count > 8 ? v[8] : 0,
    };

    /// <summary>The built-in fitted parameters (Catalog/efficiency.json).</summary>
    public static EfficiencyParameters BuiltIn() => Parse(CatalogJson.BuiltIn("efficiency.json"), "built-in efficiency.json");

    /// <summary>Reads parameters from a file of the efficiency.json format.</summary>
    public static EfficiencyParameters Load(string path) =>
        File.Exists(path) ? Parse(File.ReadAllText(path), path) : throw new FileNotFoundException($"efficiency file not found: {path}", path);

    /// <summary>Parses an efficiency.json document; values outside their physical range are rejected.</summary>
    public static EfficiencyParameters Parse(string json, string origin)
    {
        var e = CatalogJson.Parse<EfficiencyParameters>(json, origin);
        foreach (double f in (double[])[e.EffBandwidth, e.EffComputePrefill, e.EffComputeDecode, e.EffComputeDense, e.ServerUtilization, e.EffComputeMoe, e.DefaultSettingsThroughput])
            if (!(f > 0 && f <= 1)) throw new InvalidDataException($"{origin}: efficiencies must lie in (0, 1]");
        if (!(e.StepOverheadS >= 0)) throw new InvalidDataException($"{origin}: step_overhead_s must be >= 0");
        if (!(e.RequestOverheadS >= 0) || double.IsInfinity(e.RequestOverheadS)) throw new InvalidDataException($"{origin}: request_overhead_s must be >= 0");
        if (!(e.LayerOverheadS >= 0) || double.IsInfinity(e.LayerOverheadS)) throw new InvalidDataException($"{origin}: layer_overhead_s must be >= 0");
        if (!(e.HostElementS >= 0) || double.IsInfinity(e.HostElementS)) throw new InvalidDataException($"{origin}: host_element_s must be >= 0");
        if (!(e.SampleRowS >= 0) || double.IsInfinity(e.SampleRowS)) throw new InvalidDataException($"{origin}: sample_row_s must be >= 0");
        if (!(e.OverlapK >= 0 && e.OverlapK <= 1)) throw new InvalidDataException($"{origin}: overlap_k must lie in [0, 1]");
        return e;
    }

    /// <summary>The document text (snake_case JSON).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, CatalogJson.Options);
}
