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
            var w = new LlmWorkload
            {
                Model = m, Weights = Precision.Fp8, Kv = Precision.Fp8, Prompt = new LengthDistribution.Fixed(512), Output = new LengthDistribution.Fixed(64),
                RequestsPerSecond = 20, Slo = new ServiceLevel { TpotP99S = 0.1 }, SearchRequests = 200, OperatingRequests = 200,
            };
            var eff = EfficiencyParameters.BuiltIn();
            var res = LlmFleetSizer.Size(w, [devices.Get("h100-sxm"), devices.Get("l4")], eff);
            var series = res.Where(o => o.Feasible).Select(o => (o.Device.Id, o.TensorParallel, LlmFleetSizer.Sweep(w with { SearchRequests = 200 }, o, eff, [0.1, 0.5, 0.9]))).ToList();
            Assert.NotEmpty(series);
            Assert.All(series, s => Assert.Equal(3, s.Item3.Count));
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
