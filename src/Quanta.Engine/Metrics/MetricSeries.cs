using System.Buffers;

namespace Quanta.Engine.Metrics;

/// <summary>One time series of a family: its labels (pre-rendered once) and its state.</summary>
internal abstract class MetricSeries(LabelSet labels)
{
    public LabelSet Labels { get; } = labels;

    /// <summary>{a="x"} or "" (rendered once, at creation).</summary>
    public string LabelText { get; } = PrometheusText.Labels(labels, openForLe: false);

    public abstract void Record(double value);
}

/// <summary>A counter or up-down counter (adds) or a gauge (keeps the last value). Lock-free.</summary>
internal sealed class ScalarSeries(LabelSet labels, bool additive) : MetricSeries(labels)
{
    private double _value;

    public double Value => Volatile.Read(ref _value);

    public override void Record(double value)
    {
        if (!additive)
        {
            Interlocked.Exchange(ref _value, value);
            return;
        }
        double seen = Volatile.Read(ref _value);
        while (true)
        {
            double was = Interlocked.CompareExchange(ref _value, seen + value, seen);
            if (was.Equals(seen)) return;
            seen = was;
        }
    }
}

/// <summary>
/// A histogram with fixed upper bounds (le, inclusive): per-bucket counts (not cumulative; the +Inf bucket last), sum
/// and count, updated together under one lock so a scrape sees a consistent state.
/// </summary>
internal sealed class HistogramSeries(LabelSet labels, double[] bounds) : MetricSeries(labels)
{
    private readonly long[] _counts = new long[bounds.Length + 1];   // [bounds + 1]; last = above every bound
    private readonly Lock _gate = new();
    private double _sum;
    private long _count;

    /// <summary>{a="x", (open for the le label).</summary>
    public string BucketLabelPrefix { get; } = PrometheusText.Labels(labels, openForLe: true);

    public override void Record(double value)
    {
        if (double.IsNaN(value)) return;
        int i = Array.BinarySearch(bounds, value);
        if (i < 0) i = ~i;   // first bound greater than value; == bounds.Length for +Inf
        lock (_gate)
        {
            _counts[i]++;
            _sum += value;
            _count++;
        }
    }

    /// <summary>Copies the per-bucket counts into <paramref name="counts"/> ([bounds + 1]) and returns sum and count.</summary>
    public (double Sum, long Count) Snapshot(Span<long> counts)
    {
        lock (_gate)
        {
            _counts.CopyTo(counts);
            return (_sum, _count);
        }
    }

    public int BucketCount => _counts.Length;

    public long[] RentCounts() => ArrayPool<long>.Shared.Rent(_counts.Length);
}
