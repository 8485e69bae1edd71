using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Quanta.Engine.Metrics;

/// <summary>How a family's samples combine and how it is exposed.</summary>
internal enum MetricKind
{
    Counter,
    UpDownCounter,
    Gauge,
    Histogram,
}

/// <summary>All series of one instrument, keyed by label set. Thread-safe; recording an existing series does not allocate.</summary>
internal sealed class MetricFamily
{
    private readonly ConcurrentDictionary<LabelSet, MetricSeries> _series = new();
    private long _dropped;

    public MetricFamily(Instrument instrument, MetricKind kind, double[]? bounds)
    {
        Instrument = instrument;
        Kind = kind;
        Bounds = bounds ?? [];
        BoundText = Array.ConvertAll(Bounds, PrometheusText.FormatBound);
        string name = instrument.Name;
        ExposedName = kind == MetricKind.Counter && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
        Help = PrometheusText.EscapeHelp(instrument.Description ?? "");
    }

    public Instrument Instrument { get; }

    public MetricKind Kind { get; }

    /// <summary>Histogram upper bounds, ascending (empty for other kinds).</summary>
    public double[] Bounds { get; }

    /// <summary>le label text of each bound.</summary>
    public string[] BoundText { get; }

    /// <summary>Name in the exposition (counters get _total).</summary>
    public string ExposedName { get; }

    /// <summary>Escaped HELP text.</summary>
    public string Help { get; }

    /// <summary>Measurements dropped (too many tags, repeated tag names).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public string TypeName => Kind switch
    {
        MetricKind.Counter => "counter",
        MetricKind.Histogram => "histogram",
        _ => "gauge",
    };

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!LabelSet.TryCreate(tags, out LabelSet labels))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        if (!_series.TryGetValue(labels, out MetricSeries? s))
            s = _series.GetOrAdd(labels, static (l, f) => f.Create(l), this);
        s.Record(value);
    }

    /// <summary>The series sorted by labels (a copy; allocation per scrape only).</summary>
    public MetricSeries[] SortedSeries()
    {
        MetricSeries[] all = [.. _series.Values];
        Array.Sort(all, static (a, b) => a.Labels.CompareTo(b.Labels));
        return all;
    }

    private MetricSeries Create(LabelSet labels) => Kind switch
    {
        MetricKind.Histogram => new HistogramSeries(labels, Bounds),
        MetricKind.Gauge => new ScalarSeries(labels, additive: false),
        _ => new ScalarSeries(labels, additive: true),
    };
}
