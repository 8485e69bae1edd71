namespace Quanta.Engine.Energy;

/// <summary>
/// A cumulative energy meter for the device the engine runs on. <see cref="ReadEnergyJoules"/> returns joules consumed
/// since an arbitrary origin (the source's creation); successive reads never decrease, so the energy of an interval is
/// the difference of two reads. Implementations: <see cref="RaplPowerSource"/> (Linux powercap, measured),
/// <see cref="ModeledPowerSource"/> (idle/busy power model driven by <see cref="ReportUtilization"/>, estimated). An NVML
/// source fits the same contract (nvmlDeviceGetTotalEnergyConsumption returns millijoules since the driver loaded).
/// <para>Thread safety: every member may be called from any thread.</para>
/// </summary>
public interface IPowerSource
{
    /// <summary>Short description (e.g. "rapl:package-0" or "model:epyc-zen4-2c").</summary>
    string Name { get; }

    /// <summary>True when the energy is modelled rather than measured (the metrics label it estimated="true").</summary>
    bool IsEstimated { get; }

    /// <summary>Joules consumed since the source was created; monotone non-decreasing.</summary>
    double ReadEnergyJoules();

    /// <summary>
    /// Tells the source how busy the device is from now on (0 = idle, 1 = fully busy). Measured sources ignore it; the
    /// model integrates power at this utilization until the next report.
    /// </summary>
    void ReportUtilization(double utilization);
}
