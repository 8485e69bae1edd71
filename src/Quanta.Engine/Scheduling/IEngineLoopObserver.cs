using Quanta.Engine.Metrics;

namespace Quanta.Engine.Scheduling;

/// <summary>
/// Optional hooks of an <see cref="EngineLoop"/> (metrics, tracing). Every call comes from the loop thread, one step at
/// a time, in this order per step: <see cref="StepStarting"/> just before the executor runs, then either
/// <see cref="StepExecuted"/> (right after it returns, before the scheduler takes the result, so a request finishing
/// in the step is charged for it before its completion is published) or <see cref="StepFailed"/> (it threw), then
/// <see cref="StateChanged"/> after the scheduler's update. <see cref="StateChanged"/> is also called when the loop
/// goes idle, so gauges reach their resting values (nothing running, no KV block held). Implementations must be fast
/// and must not throw; a loop without an observer (the planner's simulation) skips all of this.
/// </summary>
public interface IEngineLoopObserver
{
    /// <summary>The executor is about to run a step.</summary>
    void StepStarting();

    /// <summary>
    /// The step ran: <paramref name="shares"/>[i] is (RequestHandle.Id, tokens it ran) for each work item of the plan.
    /// The span is only valid during the call.
    /// </summary>
    void StepExecuted(ReadOnlySpan<StepShare> shares);

    /// <summary>The executor threw: the step ends, its requests fail.</summary>
    void StepFailed();

    /// <summary>The scheduler's state after a step (or on going idle); <paramref name="preempted"/>: preemptions in that step.</summary>
    void StateChanged(int running, int waiting, int preempted);
}
