using System.Buffers.Binary;
using System.Text.Json;
using System.Xml.Linq;
using Quanta.Bench.Serve;
using Quanta.Engine.Serving;
using Quanta.Server;

namespace Quanta.Bench.Tests;

/// <summary>The latency-vs-throughput chart (SVG parsed, PNG header read), the CLI sweep, and the overhead and scaling runners on a tiny model.</summary>
public sealed class ServeChartAndRunnerTests
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

    private static ServeBenchResult Result(double tps, double ttftP50, double ttftP99, double tpotP50, double tpotP99) => new()
    {
        OutputThroughput = tps,
        Ttft = new LatencyStats(ttftP50, ttftP50, 1, ttftP99),
        Tpot = new LatencyStats(tpotP50, tpotP50, 1, tpotP99),
    };

    private static readonly ServeSweepPoint[] Points =
    [
        new("c=1", Result(100, 20, 30, 10, 12)),
        new("c=4", Result(350, 45, 90, 11, 15)),
        new("c=16", Result(900, 160, 400, 17, 30)),
    ];

    private static string Temp(string ext) => Path.Combine(Path.GetTempPath(), "quanta-chart-" + Guid.NewGuid().ToString("N") + ext);

    // colours used as fill or stroke, other than the frame's black/white/greys
    private static Dictionary<string, int> SeriesColourUses(XDocument svg)
    {
        var uses = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (XElement e in svg.Descendants())
        {
            foreach (string attr in new[] { "fill", "stroke" })
            {
                string? c = (string?)e.Attribute(attr);
                if (c is null || !c.StartsWith('#') || c.Length != 7) continue;
                int r = Convert.ToInt32(c[1..3], 16), g = Convert.ToInt32(c[3..5], 16), b = Convert.ToInt32(c[5..7], 16);
                if (r == g && g == b) continue;   // greys: grid, frame, text
                uses[c] = uses.GetValueOrDefault(c) + 1;
            }
        }
        return uses;
    }

    [Fact]
    public void Svg_chart_has_four_series_with_a_marker_per_point_and_the_legend()
    {
        string path = Temp(".svg");
        try
        {
            ServeChart.Write(Points, path);
            XDocument svg = XDocument.Load(path);
            Assert.Equal("svg", svg.Root!.Name.LocalName);
            Dictionary<string, int> uses = SeriesColourUses(svg);
            Assert.Equal(ServeChart.SeriesColors.Order(StringComparer.OrdinalIgnoreCase), uses.Keys.Order(StringComparer.OrdinalIgnoreCase));
            foreach (string colour in ServeChart.SeriesColors)
                Assert.True(uses[colour] >= Points.Length + 1, $"{colour}: {uses[colour]} elements for {Points.Length} points and a legend entry");
            string[] texts = [.. svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim())];
            if (texts.Length > 0)   // text needs a font file on the machine (see ServeChart)
            {
                foreach (string name in ServeChart.SeriesNames) Assert.Single(texts, t => t == name);
                foreach (ServeSweepPoint p in Points) Assert.Contains(p.Label, texts);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Png_chart_is_a_png_of_the_requested_size_and_other_extensions_are_refused()
    {
        string path = Temp(".png");
        try
        {
            ServeChart.Write(Points, path, 640, 400);
            byte[] bytes = File.ReadAllBytes(path);
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
            Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
            Assert.Equal(640, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
            Assert.Equal(400, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<ArgumentException>(() => ServeChart.Write(Points, Temp(".jpg")));
        Assert.Throws<ArgumentException>(() => ServeChart.Write([], Temp(".svg")));
    }

    private static QuantaServer Stories() => new(new ServerOptions
    {
        Port = 0,
        Logging = false,
        Threads = 1,
        Tokenizer = Shared("testdata/llama2c/tok512.bin"),
        Models = [new ModelSpec { Path = Shared("testdata/llama2c/stories260K.bin") }],
    });

    [Fact]
    public async Task Cli_sweep_writes_a_json_array_and_a_chart()
    {
        QuantaServer server = Stories();
        await server.StartAsync();
        string json = Temp(".json"), chart = Temp(".svg");
        try
        {
            var r = await Task.Run(() => CliHarness.Run("bench", "serve", "--base-url", server.BaseAddress.ToString(), "--model", "stories260K",
                "--num-prompts", "4", "--random-input-len", "8", "--random-output-len", "8", "--max-concurrency", "1,2",
                "--json", json, "--chart", chart));
            Assert.True(r.ExitCode == 0, r.Stderr);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            Assert.Equal(JsonValueKind.Array, doc.RootElement.ValueKind);
            Assert.Equal([1, 2], doc.RootElement.EnumerateArray().Select(e => e.GetProperty("max_concurrency").GetInt32()));
            Assert.Equal(4, SeriesColourUses(XDocument.Load(chart)).Count);
        }
        finally
        {
            File.Delete(json);
            File.Delete(chart);
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Overhead_runner_measures_both_paths_on_one_engine()
    {
        QuantaServer server = Stories();
        await server.StartAsync();
        try
        {
            var (id, engine) = server.Engines.Single();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
            ServeOverheadResult r = await ServeOverheadRunner.RunAsync(engine, http, server.BaseAddress, id,
                new ServeOverheadOptions { Rounds = 3, PromptTokens = 8, OutputTokens = 12, Seed = Environment.TickCount, WarmUpRequests = 5 });
            Assert.Equal(3, r.InProcess.Count);
            Assert.Equal(3, r.Http.Count);
            Assert.All(r.InProcess.Concat(r.Http), t => Assert.True(t > 0 && double.IsFinite(t)));
            Assert.Equal(r.HttpTpotMs / r.InProcessTpotMs, r.Ratio, 12);
            Assert.True(r.InProcessJitMethods >= 0 && r.HttpJitMethods >= 0 && r.WarmUpJitMethods >= 0);
            Assert.Contains("server / in-process", r.ToText(), StringComparison.Ordinal);
            Assert.Contains("JIT compiles while measuring", r.ToText(), StringComparison.Ordinal);
            // one full-length pair, 5 short warm-up pairs, 3 measured pairs: every request went through the engine
            var text = new StringWriter();
            server.Metrics.WritePrometheus(text);
            double finished = text.ToString().Split('\n')
                .Where(l => l.StartsWith("quanta:request_success_total{", StringComparison.Ordinal))
                .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(2 * (1 + 5 + 3), finished);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(-1, 3)]
    [InlineData(0, 1)]
    public void Overhead_options_reject_a_bad_warm_up(int requests, int tokens) =>
        Assert.Throws<ArgumentException>(() => new ServeOverheadOptions { WarmUpRequests = requests, WarmUpOutputTokens = tokens }.Validate());

    [Fact]
    public async Task Scaling_runner_counts_every_token_and_the_ceiling_from_first_principles()
    {
        using ServingEngine engine = ServingEngine.Load("stories", Shared("testdata/llama2c/stories260K.bin"),
            new ServingOptions { TokenizerPath = Shared("testdata/llama2c/tok512.bin"), Threads = 1 });
        ServeScalingResult r = await ServeScalingRunner.RunAsync(engine,
            new ServeScalingOptions { Concurrency = [1, 4], RequestsPerStream = 2, PromptTokens = 4, OutputTokens = 10, Int8OpsPerSecond = 1e9, MeasureBandwidth = false });
        Assert.Equal([1, 4], r.Points.Select(p => p.Concurrency));
        Assert.Equal([20L, 80L], r.Points.Select(p => p.OutputTokens));   // ignore_eos: exactly 10 per request
        // stories260K: dim 64, hidden 172, 5 layers, 8 heads / 4 kv heads (head 8), vocab 512, tied head
        long perLayer = 64 * 64 + 2 * 64 * 32 + 64 * 64 + 3 * 64 * 172;
        Assert.Equal(5 * perLayer + 512 * 64, r.WeightsPerToken);
        Assert.Equal(1e9 / (2.0 * r.WeightsPerToken), r.CeilingTokensPerSecond, 6);
        Assert.Equal(r.Points[1].TokensPerSecond / r.Points[0].TokensPerSecond, r.Speedup, 9);
        // warm-up: at least one unmeasured round per concurrency, more only while the JIT compiled, never above the cap
        Assert.All(r.Points, p => Assert.InRange(p.WarmUpRounds, 1, 3));
        ServeScalingResult once = await ServeScalingRunner.RunAsync(engine,
            new ServeScalingOptions { Concurrency = [2], RequestsPerStream = 1, PromptTokens = 4, OutputTokens = 4, MaxWarmUps = 1 });
        Assert.Equal(1, once.Points[0].WarmUpRounds);
        Assert.Equal(8L, once.Points[0].OutputTokens);
        Assert.Throws<ArgumentException>(() => new ServeScalingOptions { MaxWarmUps = 0 }.Validate());
    }
}
