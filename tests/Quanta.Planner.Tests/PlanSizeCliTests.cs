using System.Text.Json;

namespace Quanta.Planner.Tests;

/// <summary>`quanta plan size` and `quanta plan simulate` run as a user would.</summary>
public class PlanSizeCliTests
{
    [Fact]
    public void SizeTheWorkedExamplePrintsARankedTableAndCharts()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"quanta-size-{Guid.NewGuid():N}");
        try
        {
            var r = CliHarness.Run("plan", "size", "--model", "llama-3.1-8b", "--precision", "fp8", "--prompt", "1500", "--output", "32",
                "--requests-per-day", "15e6", "--e2e-mean", "180ms", "--util", "0.8", "--devices", "b200,l4", "--sim-requests", "300",
                "--operating-requests", "300", "--chart-dir", dir, "--chart-format", "svg");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains("| rank | device | tier | tp | replicas | devices |", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("173.61 requests/s (15,000,000 per day)", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("| 1 | b200 |", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("- l4: ", r.Stdout, StringComparison.Ordinal);   // cannot reach 180 ms even unloaded
            foreach (string f in (string[])["throughput-vs-p99-latency.svg", "cost-per-million-tokens.svg", "memory-fit-per-tier.svg"])
                Assert.True(File.Exists(Path.Combine(dir, f)), f);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void SizeJsonHasTheFleetFields()
    {
        var r = CliHarness.Run("plan", "size", "-m", "llama-3.1-8b", "-p", "lognormal:800:0.5", "-n", "uniform:50-150", "--rate", "40",
            "--ttft-p99", "1s", "--tpot-p99", "60ms", "--devices", "h100-sxm", "--price", "h100-sxm=2", "--sim-requests", "200", "--operating-requests", "200", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var o = doc.RootElement.GetProperty("options")[0];
        Assert.True(o.GetProperty("feasible").GetBoolean());
        long devices = o.GetProperty("devices").GetInt64();
        Assert.Equal(o.GetProperty("replicas").GetInt64() * o.GetProperty("tensor_parallel").GetInt32(), devices);
        Assert.Equal(2.0 * devices, o.GetProperty("usd_per_hour").GetDouble(), 9);
        Assert.Equal(2.0 * devices / (40 * 3600), o.GetProperty("usd_per_request").GetDouble(), 12);
        foreach (string f in (string[])["usd_per_million_tokens", "joules_per_token", "joules_per_request", "watts_per_device"])
            Assert.Equal(JsonValueKind.Number, o.GetProperty(f).ValueKind);
        Assert.True(o.GetProperty("operating").GetProperty("ttft_s").GetProperty("p99").GetDouble() <= 1.0);
    }

    [Fact]
    public void SizeVisionWorkload()
    {
        var r = CliHarness.Run("plan", "size", "--model", "resnet-50", "--rate", "5000", "--latency", "15ms", "--util", "80%", "--devices", "h100-sxm,t4");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("images/s per device", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("| h100-sxm |", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void SimulateJsonReportsDistributions()
    {
        var r = CliHarness.Run("plan", "simulate", "-m", "llama-3.1-8b", "-d", "h100-sxm", "--precision", "fp8", "-p", "1500", "-n", "32",
            "--rate", "10", "--requests", "500", "--seed", "7", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var res = doc.RootElement.GetProperty("result");
        Assert.Equal(500, res.GetProperty("completed").GetInt32());
        var ttft = res.GetProperty("ttft_s");
        Assert.True(ttft.GetProperty("p50").GetDouble() <= ttft.GetProperty("p90").GetDouble());
        Assert.True(ttft.GetProperty("p90").GetDouble() <= ttft.GetProperty("p99").GetDouble());
        Assert.True(res.GetProperty("request_throughput").GetDouble() is > 8 and < 12);
        var again = CliHarness.Run("plan", "simulate", "-m", "llama-3.1-8b", "-d", "h100-sxm", "--precision", "fp8", "-p", "1500", "-n", "32",
            "--rate", "10", "--requests", "500", "--seed", "7", "--json");
        using var doc2 = JsonDocument.Parse(again.Stdout);
        Assert.Equal(ttft.GetProperty("p99").GetDouble(), doc2.RootElement.GetProperty("result").GetProperty("ttft_s").GetProperty("p99").GetDouble());
    }

    [Fact]
    public void SimulateOfflineTextTable()
    {
        var r = CliHarness.Run("plan", "simulate", "-m", "llama-3.1-8b", "-d", "b200", "-p", "1000", "-n", "100", "--arrival", "offline", "--requests", "300");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("| TTFT ms |", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("offline (all at t=0)", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void SimulateMaxRateForAnMlperfServerTask()
    {
        // llama2-70b's Server limits (TTFT p99 <= 2 s, TPOT p99 <= 200 ms) come from the benchmark catalog
        var r = CliHarness.Run("plan", "simulate", "--benchmark", "llama2-70b", "-d", "h100-sxm", "--tp", "8", "--max-rate", "--requests", "300", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("llama-2-70b", root.GetProperty("model").GetString());
        double rate = root.GetProperty("rate").GetDouble(), sat = root.GetProperty("saturation_requests_per_second").GetDouble();
        Assert.True(rate > 0 && rate <= sat * (1 + 1e-9), $"rate {rate}, saturation {sat}");
        var res = root.GetProperty("result");
        Assert.True(res.GetProperty("ttft_s").GetProperty("p99").GetDouble() <= 2.0);
        Assert.True(res.GetProperty("tpot_s").GetProperty("p99").GetDouble() <= 0.2);
    }

    [Theory]
    [InlineData("size|-m|llama-3.1-8b|--output|32|--rate|10", "--prompt is required")]
    [InlineData("simulate|-d|h100-sxm|-p|10|-n|10|--rate|1", "--model (or --benchmark) is required")]
    [InlineData("simulate|-m|llama-3.1-8b|-d|h100-sxm|-p|10|-n|10|--max-rate", "--max-rate needs latency objectives")]
    [InlineData("simulate|--benchmark|resnet50|-d|h100-sxm|--rate|1", "not a language-model task")]
    [InlineData("size|-m|llama-3.1-8b|-p|10|-n|10|--rate|10|--requests-per-day|5", "not both")]
    [InlineData("size|-m|llama-3.1-8b|-p|10|-n|10", "give the load")]
    [InlineData("size|-m|llama-3.1-8b|-p|10|-n|10|--rate|10|--e2e-mean|soon", "--e2e-mean 'soon'")]
    [InlineData("size|-m|llama-3.1-8b|-p|10|-n|10|--rate|10|--util|2", "--util '2'")]
    [InlineData("simulate|-m|llama-3.1-8b|-d|h100-sxm|-p|10|-n|10", "--rate is required")]
    [InlineData("simulate|-m|llama-3.1-8b|-d|nosuch|-p|10|-n|10|--rate|1", "unknown device 'nosuch'")]
    [InlineData("size|-m|llama-3.1-8b|-p|10|-n|10|--rate|1|--chart-dir|/tmp/x|--chart-format|gif", "chart format 'gif'")]
    public void UserErrorsGiveOneLine(string args, string expected)
    {
        var r = CliHarness.Run(["plan", .. args.Split('|')]);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("quanta: error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
    }
}
