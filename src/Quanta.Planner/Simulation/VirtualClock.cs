namespace Quanta.Planner.Simulation;

/// <summary>
/// A <see cref="TimeProvider"/> whose time only moves when told to: the simulation's clock. Time is kept as seconds
/// since <see cref="Epoch"/> (a double, so a simulated day keeps sub-microsecond resolution); <see cref="GetUtcNow"/>
/// and <see cref="GetTimestamp"/> report that virtual time, so the engine's scheduler (deadlines) sees it instead of
/// the wall clock. Single-threaded: the simulation loop is the only writer. Timers are not supported (the simulation
/// never sleeps): <see cref="TimeProvider.CreateTimer"/> still works but runs on real time, and nothing here uses it.
/// </summary>
public sealed class VirtualClock : TimeProvider
{
    /// <summary>Virtual time zero.</summary>
    public static readonly DateTimeOffset Epoch = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Seconds since <see cref="Epoch"/>.</summary>
    public double Seconds { get; private set; }

    /// <summary>Moves the clock forward by <paramref name="seconds"/> (≥ 0, finite).</summary>
    public void Advance(double seconds)
    {
        if (!(seconds >= 0) || double.IsInfinity(seconds)) throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "time only moves forward by a finite amount");
        Seconds += seconds;
    }

    /// <summary>Moves the clock to <paramref name="seconds"/> when that is later than now (never backwards).</summary>
    public void AdvanceTo(double seconds)
    {
        if (double.IsNaN(seconds) || double.IsInfinity(seconds)) throw new ArgumentOutOfRangeException(nameof(seconds));
        if (seconds > Seconds) Seconds = seconds;
    }

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => Epoch.AddTicks((long)(Seconds * TimeSpan.TicksPerSecond));

    /// <inheritdoc/>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc/>
    public override long GetTimestamp() => (long)(Seconds * TimeSpan.TicksPerSecond);
}
