namespace Quanta.Engine.Tensor;

/// <summary>Triton-style dynamic batching settings of one model (see <see cref="DynamicBatcher"/>).</summary>
public sealed class DynamicBatcherOptions
{
    /// <summary>Batch sizes (rows) to form when possible; empty: none. Sizes above the model's max batch size are ignored.</summary>
    public IReadOnlyList<int> PreferredBatchSizes { get; init; } = [];
    /// <summary>Longest time in microseconds the oldest queued request waits for a batch to fill. Default 0 (run what is there).</summary>
    public long MaxQueueDelayMicroseconds { get; init; }
    /// <summary>Batches running at once (model instances). Default 1.</summary>
    public int MaxConcurrency { get; init; } = 1;
    /// <summary>Most requests waiting in the queue; one more is rejected at once. Default 1024.</summary>
    public int MaxQueueSize { get; init; } = 1024;
    /// <summary>Clock for queue delays (tests inject a manual one). Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        if (MaxConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(MaxConcurrency), "must be at least 1");
        if (MaxQueueSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxQueueSize), "must be at least 1");
        if (MaxQueueDelayMicroseconds < 0) throw new ArgumentOutOfRangeException(nameof(MaxQueueDelayMicroseconds), "must not be negative");
        if (PreferredBatchSizes.Any(s => s < 1)) throw new ArgumentOutOfRangeException(nameof(PreferredBatchSizes), "sizes must be positive");
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}
