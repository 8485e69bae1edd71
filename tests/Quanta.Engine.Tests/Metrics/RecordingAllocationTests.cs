using System.Diagnostics.Metrics;
using Quanta.Engine.Energy;
using Quanta.Engine.Metrics;
using Quanta.Engine.Tests.Energy;

namespace Quanta.Engine.Tests.Metrics;

public sealed class RecordingAllocationTests
{
    [Fact]
    public void Recording_into_existing_series_allocates_nothing()
    {
        using var meter = new Meter("Quanta.Tests.Alloc");
        using var exporter = new PrometheusExporter(meter);
        Counter<long> c = meter.CreateCounter<long>("a:c");
        Histogram<double> h = meter.CreateHistogram("a:h", "s", "", null, new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 1] });
        Gauge<double> g = meter.CreateGauge<double>("a:g");
        var model = new KeyValuePair<string, object?>("model_name", "m");
        var reason = new KeyValuePair<string, object?>("finished_reason", "stop");
        void Work(int n)
        {
            for (int i = 0; i < n; i++)
            {
                c.Add(1, model, reason);
                h.Record(i * 0.01, model);
                g.Record(i, model);
            }
        }
        Work(10);   // creates the series
        int runs = 0;
        SteadyAllocation.AssertNone(() => { Work(10_000); runs++; });
        Assert.Contains($"a:c_total{{finished_reason=\"stop\",model_name=\"m\"}} {10 + 10_000 * runs}\n", exporter.Scrape());
    }

    [Fact]
    public void Per_token_and_per_step_calls_allocate_nothing_once_warm()
    {
        var clock = new SteppedClock();
        using var m = new ServingMetrics(new ServingMetricsOptions
        {
            TimeProvider = clock,
            PowerSource = new ModeledPowerSource(new PowerModel(1, 2), "model:x", clock),
            PriceUsdPerHour = 1,
        });
        RequestTracker r = m.RequestQueued(1, "m", 3);
        StepShare[] shares = [new StepShare(1, 3)];
        void Work(int n)
        {
            for (int i = 0; i < n; i++)
            {
                StepToken s = m.BeginStep();
                clock.Advance(0.001);
                m.EndStep(s, "m", shares);
                r.Token();
            }
        }
        Work(10);
        SteadyAllocation.AssertNone(() => Work(2_000));
    }
}
