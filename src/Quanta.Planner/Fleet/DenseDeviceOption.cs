using Quanta.Planner.Catalogs;

namespace Quanta.Planner.Fleet;

/// <summary>The sizing of one device type for a <see cref="DenseWorkload"/>; fleet figures are null when infeasible.</summary>
public sealed record DenseDeviceOption
{
    /// <summary>The device.</summary>
    public required DeviceSpec Device { get; init; }

    /// <summary>Whether the device meets the latency bound at some batch.</summary>
    public required bool Feasible { get; init; }

    /// <summary>Why not, when infeasible.</summary>
    public string? Reason { get; init; }

    /// <summary>Batch size chosen (the largest within the latency bound).</summary>
    public int Batch { get; init; }

    /// <summary>Seconds to compute one batch.</summary>
    public double BatchSeconds { get; init; }

    /// <summary>Worst-case sample latency: waiting for a batch to form plus computing it (2 x batch time).</summary>
    public double LatencySeconds { get; init; }

    /// <summary>Samples/s one device sustains at that batch.</summary>
    public double SamplesPerSecondPerDevice { get; init; }

    /// <summary>Devices needed.</summary>
    public long Devices { get; init; }

    /// <summary>Load of each device as a fraction of its throughput at the batch.</summary>
    public double Load { get; init; }

    /// <summary>Price of one device-hour, USD (null when unknown).</summary>
    public double? PricePerDeviceHour { get; init; }

    /// <summary>Fleet cost per hour, USD.</summary>
    public double? UsdPerHour { get; init; }

    /// <summary>USD per million samples.</summary>
    public double? UsdPerMillionSamples { get; init; }

    /// <summary>Watts per device at the operating load.</summary>
    public double? WattsPerDevice { get; init; }

    /// <summary>Joules per sample (watt-seconds per inference).</summary>
    public double? JoulesPerSample { get; init; }
}
