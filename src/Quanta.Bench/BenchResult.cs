namespace Quanta.Bench;

/// <summary>
/// One test's result, with llama-bench's JSON field names where they exist (model_filename, model_type, model_size,
/// model_n_params, backends, n_threads, type_k, type_v, n_prompt, n_gen, n_depth, test_time, avg_ns, stddev_ns,
/// avg_ts, stddev_ts, samples_ns, samples_ts) and the bandwidth fields this tool adds for tg tests (null otherwise):
/// bytes_per_token (see <see cref="TokenFootprint"/>), bw_before_gbps / bw_after_gbps (read bandwidth measured right
/// before and after), effective_gbps (bytes_per_token · avg_ts), bound_ts (mean bandwidth / bytes_per_token),
/// bound_fraction (avg_ts / bound_ts), bw_attempts (runs made), bw_unstable (the readings still differed by more than
/// the tolerance after the last attempt).
/// </summary>
public sealed record BenchResult
{
    /// <summary>Engine that ran ("quanta", "llama.cpp").</summary>
    public required string Engine { get; init; }
    /// <summary>Model file path.</summary>
    public required string ModelFilename { get; init; }
    /// <summary>"arch size ftype", e.g. "llama 1B Q4_0".</summary>
    public required string ModelType { get; init; }
    /// <summary>Bytes of all tensors.</summary>
    public required long ModelSize { get; init; }
    /// <summary>Elements of all tensors.</summary>
    public required long ModelNParams { get; init; }
    /// <summary>Always "CPU".</summary>
    public string Backends { get; init; } = "CPU";
    /// <summary>Threads.</summary>
    public required int NThreads { get; init; }
    /// <summary>Key cache type ("f16"/"f32").</summary>
    public required string TypeK { get; init; }
    /// <summary>Value cache type.</summary>
    public required string TypeV { get; init; }
    /// <summary>Prompt tokens timed.</summary>
    public required int NPrompt { get; init; }
    /// <summary>Generated tokens timed.</summary>
    public required int NGen { get; init; }
    /// <summary>Tokens cached before the test.</summary>
    public required int NDepth { get; init; }
    /// <summary>Test name ("pp512", "tg128", "pp512+tg128", "... @ dN").</summary>
    public required string Test { get; init; }
    /// <summary>UTC start time, ISO 8601.</summary>
    public required string TestTime { get; init; }
    /// <summary>Mean nanoseconds per repetition.</summary>
    public required long AvgNs { get; init; }
    /// <summary>Sample standard deviation of the nanoseconds.</summary>
    public required long StddevNs { get; init; }
    /// <summary>Mean tokens per second over the repetitions.</summary>
    public required double AvgTs { get; init; }
    /// <summary>Sample standard deviation of tokens per second.</summary>
    public required double StddevTs { get; init; }
    /// <summary>Nanoseconds of every repetition.</summary>
    public required IReadOnlyList<long> SamplesNs { get; init; }
    /// <summary>Tokens per second of every repetition.</summary>
    public required IReadOnlyList<double> SamplesTs { get; init; }
    /// <summary>Bytes a generated token reads (tg only).</summary>
    public double? BytesPerToken { get; init; }
    /// <summary>Read bandwidth before the run, GB/s (tg only).</summary>
    public double? BwBeforeGbps { get; init; }
    /// <summary>Read bandwidth after the run, GB/s (tg only).</summary>
    public double? BwAfterGbps { get; init; }
    /// <summary>Weights and KV read per second, GB/s (tg only).</summary>
    public double? EffectiveGbps { get; init; }
    /// <summary>Tokens per second the mean bandwidth allows (tg only).</summary>
    public double? BoundTs { get; init; }
    /// <summary>avg_ts / bound_ts (tg only).</summary>
    public double? BoundFraction { get; init; }
    /// <summary>Runs made until the readings agreed (tg only).</summary>
    public int? BwAttempts { get; init; }
    /// <summary>The readings differed by more than the tolerance on the last attempt (tg only).</summary>
    public bool? BwUnstable { get; init; }
}
