using Quanta.Engine.Execution;

namespace Quanta.Engine.Serving;

/// <summary>
/// Passes steps to the inner executor and keeps running totals of step time and tokens, from which the power model
/// estimates a request's busy-time share. Called from the engine loop thread only; totals are read atomically.
/// </summary>
internal sealed class MeteredExecutor(IExecutor inner) : IExecutor
{
    private long _ticks, _tokens;

    public int VocabSize => inner.VocabSize;

    public int MaxBatchTokens => inner.MaxBatchTokens;

    public int MaxBatchSequences => inner.MaxBatchSequences;

    /// <summary>Average step seconds per computed token so far (0 before the first step).</summary>
    public double SecondsPerToken
    {
        get
        {
            long tokens = Interlocked.Read(ref _tokens);
            return tokens == 0 ? 0 : TimeSpan.FromTicks(Interlocked.Read(ref _ticks)).TotalSeconds / tokens;
        }
    }

    public ExecutionResult Execute(ExecutionBatch batch)
    {
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        ExecutionResult r = inner.Execute(batch);
        TimeSpan spent = r.StepTime > TimeSpan.Zero ? r.StepTime : System.Diagnostics.Stopwatch.GetElapsedTime(t0);
        Interlocked.Add(ref _ticks, spent.Ticks);
        Interlocked.Add(ref _tokens, batch.TotalTokens);
        return r;
    }
}
