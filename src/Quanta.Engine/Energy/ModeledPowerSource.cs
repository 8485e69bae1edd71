namespace Quanta.Engine.Energy;

/// <summary>
/// An estimated <see cref="IPowerSource"/>: integrates <see cref="PowerModel"/> power over time, with the utilization
/// last given to <see cref="ReportUtilization"/> (0 at creation) holding until the next report. Energy since creation
/// = Σ over pieces of (idle + u × (busy − idle)) × duration. Time comes from a <see cref="TimeProvider"/> (tests pass a
/// manual one). Thread-safe (one lock; no allocation per call).
/// </summary>
public sealed class ModeledPowerSource : IPowerSource
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _lastTimestamp;
    private double _utilization;
    private double _joules;

    /// <summary>Starts integrating now at utilization 0.</summary>
    public ModeledPowerSource(PowerModel model, string name, TimeProvider? time = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Name = name ?? throw new ArgumentNullException(nameof(name));
        _time = time ?? TimeProvider.System;
        _lastTimestamp = _time.GetTimestamp();
    }

    /// <summary>The power model.</summary>
    public PowerModel Model { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public bool IsEstimated => true;

    /// <inheritdoc/>
    public double ReadEnergyJoules()
    {
        lock (_gate)
        {
            Advance();
            return _joules;
        }
    }

    /// <inheritdoc/>
    public void ReportUtilization(double utilization)
    {
        if (double.IsNaN(utilization)) throw new ArgumentOutOfRangeException(nameof(utilization));
        lock (_gate)
        {
            Advance();
            _utilization = Math.Clamp(utilization, 0, 1);
        }
    }

    private void Advance()
    {
        long now = _time.GetTimestamp();
        if (now > _lastTimestamp)
        {
            double seconds = (now - _lastTimestamp) / (double)_time.TimestampFrequency;
            _joules += Model.Joules(_utilization, seconds);
            _lastTimestamp = now;
        }
    }
}
