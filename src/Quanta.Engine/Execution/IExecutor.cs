namespace Quanta.Engine.Execution;

/// <summary>
/// Runs one engine step: the model over every scheduled sequence's new tokens.
/// <para>Contract. <see cref="Execute"/> receives the step's batch (<see cref="ExecutionBatch"/>): for each scheduled
/// sequence its id, the token ids to run now (a prefill chunk or one decode token) at positions
/// [StartPosition, StartPosition + Tokens.Length), and its KV view (a block table over the paged cache, already holding
/// positions [0, StartPosition) and with room reserved for the new ones). The executor writes the new tokens' K/V into
/// each view and returns, for every sequence whose <see cref="SequenceWork.NeedsLogits"/> is set, the logits [vocab]
/// of its last token. It does not commit tokens, sample or touch the scheduler's state; it must not depend on the
/// order or company of sequences: a sequence's logits are bit-identical whether it runs alone or in any batch
/// (batch invariance), and identical to running the model on that sequence with a contiguous cache.</para>
/// <para>The returned <see cref="ExecutionResult"/> may reuse executor-owned buffers: it is valid until the next
/// <see cref="Execute"/> call. It carries the measured (or, for a simulated executor, modelled) step time and, when the
/// executor can tell, the energy used — the hook the planner's simulated executor and power-aware scheduling use.</para>
/// <para>Implementations: <see cref="CpuExecutor"/> now; a GPU executor and the planner's simulated executor
/// (time from a step model, fake logits) later. Calls come from one thread (the engine loop) at a time.</para>
/// </summary>
public interface IExecutor
{
    /// <summary>Logits per row.</summary>
    int VocabSize { get; }

    /// <summary>Most tokens (summed over sequences) one step may run.</summary>
    int MaxBatchTokens { get; }

    /// <summary>Most sequences one step may run.</summary>
    int MaxBatchSequences { get; }

    /// <summary>Runs the step; see the interface's contract.</summary>
    ExecutionResult Execute(ExecutionBatch batch);
}
