using Quanta.Planner.Catalogs;

namespace Quanta.Planner.Fleet;

/// <summary>
/// A vision or recommendation serving workload (ResNet-50, RetinaNet, DLRMv2, ...): samples (images, queries) per
/// second at a latency bound, with a utilization cap.
/// </summary>
public sealed record DenseWorkload
{
    /// <summary>The model (kind vision or recsys).</summary>
    public required ModelSpec Model { get; init; }

    /// <summary>Math precision.</summary>
    public Precision Precision { get; init; } = Precision.Int8;

    /// <summary>Total samples per second of the fleet.</summary>
    public required double SamplesPerSecond { get; init; }

    /// <summary>Bound on a sample's latency (queueing for a batch plus computing it), seconds; null = none.</summary>
    public double? LatencyBoundS { get; init; }

    /// <summary>Most of a device's throughput (at the chosen batch) it may be loaded with (0, 1].</summary>
    public double UtilizationCap { get; init; } = 1;

    /// <summary>Largest batch tried.</summary>
    public int MaxBatch { get; init; } = 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        if (Model is null || Model.IsLlm) throw new ArgumentException("a dense workload needs a vision or recommendation model");
        if (!(SamplesPerSecond > 0) || double.IsInfinity(SamplesPerSecond)) throw new ArgumentException($"sample rate must be positive, got {SamplesPerSecond}");
        if (!(UtilizationCap > 0 && UtilizationCap <= 1)) throw new ArgumentException($"utilization cap must lie in (0, 1], got {UtilizationCap}");
        if (LatencyBoundS is double b && !(b > 0)) throw new ArgumentException($"latency bound must be positive, got {b}");
        if (MaxBatch < 1) throw new ArgumentException("max batch must be at least 1");
    }
}
