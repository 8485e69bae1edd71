using System.Buffers;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Quanta.Engine.Metrics;

/// <summary>
/// Collects System.Diagnostics.Metrics measurements through a <see cref="MeterListener"/> and writes them in the
/// Prometheus text exposition format 0.0.4.
/// <para>Mapping: Counter&lt;T&gt; → counter (exposed name gets "_total" unless it has it), Histogram&lt;T&gt; →
/// histogram with the instrument's advised bucket boundaries (<see cref="InstrumentAdvice{T}.HistogramBucketBoundaries"/>;
/// Prometheus' default buckets when none) as cumulative <c>_bucket{le=...}</c> lines, then <c>_sum</c> and
/// <c>_count</c>; Gauge&lt;T&gt; and ObservableGauge&lt;T&gt; → gauge (last value), UpDownCounter&lt;T&gt; and
/// ObservableUpDownCounter&lt;T&gt; → gauge (running sum), ObservableCounter&lt;T&gt; → counter (last observed total).
/// Instrument names are used as metric names (they may contain ':'), descriptions as HELP. Each tag becomes a label
/// (at most 4 per measurement; more are dropped and counted); label values are escaped (\\, \", \n).</para>
/// <para>Families appear sorted by name, series sorted by labels; a family with no series yet is not written.</para>
/// <para>Thread safety: measurements may arrive on any thread at any time, concurrently with scrapes. Recording into an
/// existing series allocates nothing (a dictionary lookup on a struct key, then an interlocked add or a short lock for
/// histograms).</para>
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    /// <summary>The HTTP Content-Type of the exposition.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Prometheus client libraries' default buckets, used for histograms without advice.</summary>
    private static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly MeterListener _listener;
    private readonly Func<Instrument, bool> _include;
    private readonly List<MetricFamily> _families = [];
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <summary>Exports every instrument of <paramref name="meter"/> (that instance only).</summary>
    public PrometheusExporter(Meter meter)
        : this(Only(meter))
    {
    }

    /// <summary>Exports every instrument <paramref name="include"/> accepts (e.g. by meter name).</summary>
    public PrometheusExporter(Func<Instrument, bool> include)
    {
        _include = include ?? throw new ArgumentNullException(nameof(include));
        _listener = new MeterListener { InstrumentPublished = OnPublished };
        _listener.SetMeasurementEventCallback<double>(static (_, v, tags, state) => ((MetricFamily)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, v, tags, state) => ((MetricFamily)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, v, tags, state) => ((MetricFamily)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, v, tags, state) => ((MetricFamily)state!).Record(v, tags));
        _listener.Start();
    }

    /// <summary>Measurements dropped so far (more than 4 tags, or a repeated tag name).</summary>
    public long DroppedMeasurements
    {
        get
        {
            long n = 0;
            foreach (MetricFamily f in Families()) n += f.Dropped;
            return n;
        }
    }

    /// <summary>Writes the current state of every exported family to <paramref name="writer"/>.</summary>
    public void Write(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _listener.RecordObservableInstruments();
        MetricFamily[] families = Families();
        Array.Sort(families, static (a, b) => string.CompareOrdinal(a.ExposedName, b.ExposedName));
        foreach (MetricFamily f in families)
        {
            MetricSeries[] series = f.SortedSeries();
            if (series.Length == 0) continue;
            writer.Write("# HELP ");
            writer.Write(f.ExposedName);
            writer.Write(' ');
            writer.Write(f.Help);
            writer.Write('\n');
            writer.Write("# TYPE ");
            writer.Write(f.ExposedName);
            writer.Write(' ');
            writer.Write(f.TypeName);
            writer.Write('\n');
            foreach (MetricSeries s in series)
            {
                if (s is HistogramSeries h) WriteHistogram(writer, f, h);
                else WriteSample(writer, f.ExposedName, "", s.LabelText, ((ScalarSeries)s).Value);
            }
        }
    }

    /// <summary>The exposition as a string.</summary>
    public string Scrape()
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        Write(sw);
        return sw.ToString();
    }

    /// <summary>Writes the exposition as UTF-8 to <paramref name="stream"/> (formats in memory, then one async write).</summary>
    public async Task WriteAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        string text = Scrape();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            int n = Encoding.UTF8.GetBytes(text, buffer);
            await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Stops listening.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _listener.Dispose();
    }

    private static Func<Instrument, bool> Only(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        return i => ReferenceEquals(i.Meter, meter);
    }

    private MetricFamily[] Families()
    {
        lock (_gate) return [.. _families];
    }

    private void OnPublished(Instrument instrument, MeterListener listener)
    {
        if (!_include(instrument)) return;
        MetricFamily? family = Describe(instrument);
        if (family is null) return;
        lock (_gate) _families.Add(family);
        listener.EnableMeasurementEvents(instrument, family);
    }

    private static MetricFamily? Describe(Instrument instrument)
    {
        Type def = instrument.GetType().IsGenericType ? instrument.GetType().GetGenericTypeDefinition() : instrument.GetType();
        if (def == typeof(Counter<>) || def == typeof(ObservableCounter<>)) return new MetricFamily(instrument, MetricKind.Counter, null);
        if (def == typeof(UpDownCounter<>) || def == typeof(ObservableUpDownCounter<>)) return new MetricFamily(instrument, MetricKind.UpDownCounter, null);
        if (def == typeof(Gauge<>) || def == typeof(ObservableGauge<>)) return new MetricFamily(instrument, MetricKind.Gauge, null);
        if (def == typeof(Histogram<>)) return new MetricFamily(instrument, MetricKind.Histogram, Bounds(instrument));
        return null;
    }

    private static double[] Bounds(Instrument instrument)
    {
        double[]? b = instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries?.ToArray(),
            Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(x => (double)x).ToArray(),
            Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(x => (double)x).ToArray(),
            Histogram<float> h => h.Advice?.HistogramBucketBoundaries?.Select(x => (double)x).ToArray(),
            _ => null,
        };
        if (b is null || b.Length == 0) return DefaultBuckets;
        Array.Sort(b);
        return b;
    }

    private static void WriteHistogram(TextWriter w, MetricFamily f, HistogramSeries h)
    {
        long[] counts = h.RentCounts();
        try
        {
            (double sum, long count) = h.Snapshot(counts.AsSpan(0, h.BucketCount));
            long cumulative = 0;
            for (int i = 0; i < f.Bounds.Length; i++)
            {
                cumulative += counts[i];
                WriteBucket(w, f.ExposedName, h.BucketLabelPrefix, f.BoundText[i], cumulative);
            }
            WriteBucket(w, f.ExposedName, h.BucketLabelPrefix, "+Inf", count);
            WriteSample(w, f.ExposedName, "_sum", h.LabelText, sum);
            WriteSample(w, f.ExposedName, "_count", h.LabelText, count);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(counts);
        }
    }

    private static void WriteBucket(TextWriter w, string name, string labelPrefix, string le, long cumulative)
    {
        w.Write(name);
        w.Write("_bucket");
        w.Write(labelPrefix);
        w.Write("le=\"");
        w.Write(le);
        w.Write("\"} ");
        PrometheusText.WriteValue(w, cumulative);
        w.Write('\n');
    }

    private static void WriteSample(TextWriter w, string name, string suffix, string labels, double value)
    {
        w.Write(name);
        w.Write(suffix);
        w.Write(labels);
        w.Write(' ');
        PrometheusText.WriteValue(w, value);
        w.Write('\n');
    }
}
