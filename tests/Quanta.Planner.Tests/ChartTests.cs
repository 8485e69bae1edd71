using Quanta.Planner.Catalogs;
using Quanta.Planner.Charts;
using Quanta.Planner.Fleet;
using Quanta.Planner.Performance;
using Quanta.Planner.Simulation;

namespace Quanta.Planner.Tests;

/// <summary>The planner's charts produce valid PNG and SVG files.</summary>
public class ChartTests
{
    private static void AssertValid(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        Assert.True(b.Length > 2000, $"{path}: only {b.Length} bytes");
        if (path.EndsWith(".png", StringComparison.Ordinal))
        {
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, b[..8]);
            Assert.Equal("IEND"u8.ToArray(), b[^8..^4]);
        }
        else
        {
            string s = System.Text.Encoding.UTF8.GetString(b);
            var doc = System.Xml.Linq.XDocument.Parse(s);   // well-formed XML
            Assert.Equal("svg", doc.Root!.Name.LocalName);
            Assert.Contains("<text", s, StringComparison.Ordinal);   // a font was found: titles and ticks are drawn
        }
    }

    [Theory]
    [InlineData(".png")]
    [InlineData(".svg")]
    public void EveryChartWritesAValidFile(string ext)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"quanta-charts-{Guid.NewGuid():N}");
        try
        {
            var m = ModelCatalog.BuiltIn().Find("llama-3.1-8b")!;
            var devices = DeviceCatalog.BuiltIn();
            // probes from quick simulations with a hand-set step time; options with hand-set costs: this tests drawing, not sizing
            var o = new SimulationOptions { Arrival = new ArrivalProcess.Poisson(), Prompt = new LengthDistribution.Fixed(64), Output = new LengthDistribution.Fixed(16), Requests = 200 };
            RateProbe Probe(double rate, double step) => new(rate, ServingSimulator.Run(o with { Rate = rate }, new AffineStepTime(step, 1e-5)), true);
            var series = new List<(string, int, IReadOnlyList<RateProbe>)>
            {
                ("fast", 1, [Probe(5, 0.002), Probe(20, 0.002), Probe(40, 0.002)]),
                ("slow", 2, [Probe(2, 0.01), Probe(8, 0.01)]),
            };
            var res = new[]
            {
                new LlmDeviceOption { Device = devices.Get("h100-sxm"), Feasible = true, Devices = 32, UsdPerMillionTokens = 0.16 },
                new LlmDeviceOption { Device = devices.Get("b200"), Feasible = true, Devices = 7, UsdPerMillionTokens = 0.034 },
                new LlmDeviceOption { Device = devices.Get("l4"), Feasible = false, Reason = "too slow" },
            };
            string a = Path.Combine(dir, "latency" + ext), b = Path.Combine(dir, "cost" + ext), c = Path.Combine(dir, "memory" + ext);
            FleetCharts.ThroughputVsLatency(series, "t", a);
            FleetCharts.CostPerMillionTokens(res, "c", b);
            FleetCharts.MemoryFitPerTier(m, devices.Devices, Precision.Bf16, Precision.Bf16, 4096, c);
            foreach (string f in (string[])[a, b, c]) AssertValid(f);
            Assert.Throws<ArgumentException>(() => FleetCharts.CostPerMillionTokens(res, "c", Path.Combine(dir, "cost.jpg")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
