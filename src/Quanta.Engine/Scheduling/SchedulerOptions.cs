namespace Quanta.Engine.Scheduling;

/// <summary>Limits of the <see cref="Scheduler"/>.</summary>
public sealed record SchedulerOptions
{
    /// <summary>Token budget per step (decode tokens plus prefill chunk tokens).</summary>
    public int MaxBatchTokens { get; init; } = 256;

    /// <summary>Most sequences running (holding KV blocks) at once.</summary>
    public int MaxRunning { get; init; } = 16;

    /// <summary>Clock for deadlines.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
