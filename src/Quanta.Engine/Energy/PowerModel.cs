using Quanta.Core.Devices;

namespace Quanta.Engine.Energy;

/// <summary>
/// Linear power model of a device: P(u) = idle + u × (busy − idle) watts at utilization u ∈ [0, 1]. Energy over an
/// interval of constant utilization is P(u) × seconds; over a timeline, the sum of such pieces (the integral of P).
/// </summary>
public sealed record PowerModel
{
    /// <summary>Creates a model; requires 0 ≤ idle ≤ busy.</summary>
    public PowerModel(double idleWatts, double busyWatts)
    {
        if (!(idleWatts >= 0) || !(busyWatts >= idleWatts) || double.IsInfinity(busyWatts))
            throw new ArgumentOutOfRangeException(nameof(busyWatts), $"need 0 <= idle <= busy, got idle={idleWatts} busy={busyWatts}");
        IdleWatts = idleWatts;
        BusyWatts = busyWatts;
    }

    /// <summary>Power with nothing running.</summary>
    public double IdleWatts { get; }

    /// <summary>Power at full utilization.</summary>
    public double BusyWatts { get; }

    /// <summary>The catalog's figures for <paramref name="device"/> (busy = TDP, idle = the catalog's idle estimate).</summary>
    public static PowerModel For(DevicePowerSpec device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new PowerModel(device.IdleWatts.Value, device.BusyWatts);
    }

    /// <summary>Power in watts at <paramref name="utilization"/> (clamped to [0, 1]).</summary>
    public double Watts(double utilization) => IdleWatts + Math.Clamp(utilization, 0, 1) * (BusyWatts - IdleWatts);

    /// <summary>Joules over <paramref name="seconds"/> at constant <paramref name="utilization"/>.</summary>
    public double Joules(double utilization, double seconds) => Watts(utilization) * seconds;

    /// <summary>
    /// Joules over a piecewise-constant utilization timeline: piece i lasts <paramref name="seconds"/>[i] at
    /// <paramref name="utilization"/>[i].
    /// </summary>
    public double Joules(ReadOnlySpan<double> utilization, ReadOnlySpan<double> seconds)
    {
        if (utilization.Length != seconds.Length) throw new ArgumentException("utilization and seconds need the same length");
        double e = 0;
        for (int i = 0; i < utilization.Length; i++) e += Joules(utilization[i], seconds[i]);
        return e;
    }
}
