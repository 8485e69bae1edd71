using Quanta.Engine.Execution;

namespace Quanta.Engine.Scheduling;

/// <summary>
/// Iteration-level scheduler: decides, step by step, which sequences run how many tokens, and takes the results back.
/// <para>Contract.</para>
/// <list type="bullet">
/// <item><see cref="Add"/> queues a request as a Waiting <see cref="Sequence"/>; <see cref="Cancel"/> finishes a waiting
/// or running sequence at once with <see cref="FinishReason.Cancelled"/>, returning every KV block it holds.</item>
/// <item><see cref="Schedule"/> returns one step's plan. Sequences whose deadline has passed are finished first
/// (<see cref="FinishReason.Deadline"/>, listed in <see cref="SchedulerOutput.Finished"/>). Then, within the token
/// budget (at most MaxBatchTokens tokens per step): (1) decodes of running sequences, one token each, in priority
/// order (lower Priority first, then arrival); (2) prefill chunks of running sequences whose prompt is not yet
/// fully computed; (3) waiting sequences are admitted in priority order while fewer than MaxRunning run and budget
/// remains, each with a prefill chunk of min(remaining prompt, remaining budget) tokens (admission stops at the first
/// that cannot be placed: no overtaking within the queue). A new sequence first reuses prefix-cached blocks for its
/// prompt's full-block prefix (<see cref="Sequence.CachedTokens"/>).</item>
/// <item>Every scheduled sequence has KV blocks reserved for its new positions before the plan is returned. When the
/// pool runs out, the lowest-priority, latest-arrived running sequence not yet in the plan is preempted by
/// recomputation: its blocks are freed and it returns to Waiting keeping its arrival order, its generated tokens
/// now part of the "prompt" it recomputes (no token is resampled). A waiting sequence may preempt only running
/// sequences of strictly lower priority.</item>
/// <item>A work item asks for logits exactly when it reaches the sequence's last known token.
/// <see cref="Update"/> takes the executor's result for that plan: commits the computed tokens to the KV cache (full
/// blocks enter the prefix cache), calls the request's sampler on each returned logits row, appends the token and
/// finishes the sequence on a stop token (<see cref="FinishReason.Stop"/>) or its token limit / the KV capacity
/// (<see cref="FinishReason.Length"/>). Finished sequences hold no blocks.</item>
/// <item>Not thread-safe: one thread (the engine loop) calls every member; each Schedule is followed by exactly one
/// Update with that plan before the next Schedule.</item>
/// </list>
/// </summary>
public interface IScheduler
{
    /// <summary>Sequences waiting.</summary>
    int WaitingCount { get; }

    /// <summary>Sequences running (holding blocks).</summary>
    int RunningCount { get; }

    /// <summary>True while any sequence is waiting or running.</summary>
    bool HasUnfinished { get; }

    /// <summary>Queues a request; returns its sequence.</summary>
    Sequence Add(GenerationRequest request);

    /// <summary>Finishes the sequence with <see cref="FinishReason.Cancelled"/>; false when it is unknown or already finished.</summary>
    bool Cancel(long sequenceId);

    /// <summary>Plans the next step (see the contract).</summary>
    SchedulerOutput Schedule();

    /// <summary>Takes back the executor's result for <paramref name="plan"/>; returns what happened to each sequence.</summary>
    IReadOnlyList<SequenceEvent> Update(SchedulerOutput plan, ExecutionResult result);
}
