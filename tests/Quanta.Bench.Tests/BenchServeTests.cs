using System.Text.Json;
using Quanta.Bench.Serve;
using Quanta.Server;

namespace Quanta.Bench.Tests;

public sealed class BenchServeTests
{
    private static string Shared(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", relative);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"test data file missing: shared/{relative}");
    }

    [Fact]
    public async Task Loopback_run_against_stories260K_measures_every_request()
    {
        var server = new QuantaServer(new ServerOptions
        {
            Port = 0,
            Logging = false,
            Threads = 1,
            Tokenizer = Shared("testdata/llama2c/tok512.bin"),
            Models = [new ModelSpec { Path = Shared("testdata/llama2c/stories260K.bin") }],
        });
        await server.StartAsync();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
            var options = new ServeBenchOptions
            {
                BaseUrl = server.BaseAddress,
                Model = "stories260K",
                NumPrompts = 8,
                InputLen = 8,
                OutputLen = 16,
                RequestRate = double.PositiveInfinity,
                MaxConcurrency = 4,
                VocabSize = 500,
                Seed = Environment.TickCount,
                NumWarmups = 1,
                Goodput = ServeSlo.Parse(["ttft:1e9", "tpot:1e9", "e2el:1e9"]),
                RequestTimeout = TimeSpan.FromSeconds(60),
            };
            int lastProgress = 0;
            var result = await ServeBenchRunner.RunAsync(http, options, (done, _) => Volatile.Write(ref lastProgress, Math.Max(Volatile.Read(ref lastProgress), done)));
            string errors = string.Join("; ", result.Requests.Select(r => r.Error).Where(e => e is not null));

            Assert.True(result.Completed == 8, $"completed {result.Completed}, errors: {errors}");
            Assert.Equal(8, lastProgress);
            Assert.Equal(8 * 8, result.TotalInputTokens);
            Assert.Equal(result.Requests.Sum(r => (long)r.OutputTokens), result.TotalOutputTokens);
            foreach (var r in result.Requests)
            {
                Assert.InRange(r.OutputTokens, 1, 16);
                Assert.True(r.Ttft > 0 && r.Ttft <= r.E2el, $"ttft {r.Ttft} e2el {r.E2el}");
                Assert.Equal(r.Chunks - 1, r.Itl.Count);
                if (r.OutputTokens > 1) Assert.Equal((r.E2el - r.Ttft) / (r.OutputTokens - 1), r.Tpot, 12);
            }
            Assert.True(result.TotalOutputTokens > 8, "expected more than one token per request on average");
            foreach (var s in new[] { result.Ttft, result.Tpot, result.Itl, result.E2el })
                Assert.True(s.Median <= s.P99 && s.Mean > 0 && s.Std >= 0, $"stats {s}");
            Assert.True(result.Duration > 0);
            Assert.Equal(result.Completed / result.Duration, result.RequestThroughput, 9);
            Assert.Equal(result.TotalOutputTokens / result.Duration, result.OutputThroughput, 9);
            Assert.Equal(result.RequestThroughput, result.RequestGoodput);
            Assert.NotNull(result.JoulesPerOutputToken);
            Assert.True(result.JoulesPerOutputToken > 0);

            using var doc = JsonDocument.Parse(result.ToJson());
            var root = doc.RootElement;
            foreach (string name in new[]
            {
                "duration", "completed", "total_input_tokens", "total_output_tokens", "request_throughput", "output_throughput",
                "total_token_throughput", "request_goodput", "joules_per_output_token", "usd_per_million_tokens",
            })
                Assert.True(root.TryGetProperty(name, out _), $"JSON lacks {name}");
            foreach (string m in new[] { "ttft", "tpot", "itl", "e2el" })
                foreach (string k in new[] { "mean", "median", "std", "p99" })
                    Assert.True(root.TryGetProperty($"{k}_{m}_ms", out _), $"JSON lacks {k}_{m}_ms");
            Assert.Equal(8, root.GetProperty("completed").GetInt32());
            Assert.Equal(result.TotalOutputTokens, root.GetProperty("total_output_tokens").GetInt64());
            Assert.Contains("Serving Benchmark Result", result.ToTable(), StringComparison.Ordinal);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public void Percentiles_match_numpy_linear_and_goodput_parsing()
    {
        // numpy.percentile([1,2,3,4], 50) = 2.5, 99 -> 3.97; population std of 1..4 = sqrt(1.25)
        var s = LatencyStats.FromSeconds([0.004, 0.001, 0.003, 0.002]);
        Assert.Equal(2.5, s.Median, 9);
        Assert.Equal(3.97, s.P99, 9);
        Assert.Equal(2.5, s.Mean, 9);
        Assert.Equal(Math.Sqrt(1.25), s.Std, 9);
        Assert.Equal(new ServeSlo(100, null, 2000), ServeSlo.Parse(["ttft:100", "e2el:2000"]));
        Assert.Throws<ArgumentException>(() => ServeSlo.Parse(["latency:5"]));
        Assert.True(double.IsPositiveInfinity(ServeBenchOptions.ParseRate("inf")));
        Assert.Equal(2.5, ServeBenchOptions.ParseRate("2.5"));
    }

    [Fact]
    public void Gamma_gaps_have_the_requested_mean()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        foreach (double shape in new[] { 0.5, 1.0, 3.0 })
        {
            double sum = 0;
            const int n = 20000;
            for (int i = 0; i < n; i++) sum += ServeBenchRunner.SampleGamma(rng, shape);
            Assert.True(Math.Abs(sum / n - shape) < 0.05 * shape + 0.03, $"seed {seed} shape {shape} mean {sum / n}");
        }
    }
}
