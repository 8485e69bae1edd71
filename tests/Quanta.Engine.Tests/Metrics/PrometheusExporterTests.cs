using System.Diagnostics.Metrics;
using System.Text;
using Quanta.Engine.Metrics;

namespace Quanta.Engine.Tests.Metrics;

public sealed class PrometheusExporterTests
{
    private static KeyValuePair<string, object?> Model(string m) => new("model_name", m);

    [Fact]
    public void Exposition_matches_hand_written_text()
    {
        using var meter = new Meter("Quanta.Tests.Exposition");
        using var exporter = new PrometheusExporter(meter);
        Histogram<double> h = meter.CreateHistogram("test:latency_seconds", "s", "Latency.", null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.125, 0.5, 1] });
        Counter<long> tokens = meter.CreateCounter<long>("test:tokens", "{token}", "Tokens \\ with\nnewline.");
        Counter<long> requests = meter.CreateCounter<long>("test:requests", "{request}", "Requests.");
        Counter<long> steps = meter.CreateCounter<long>("test:steps_total", "{step}", "Steps.");
        Gauge<double> usage = meter.CreateGauge<double>("test:usage", "1", "Usage.");
        meter.CreateCounter<long>("test:unused", null, "Never recorded.");

        h.Record(0.0625, Model("m1"));
        h.Record(0.125, Model("m1"));          // on a bound: le is inclusive
        h.Record(0.25, Model("m1"));
        h.Record(2, Model("m1"));              // only in +Inf
        tokens.Add(3, Model("m1"));
        tokens.Add(4, Model("m1"));
        tokens.Add(5, Model("we\"ird\\name\nx"));
        requests.Add(1, Model("m1"), new("finished_reason", "stop"));
        requests.Add(1, new("finished_reason", "stop"), Model("m1"));   // tag order does not matter
        requests.Add(1, Model("m1"), new("finished_reason", "length"));
        steps.Add(2);
        usage.Record(0.25, Model("m1"));
        usage.Record(0.75, Model("m1"));

        const string expected =
            "# HELP test:latency_seconds Latency.\n" +
            "# TYPE test:latency_seconds histogram\n" +
            "test:latency_seconds_bucket{model_name=\"m1\",le=\"0.125\"} 2\n" +
            "test:latency_seconds_bucket{model_name=\"m1\",le=\"0.5\"} 3\n" +
            "test:latency_seconds_bucket{model_name=\"m1\",le=\"1\"} 3\n" +
            "test:latency_seconds_bucket{model_name=\"m1\",le=\"+Inf\"} 4\n" +
            "test:latency_seconds_sum{model_name=\"m1\"} 2.4375\n" +
            "test:latency_seconds_count{model_name=\"m1\"} 4\n" +
            "# HELP test:requests_total Requests.\n" +
            "# TYPE test:requests_total counter\n" +
            "test:requests_total{finished_reason=\"length\",model_name=\"m1\"} 1\n" +
            "test:requests_total{finished_reason=\"stop\",model_name=\"m1\"} 2\n" +
            "# HELP test:steps_total Steps.\n" +
            "# TYPE test:steps_total counter\n" +
            "test:steps_total 2\n" +
            "# HELP test:tokens_total Tokens \\\\ with\\nnewline.\n" +
            "# TYPE test:tokens_total counter\n" +
            "test:tokens_total{model_name=\"m1\"} 7\n" +
            "test:tokens_total{model_name=\"we\\\"ird\\\\name\\nx\"} 5\n" +
            "# HELP test:usage Usage.\n" +
            "# TYPE test:usage gauge\n" +
            "test:usage{model_name=\"m1\"} 0.75\n";
        Assert.Equal(expected, exporter.Scrape());
    }

    [Fact]
    public void Histogram_without_labels_and_other_meters_are_ignored()
    {
        using var meter = new Meter("Quanta.Tests.Mine");
        using var other = new Meter("Quanta.Tests.Mine");      // same name, other instance: not exported
        using var exporter = new PrometheusExporter(meter);
        Histogram<long> h = meter.CreateHistogram("x:sizes", "{token}", "Sizes.", null, new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 8] });
        other.CreateCounter<long>("x:other").Add(1);
        h.Record(1);
        h.Record(5);
        h.Record(9);
        const string expected =
            "# HELP x:sizes Sizes.\n" +
            "# TYPE x:sizes histogram\n" +
            "x:sizes_bucket{le=\"1\"} 1\n" +
            "x:sizes_bucket{le=\"8\"} 2\n" +
            "x:sizes_bucket{le=\"+Inf\"} 3\n" +
            "x:sizes_sum 15\n" +
            "x:sizes_count 3\n";
        Assert.Equal(expected, exporter.Scrape());
    }

    [Fact]
    public async Task Async_write_is_the_same_text_in_utf8()
    {
        using var meter = new Meter("Quanta.Tests.Async");
        using var exporter = new PrometheusExporter(meter);
        meter.CreateCounter<double>("y:joules", "J", "Énergie.").Add(1.5, Model("modèle"));
        using var ms = new MemoryStream();
        await exporter.WriteAsync(ms);
        Assert.Equal(exporter.Scrape(), Encoding.UTF8.GetString(ms.ToArray()));
        Assert.Contains("y:joules_total{model_name=\"modèle\"} 1.5\n", exporter.Scrape());
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", PrometheusExporter.ContentType);
    }

    [Fact]
    public void Too_many_tags_are_dropped_and_counted()
    {
        using var meter = new Meter("Quanta.Tests.Drop");
        using var exporter = new PrometheusExporter(meter);
        Counter<long> c = meter.CreateCounter<long>("z:c");
        c.Add(1, new("a", "1"), new("b", "2"), new("c", "3"), new("d", "4"), new("e", "5"));
        Assert.Equal(1, exporter.DroppedMeasurements);
        Assert.Equal("", exporter.Scrape());
    }

    [Fact]
    public void Many_threads_recording_keep_counts_exact()
    {
        using var meter = new Meter("Quanta.Tests.Concurrency");
        using var exporter = new PrometheusExporter(meter);
        Counter<long> c = meter.CreateCounter<long>("c:n");
        Counter<double> d = meter.CreateCounter<double>("c:d");
        Histogram<double> h = meter.CreateHistogram("c:h", "s", "", null, new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2, 3] });
        const int threads = 8, perThread = 20_000;
        string[] models = ["a", "b"];
        var start = new Barrier(threads);
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < perThread; i++)
                {
                    var tag = Model(models[i & 1]);
                    c.Add(1, tag);
                    d.Add(0.5, tag);
                    h.Record(i % 4, tag);       // values 0,1,2,3 in turn
                    if (i % 1000 == 0) _ = exporter.Scrape();   // scrapes race with recording
                }
            });
            workers[t].Start();
        }
        foreach (Thread w in workers) w.Join();

        string text = exporter.Scrape();
        const int perModel = threads * perThread / 2;      // 80_000
        foreach (string m in models)
        {
            Assert.Contains($"c:n_total{{model_name=\"{m}\"}} {perModel}\n", text);
            Assert.Contains($"c:d_total{{model_name=\"{m}\"}} {perModel / 2}\n", text);
            // model a gets even i (values 0 and 2), model b odd i (1 and 3), half each
            int low = perModel / 2;
            string[] expectedBuckets = m == "a"
                ? [$"le=\"1\"}} {low}", $"le=\"2\"}} {perModel}", $"le=\"3\"}} {perModel}", $"le=\"+Inf\"}} {perModel}"]
                : [$"le=\"1\"}} {low}", $"le=\"2\"}} {low}", $"le=\"3\"}} {perModel}", $"le=\"+Inf\"}} {perModel}"];
            foreach (string b in expectedBuckets) Assert.Contains($"c:h_bucket{{model_name=\"{m}\",{b}\n", text);
            long sum = m == "a" ? (long)low * 2 : low * 1L + low * 3L;
            Assert.Contains($"c:h_sum{{model_name=\"{m}\"}} {sum}\n", text);
            Assert.Contains($"c:h_count{{model_name=\"{m}\"}} {perModel}\n", text);
        }
    }
}
