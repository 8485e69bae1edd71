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

    /// <summary>The clock the model integrates on.</summary>
    internal TimeProvider Clock => _time;

    /// <summary>
    /// Integrates up to <paramref name="timestamp"/> (a <see cref="Clock"/> timestamp; one not after the last reading
    /// adds nothing), returns the energy counter at that instant and sets the utilization from then on. A caller that
    /// times an interval on the same clock gets the energy of exactly that interval, however long it waits between
    /// taking the timestamp and this call.
    /// </summary>
    internal double TransitionAt(double utilization, long timestamp)
    {
        if (double.IsNaN(utilization)) throw new ArgumentOutOfRangeException(nameof(utilization));
        lock (_gate)
        {
            AdvanceTo(timestamp);
            double joules = _joules;
            _utilization = Math.Clamp(utilization, 0, 1);
            return joules;
        }
    }

    private void Advance() => AdvanceTo(_time.GetTimestamp());

    private void AdvanceTo(long now)
    {
        if (now > _lastTimestamp)
        {
            double seconds = (now - _lastTimestamp) / (double)_time.TimestampFrequency;
            _joules += Model.Joules(_utilization, seconds);
            _lastTimestamp = now;
        }
    }
}
