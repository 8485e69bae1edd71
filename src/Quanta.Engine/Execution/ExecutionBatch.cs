using Quanta.Models.KvCache;

namespace Quanta.Engine.Execution;

/// <summary>
/// One sequence's share of a step: run <see cref="Tokens"/> at positions [StartPosition, StartPosition + Tokens.Length)
/// over <see cref="Kv"/>; <see cref="NeedsLogits"/> asks for the logits of the last of these tokens.
/// </summary>
/// <param name="SequenceId">The scheduler's sequence id (for logs and simulated executors).</param>
/// <param name="Tokens">Token ids to run now (≥ 1): a prefill chunk or one decode token.</param>
/// <param name="StartPosition">Position of Tokens[0]; the view already holds [0, StartPosition).</param>
/// <param name="Kv">The sequence's KV view (in the engine, a <see cref="KvCache.SequenceKv"/>).</param>
/// <param name="NeedsLogits">Whether the last token's logits are wanted (end of prefill or a decode).</param>
public readonly record struct SequenceWork(long SequenceId, ReadOnlyMemory<int> Tokens, int StartPosition, IKvCacheView Kv, bool NeedsLogits);

/// <summary>A step's batch: the sequences to run, in the order results are reported.</summary>
public sealed class ExecutionBatch
{
    /// <summary>Wraps the list (not copied).</summary>
    public ExecutionBatch(IReadOnlyList<SequenceWork> sequences)
    {
        Sequences = sequences ?? throw new ArgumentNullException(nameof(sequences));
        int total = 0;
        foreach (var s in sequences)
        {
            if (s.Tokens.Length == 0) throw new ArgumentException($"sequence {s.SequenceId} has no tokens", nameof(sequences));
            total += s.Tokens.Length;
        }
        TotalTokens = total;
    }

    /// <summary>Scheduled sequences.</summary>
    public IReadOnlyList<SequenceWork> Sequences { get; }

    /// <summary>Tokens over all sequences.</summary>
    public int TotalTokens { get; }
}
