namespace Quanta.Engine.Tests.Energy;

/// <summary>A timestamp clock the test advances by hand (1 tick = 1 µs).</summary>
internal sealed class SteppedClock : TimeProvider
{
    private long _ticks = 1_000_000;

    public override long TimestampFrequency => 1_000_000;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(double seconds) => Interlocked.Add(ref _ticks, (long)Math.Round(seconds * 1e6));
}
