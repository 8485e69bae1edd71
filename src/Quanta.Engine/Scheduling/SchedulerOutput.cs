using Quanta.Engine.Execution;

namespace Quanta.Engine.Scheduling;

/// <summary>One sequence's work in a step: run its tokens [StartPosition, StartPosition + Count).</summary>
/// <param name="Sequence">The sequence.</param>
/// <param name="StartPosition">First position (= tokens already computed).</param>
/// <param name="Count">Tokens to run (1 for a decode; a chunk for a prefill).</param>
/// <param name="NeedsLogits">True when this reaches the sequence's last known token, so a new token is sampled.</param>
public readonly record struct ScheduledWork(Sequence Sequence, int StartPosition, int Count, bool NeedsLogits)
{
    /// <summary>True for a one-token step after the prompt was processed.</summary>
    public bool IsDecode => Count == 1 && NeedsLogits && Sequence.GeneratedCount > 0;
}

/// <summary>
/// A step's plan from <see cref="IScheduler.Schedule"/>: the work (decodes first, then prefill chunks, each sequence
/// at most once), sequences preempted to make room, and sequences finished while scheduling (deadlines, requests that
/// can never fit).
/// </summary>
public sealed class SchedulerOutput
{
    internal SchedulerOutput(List<ScheduledWork> work, List<Sequence> preempted, List<Sequence> finished)
    {
        Work = work;
        Preempted = preempted;
        Finished = finished;
        int n = 0;
        foreach (var w in work) n += w.Count;
        TotalTokens = n;
    }

    /// <summary>Scheduled work in batch order.</summary>
    public IReadOnlyList<ScheduledWork> Work { get; }

    /// <summary>Sequences sent back to waiting (their blocks freed) during this schedule.</summary>
    public IReadOnlyList<Sequence> Preempted { get; }

    /// <summary>Sequences finished during this schedule (deadline expired, or too large to ever run).</summary>
    public IReadOnlyList<Sequence> Finished { get; }

    /// <summary>Tokens over all work (≤ the token budget).</summary>
    public int TotalTokens { get; }

    /// <summary>True when nothing runs this step.</summary>
    public bool IsEmpty => Work.Count == 0;

    /// <summary>The executor's view of the plan (same order as <see cref="Work"/>).</summary>
    public ExecutionBatch ToBatch()
    {
        var list = new SequenceWork[Work.Count];
        for (int i = 0; i < list.Length; i++)
        {
            ScheduledWork w = Work[i];
            list[i] = new SequenceWork(w.Sequence.Id, w.Sequence.TokenMemory(w.StartPosition, w.Count), w.StartPosition, w.Sequence.Kv!, w.NeedsLogits);
        }
        return new ExecutionBatch(list);
    }
}

/// <summary>What one step did to a sequence: the token it appended (−1 if none) and its finish reason (if it finished).</summary>
public readonly record struct SequenceEvent(Sequence Sequence, int Token, FinishReason? Finish);
