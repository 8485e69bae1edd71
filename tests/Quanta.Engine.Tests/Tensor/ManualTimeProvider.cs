namespace Quanta.Engine.Tests.Tensor;

/// <summary>A clock the test advances by hand (1 tick = 1 µs); timers fire when <see cref="Advance"/> passes their due time.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private long _ticks = 1_000_000;

    public override long TimestampFrequency => 1_000_000;

    public override long GetTimestamp() { lock (_gate) return _ticks; }

    public int PendingTimers { get { lock (_gate) return _timers.Count; } }

    public void AdvanceMicroseconds(long us)
    {
        List<ManualTimer> due;
        lock (_gate)
        {
            _ticks += us;
            due = _timers.Where(t => t.Due <= _ticks).ToList();
            foreach (var t in due) _timers.Remove(t);
        }
        foreach (var t in due) t.Fire();
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        lock (_gate)
        {
            var t = new ManualTimer(this, callback, state, _ticks + (long)Math.Ceiling(dueTime.TotalMicroseconds));
            _timers.Add(t);
            return t;
        }
    }

    private void Remove(ManualTimer t) { lock (_gate) _timers.Remove(t); }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state, long due) : ITimer
    {
        public long Due { get; } = due;

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period) => throw new NotSupportedException();

        public void Dispose() => owner.Remove(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
