using System.Diagnostics;
using Quanta.Engine.Execution;
using Quanta.Planner.Simulation;

namespace Quanta.Planner.Performance;

/// <summary>
/// One step of a real engine as <see cref="StepRecorder"/> saw it.
/// </summary>
/// <param name="Shape">What the step computed (<see cref="SimulatedExecutor.Shape"/> of its batch).</param>
/// <param name="StartSeconds">When the executor was called, seconds since the recorder's last <see cref="StepRecorder.Mark"/>.</param>
/// <param name="ExecuteSeconds">Wall time of the executor call (the model's forward pass and logits).</param>
/// <param name="GapSeconds">Wall time from the end of the previous executor call of the same wave to this call (the
/// engine loop's work outside the model: sampling, token hand-off, scheduler update and the next schedule); NaN for
/// a wave's first step.</param>
public readonly record struct RecordedStep(StepShape Shape, double StartSeconds, double ExecuteSeconds, double GapSeconds);

/// <summary>
/// An <see cref="IExecutor"/> wrapper (for <c>ServingOptions.WrapExecutor</c>) that records every step's shape, its
/// executor wall time and the loop's time between executor calls, so the twin can compare its per-step cost with the
/// real engine's steps and measure what a serving step costs beyond the model. The inner executor's results pass
/// through unchanged. Steps are recorded from the engine thread; <see cref="Mark"/> and <see cref="Take"/> are meant
/// for the caller between waves (when the engine is idle); they lock, so they are safe from any thread.
/// Records are appended to a list pre-sized for <paramref name="capacity"/> steps (grows beyond it).
/// </summary>
public sealed class StepRecorder(IExecutor inner, int capacity = 4096) : IExecutor
{
    private readonly IExecutor _inner = inner ?? throw new ArgumentNullException(nameof(inner));
    private readonly List<RecordedStep> _steps = new(capacity);
    private readonly Lock _lock = new();
    private long _origin = Stopwatch.GetTimestamp();
    private long _lastEnd = -1;

    /// <inheritdoc/>
    public int VocabSize => _inner.VocabSize;

    /// <inheritdoc/>
    public int MaxBatchTokens => _inner.MaxBatchTokens;

    /// <inheritdoc/>
    public int MaxBatchSequences => _inner.MaxBatchSequences;

    /// <summary>Starts a wave: clears the records, sets the time origin to now and forgets the previous step's end.</summary>
    public void Mark()
    {
        lock (_lock)
        {
            _steps.Clear();
            _origin = Stopwatch.GetTimestamp();
            _lastEnd = -1;
        }
    }

    /// <summary>The steps recorded since the last <see cref="Mark"/> (a copy).</summary>
    public IReadOnlyList<RecordedStep> Take()
    {
        lock (_lock) return _steps.ToArray();
    }

    /// <inheritdoc/>
    public ExecutionResult Execute(ExecutionBatch batch)
    {
        StepShape shape = SimulatedExecutor.Shape(batch);
        long t0 = Stopwatch.GetTimestamp();
        ExecutionResult result = _inner.Execute(batch);
        long t1 = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            double gap = _lastEnd < 0 ? double.NaN : Stopwatch.GetElapsedTime(_lastEnd, t0).TotalSeconds;
            _steps.Add(new RecordedStep(shape, Stopwatch.GetElapsedTime(_origin, t0).TotalSeconds, Stopwatch.GetElapsedTime(t0, t1).TotalSeconds, gap));
            _lastEnd = t1;
        }
        return result;
    }
}
