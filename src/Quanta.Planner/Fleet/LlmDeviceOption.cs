using Quanta.Planner.Catalogs;
using Quanta.Planner.Simulation;

namespace Quanta.Planner.Fleet;

/// <summary>One probe of the rate search: the offered rate per replica and what the simulation measured.</summary>
/// <param name="Rate">Offered requests/s per replica.</param>
/// <param name="Result">The simulation's result.</param>
/// <param name="Ok">Whether this rate meets the SLOs, the utilization cap and keeps up with arrivals.</param>
public sealed record RateProbe(double Rate, SimulationResult Result, bool Ok);

/// <summary>Result of <see cref="LlmFleetSizer.MaxRate"/>.</summary>
/// <param name="Tp">Tensor-parallel degree.</param>
/// <param name="SaturationRequestsPerSecond">Offline (all at once) throughput, requests/s.</param>
/// <param name="MaxRequestsPerSecond">Largest rate meeting the objectives and the cap (0 when none).</param>
/// <param name="Probes">Every simulated rate, by rate.</param>
/// <param name="Reason">Why no rate qualifies, or null.</param>
public sealed record RateSearch(int Tp, double SaturationRequestsPerSecond, double MaxRequestsPerSecond, IReadOnlyList<RateProbe> Probes, string? Reason);

/// <summary>
/// The sizing of one device type for an <see cref="LlmWorkload"/>. When <see cref="Feasible"/> is false,
/// <see cref="Reason"/> says why and the fleet figures are null.
/// </summary>
public sealed record LlmDeviceOption
{
    /// <summary>The device.</summary>
    public required DeviceSpec Device { get; init; }

    /// <summary>Whether some tensor-parallel group of this device meets the workload's objectives.</summary>
    public required bool Feasible { get; init; }

    /// <summary>Why not, when infeasible.</summary>
    public string? Reason { get; init; }

    /// <summary>Smallest tensor-parallel degree that fits the model and one full-length sequence (0: none up to 64).</summary>
    public int MinTensorParallel { get; init; }

    /// <summary>Tensor-parallel degree chosen (cheapest per request among those tried).</summary>
    public int TensorParallel { get; init; }

    /// <summary>KV-cache tokens a replica holds.</summary>
    public double KvTokens { get; init; }

    /// <summary>Saturation throughput of one replica (Offline simulation), requests/s.</summary>
    public double SaturationRequestsPerSecond { get; init; }

    /// <summary>Largest rate per replica that meets the SLOs and the utilization cap, requests/s.</summary>
    public double MaxRequestsPerSecond { get; init; }

    /// <summary>Replicas needed for the workload's rate.</summary>
    public long Replicas { get; init; }

    /// <summary>Devices in the fleet (replicas x tensor parallel).</summary>
    public long Devices { get; init; }

    /// <summary>Rate each replica actually gets (total / replicas), requests/s.</summary>
    public double OperatingRequestsPerSecond { get; init; }

    /// <summary>Simulation at the operating rate (the latencies the fleet would see).</summary>
    public SimulationResult? Operating { get; init; }

    /// <summary>Load of each replica as a fraction of its saturation throughput.</summary>
    public double Load { get; init; }

    /// <summary>Price of one device-hour used, USD (null when unknown).</summary>
    public double? PricePerDeviceHour { get; init; }

    /// <summary>Fleet cost per hour, USD.</summary>
    public double? UsdPerHour { get; init; }

    /// <summary>USD per million tokens (prompt + output).</summary>
    public double? UsdPerMillionTokens { get; init; }

    /// <summary>USD per million output tokens.</summary>
    public double? UsdPerMillionOutputTokens { get; init; }

    /// <summary>USD per request.</summary>
    public double? UsdPerRequest { get; init; }

    /// <summary>Watts per device at the operating load (<see cref="PowerModel"/>).</summary>
    public double? WattsPerDevice { get; init; }

    /// <summary>Fleet power, watts.</summary>
    public double? FleetWatts { get; init; }

    /// <summary>Joules per token (prompt + output).</summary>
    public double? JoulesPerToken { get; init; }

    /// <summary>Joules per output token.</summary>
    public double? JoulesPerOutputToken { get; init; }

    /// <summary>Joules per request (watt-seconds per inference).</summary>
    public double? JoulesPerRequest { get; init; }

    /// <summary>Every probe of the rate search for the chosen tensor-parallel degree, by rate.</summary>
    public IReadOnlyList<RateProbe> Probes { get; init; } = [];
}
