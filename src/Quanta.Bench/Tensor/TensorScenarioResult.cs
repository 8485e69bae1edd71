namespace Quanta.Bench.Tensor;

/// <summary>
/// One scenario run of one model, after MLPerf LoadGen. SingleStream: <see cref="Batch"/> 1, queries one after
/// another, metric the 90th-percentile latency. Offline: batches of <see cref="Batch"/> samples back to back, metric
/// samples/s. Server: one-sample queries with Poisson arrivals at <see cref="TargetQps"/> through the dynamic batcher,
/// latency measured from each query's scheduled arrival, metric whether the 99th percentile stays within
/// <see cref="LatencyBoundMs"/> (<see cref="Valid"/>). Latencies in milliseconds.
/// </summary>
public sealed record TensorScenarioResult
{
    /// <summary>Model (target) name.</summary>
    public required string Model { get; init; }
    /// <summary>"SingleStream", "Offline" or "Server".</summary>
    public required string Scenario { get; init; }
    /// <summary>What a sample is ("images", "sentences", "samples").</summary>
    public required string Unit { get; init; }
    /// <summary>Samples per model run (SingleStream 1; Server: the largest batch the batcher may form).</summary>
    public int Batch { get; init; }
    /// <summary>Graph threads (QUANTA_GRAPH_THREADS).</summary>
    public int Threads { get; init; }
    /// <summary>Queries completed.</summary>
    public int Queries { get; init; }
    /// <summary>Samples completed.</summary>
    public long Samples { get; init; }
    /// <summary>Wall time of the measured part, seconds.</summary>
    public double DurationSeconds { get; init; }
    /// <summary>Samples per second.</summary>
    public double SamplesPerSecond { get; init; }
    /// <summary>Queries per second.</summary>
    public double QueriesPerSecond { get; init; }
    /// <summary>Mean query latency.</summary>
    public double MeanMs { get; init; }
    /// <summary>Median latency.</summary>
    public double P50Ms { get; init; }
    /// <summary>90th percentile latency (SingleStream's metric).</summary>
    public double P90Ms { get; init; }
    /// <summary>99th percentile latency (Server's constraint).</summary>
    public double P99Ms { get; init; }
    /// <summary>Largest latency.</summary>
    public double MaxMs { get; init; }
    /// <summary>Server: target arrival rate (queries/s).</summary>
    public double? TargetQps { get; init; }
    /// <summary>Server: the p99 latency bound.</summary>
    public double? LatencyBoundMs { get; init; }
    /// <summary>Server: p99 within the bound and every query answered.</summary>
    public bool? Valid { get; init; }
    /// <summary>Server: queries refused (queue full) or failed.</summary>
    public int Failed { get; init; }
    /// <summary>Server: model runs (batches) the batcher started.</summary>
    public long? Batches { get; init; }

    /// <summary>Latency statistics of <paramref name="latenciesMs"/> (nearest-rank percentiles, as LoadGen).</summary>
    public static (double Mean, double P50, double P90, double P99, double Max) Stats(IReadOnlyList<double> latenciesMs)
    {
        ArgumentNullException.ThrowIfNull(latenciesMs);
        if (latenciesMs.Count == 0) return (0, 0, 0, 0, 0);
        var s = latenciesMs.Order().ToArray();
        double P(double q) => s[Math.Clamp((int)Math.Ceiling(q * s.Length) - 1, 0, s.Length - 1)];
        return (s.Average(), P(0.5), P(0.9), P(0.99), s[^1]);
    }
}
