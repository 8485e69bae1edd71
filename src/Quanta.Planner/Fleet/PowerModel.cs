using Quanta.Planner.Catalogs;

namespace Quanta.Planner.Fleet;

/// <summary>
/// Device power at a load: P = idle + (TDP − idle) x u, where u is the replica's load as a fraction of its simulated
/// saturation throughput (0 = idle, 1 = flat out). Idle power is the catalog's idle_w (itself 12% of TDP where no
/// source gives it). A linear interpolation between idle and TDP is the usual first-order model (it overstates
/// power of memory-bound decode at full load, where GPUs typically stay below TDP); null when the catalog states no TDP.
/// </summary>
public static class PowerModel
{
    /// <summary>Fraction of TDP assumed at idle when the catalog has no idle figure.</summary>
    public const double DefaultIdleFraction = 0.12;

    /// <summary>Watts one device draws at load fraction <paramref name="load"/> (clamped to [0, 1]); null without a TDP.</summary>
    public static double? Watts(DeviceSpec device, double load)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.TdpW.Value is not double tdp || tdp <= 0) return null;
        double idle = device.IdleW.Value ?? DefaultIdleFraction * tdp;
        return idle + (tdp - idle) * Math.Clamp(load, 0, 1);
    }
}
