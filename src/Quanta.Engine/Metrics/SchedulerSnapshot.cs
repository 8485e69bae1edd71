namespace Quanta.Engine.Metrics;

/// <summary>The scheduler's state after a step.</summary>
/// <param name="Running">Requests running (holding KV blocks).</param>
/// <param name="Waiting">Requests waiting (new or preempted).</param>
/// <param name="KvCacheUsage">Used KV blocks / usable blocks, in [0, 1].</param>
/// <param name="Preemptions">Requests preempted in this step.</param>
public readonly record struct SchedulerSnapshot(int Running, int Waiting, double KvCacheUsage, int Preemptions);
