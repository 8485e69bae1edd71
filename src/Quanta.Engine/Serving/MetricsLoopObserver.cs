using Quanta.Engine.KvCache;
using Quanta.Engine.Metrics;
using Quanta.Engine.Scheduling;

namespace Quanta.Engine.Serving;

/// <summary>
/// Feeds an <see cref="EngineLoop"/>'s steps into a <see cref="ServingMetrics"/> under one model label: each step is
/// bracketed by <see cref="ServingMetrics.BeginStep"/> / <see cref="ServingMetrics.EndStep"/> (energy and cost split
/// by token share), and the scheduler state after it becomes the running / waiting / KV-usage gauges and the preemption
/// counter. KV usage = used blocks / allocatable blocks (the pool's null block excluded). Loop thread only.
/// </summary>
public sealed class MetricsLoopObserver : IEngineLoopObserver
{
    private readonly ServingMetrics _metrics;
    private readonly string _model;
    private readonly BlockPool? _pool;
    private StepToken _step;

    /// <summary>Records into <paramref name="metrics"/> as <paramref name="model"/>; <paramref name="pool"/>: the KV pool to report (null: usage 0).</summary>
    public MetricsLoopObserver(ServingMetrics metrics, string model, BlockPool? pool)
    {
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _pool = pool;
    }

    /// <inheritdoc/>
    public void StepStarting() => _step = _metrics.BeginStep();

    /// <inheritdoc/>
    public void StepExecuted(ReadOnlySpan<StepShare> shares) => _metrics.EndStep(_step, _model, shares);

    /// <inheritdoc/>
    public void StepFailed() => _metrics.EndStep(_step, _model, []);

    /// <inheritdoc/>
    public void StateChanged(int running, int waiting, int preempted)
    {
        double usage = _pool is null || _pool.NumBlocks <= 1 ? 0 : _pool.UsedBlocks / (double)(_pool.NumBlocks - 1);
        _metrics.RecordSchedulerState(_model, new SchedulerSnapshot(running, waiting, usage, preempted));
    }
}
