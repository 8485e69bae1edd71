using Quanta.Cuda.Interop;
using Quanta.Engine.Energy;

namespace Quanta.Cuda.Energy;

/// <summary>
/// <see cref="IPowerSource"/> over NVML's total-energy counter (nvmlDeviceGetTotalEnergyConsumption, millijoules since
/// the driver loaded): <see cref="ReadEnergyJoules"/> is the counter minus its value at creation, so the engine's
/// metrics, per-request usage and per-step energy use measured GPU board energy. Measured, not estimated. Thread-safe
/// (NVML calls are). Owns the NVML session unless created over a caller's <see cref="NvmlDevice"/>.
/// </summary>
public sealed class NvmlPowerSource : IPowerSource, IDisposable
{
    private readonly Func<double> _read;
    private readonly IDisposable? _owned;
    private readonly double _origin;

    /// <summary>Reads GPU <paramref name="index"/> through NVML (throws <see cref="CudaUnavailableException"/> without NVML).</summary>
    public NvmlPowerSource(uint index = 0)
    {
        var dev = NvmlDevice.Open(index);
        _owned = dev;
        _read = dev.TotalEnergyJoules;
        Name = $"nvml:gpu{index}";
        _origin = _read();
    }

    /// <summary>A source over any cumulative joule counter (tests; other meters with NVML's semantics).</summary>
    public NvmlPowerSource(Func<double> cumulativeJoules, string name)
    {
        _read = cumulativeJoules ?? throw new ArgumentNullException(nameof(cumulativeJoules));
        Name = name ?? throw new ArgumentNullException(nameof(name));
        _origin = _read();
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public bool IsEstimated => false;

    /// <inheritdoc/>
    public double ReadEnergyJoules() => Math.Max(0, _read() - _origin);

    /// <summary>Ignored: the counter is measured.</summary>
    public void ReportUtilization(double utilization) { }

    /// <summary>Shuts down the owned NVML session.</summary>
    public void Dispose() => _owned?.Dispose();
}
