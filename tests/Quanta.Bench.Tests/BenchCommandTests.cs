using System.Globalization;
using System.Text.Json;

namespace Quanta.Bench.Tests;

public class BenchCommandTests : IClassFixture<TinyModels>
{
    private readonly TinyModels _models;

    public BenchCommandTests(TinyModels models) => _models = models;

    private CliHarness.Result Bench(string format) => CliHarness.Run("bench", "--model", _models.SmallQ8, "-r", "1", "-p", "8", "-n", "4",
        "-t", "1", "--pg", "4,2", "--bandwidth-seconds", "0.05", "-o", format);

    [Fact]
    public void Markdown_has_llama_bench_columns_plus_bandwidth_columns()
    {
        var r = Bench("md");
        Assert.True(r.ExitCode == 0, r.Stderr);
        // table lines only: on a loaded machine the report may add a "! the bandwidth readings ... differed" note
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('!')).ToArray();
        Assert.Equal(5, lines.Length);
        string[] Cells(string line) => line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
        Assert.Equal(["model", "size", "params", "backend", "threads", "test", "t/s", "GB/s", "bw before GB/s", "bw after GB/s", "bound t/s", "of bound"],
            Cells(lines[0]));
        Assert.Matches(@"^\|-+\|-+:\|", lines[1]);
        string[] pp = Cells(lines[2]), tg = Cells(lines[3]), pg = Cells(lines[4]);
        Assert.Equal(["pp8", "tg4", "pp4+tg2"], new[] { pp[5], tg[5], pg[5] });
        // 300·64 + 64·2 + ... : the model's tensors hold 20400·2 + 256·5 + 2·(4352·2 + 2176·2 + 8704·3) bytes.
        long size = 20400 * 2 + 256 * 5 + 2 * (4352 * 2 + 2176 * 2 + 8704 * 3);
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"{size / 1048576.0:F2} MiB"), pp[1]);
        Assert.Equal("llama 112K Q8_0", pp[0]);
        Assert.Equal("CPU", pp[3]);
        Assert.Equal("1", pp[4]);
        Assert.Matches(@"^\d+\.\d\d ± \d+\.\d\d$", pp[6]);
        Assert.Equal("", pp[7]);
        Assert.Matches(@"^\d+\.\d%", tg[11]);
        Assert.Matches(@"^\d+\.\d\d$", tg[8]);
        Assert.Matches(@"^\d+\.\d\d$", tg[9]);
    }

    [Fact]
    public void Csv_header_uses_llama_bench_field_names()
    {
        var r = Bench("csv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("engine,model_filename,model_type,model_size,model_n_params,backends,n_threads,type_k,type_v,n_prompt,n_gen,n_depth,test,test_time,"
            + "avg_ns,stddev_ns,avg_ts,stddev_ts,samples_ns,samples_ts,bytes_per_token,bw_before_gbps,bw_after_gbps,effective_gbps,bound_ts,"
            + "bound_fraction,bw_attempts,bw_unstable", lines[0]);
        Assert.Equal(4, lines.Length);
        string[] tg = lines[2].Split(',');
        Assert.Equal(28, tg.Length);
        Assert.Equal("\"tg4\"", tg[12]);
        Assert.Equal("\"quanta\"", tg[0]);
        Assert.Equal("\"f16\"", tg[7]);
        Assert.Equal("\"\"", lines[1].Split(',')[20]);   // pp rows have no bytes_per_token
    }

    [Fact]
    public void Json_has_the_fields_and_consistent_values()
    {
        var r = Bench("json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var rows = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        foreach (var row in rows)
        {
            Assert.Equal(_models.SmallQ8, row.GetProperty("model_filename").GetString());
            Assert.Equal("llama 112K Q8_0", row.GetProperty("model_type").GetString());
            Assert.Equal(300 * 64 * 2 + 64 * 5 + 2 * (64 * 64 * 2 + 32 * 64 * 2 + 128 * 64 * 3), row.GetProperty("model_n_params").GetInt64());
            Assert.Equal(1, row.GetProperty("n_threads").GetInt32());
            Assert.Equal("CPU", row.GetProperty("backends").GetString());
            Assert.Equal(1, row.GetProperty("samples_ns").GetArrayLength());
            long ns = row.GetProperty("avg_ns").GetInt64();
            int tokens = row.GetProperty("n_prompt").GetInt32() + row.GetProperty("n_gen").GetInt32();
            Assert.Equal(tokens / (ns / 1e9), row.GetProperty("avg_ts").GetDouble(), 3);
            Assert.Equal(0, row.GetProperty("stddev_ts").GetDouble());
        }
        Assert.Equal([8, 0, 4], rows.Select(x => x.GetProperty("n_prompt").GetInt32()));
        Assert.Equal([0, 4, 2], rows.Select(x => x.GetProperty("n_gen").GetInt32()));
        var tg = rows[1];
        // tg4 from an empty cache: mean 2.5 positions of F16 KV.
        double bytes = TinyModels.SmallWeightBytes + TinyModels.SmallEmbeddingRow + TinyModels.SmallKvPerPositionF16 * 2.5;
        Assert.Equal(bytes, tg.GetProperty("bytes_per_token").GetDouble());
        double bw = (tg.GetProperty("bw_before_gbps").GetDouble() + tg.GetProperty("bw_after_gbps").GetDouble()) / 2 * 1e9;
        double ts = tg.GetProperty("avg_ts").GetDouble();
        Assert.Equal(ts * bytes / bw, tg.GetProperty("bound_fraction").GetDouble(), 9);
        Assert.Equal(bytes * ts / 1e9, tg.GetProperty("effective_gbps").GetDouble(), 9);
        Assert.InRange(tg.GetProperty("bw_attempts").GetInt32(), 1, 3);
        Assert.Equal(JsonValueKind.Null, rows[0].GetProperty("bound_fraction").ValueKind);
    }

    [Fact]
    public void Errors_are_one_line()
    {
        var r = CliHarness.Run("bench", "--model", "/nonexistent/m.gguf", "-r", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("quanta: error: model file not found: /nonexistent/m.gguf", r.Stderr.Trim());
        var bad = CliHarness.Run("bench", "--model", _models.SmallQ8, "-o", "xml");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("-o takes md, csv or json", bad.Stderr);
    }
}
