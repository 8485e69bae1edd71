using System.Text.Json;
using Quanta.Planner.Validation;

namespace Quanta.Planner.Tests;

/// <summary>`quanta plan ...` run as a user would.</summary>
public class PlanCliTests
{
    [Fact]
    public void ValidateCalibrationCsv()
    {
        var r = CliHarness.Run("plan", "validate", CliHarness.Shared("planner/calibration.csv"), "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var rows = doc.RootElement.GetProperty("rows");
        Assert.Equal(33, rows.GetArrayLength());
        int predicted = rows.EnumerateArray().Count(x => x.GetProperty("predicted").ValueKind == JsonValueKind.Number);
        Assert.True(predicted >= 0.8 * 33, $"only {predicted} of 33 rows predicted");
        foreach (var x in rows.EnumerateArray())
            foreach (string f in new[] { "id", "quantity", "unit", "predicted", "measured", "error" })
                Assert.True(x.TryGetProperty(f, out _), $"row lacks {f}");
        var s = doc.RootElement.GetProperty("summary");
        double thr = s.GetProperty("throughput").GetProperty("mape_all").GetDouble();
        double lat = s.GetProperty("latency").GetProperty("mape_all").GetDouble();
        // Issue 7's acceptance: throughput MAPE <= 15%, latency MAPE <= 25% over the whole file, and the rows not used
        // for fitting reported apart (held out: at least 10 throughput rows, with their own MAPE within the same bound).
        Assert.True(thr <= 15, $"throughput MAPE {thr:F1}%");
        Assert.True(lat <= 25, $"latency MAPE {lat:F1}%");
        Assert.True(s.GetProperty("throughput").GetProperty("rows_held_out").GetInt32() >= 10);
        double heldOut = s.GetProperty("throughput").GetProperty("mape_held_out").GetDouble();
        Assert.True(heldOut <= 15, $"held-out throughput MAPE {heldOut:F1}%");
    }

    [Fact]
    public void ValidateTextShowsEveryRowAndTheSummary()
    {
        var r = CliHarness.Run("plan", "validate", CliHarness.Shared("planner/calibration.csv"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        foreach (string id in new[] { "M01", "T07", "A05", "P03" }) Assert.Contains(id + " ", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("skipped: model 'Kimi-K2.5-NVFP4' is not in the model catalog", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("MAPE throughput", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("held-out", r.Stdout, StringComparison.Ordinal);
        Assert.Equal("", r.Stderr);
    }

    [Theory]
    [InlineData("id,accelerator\nX,\"H100\n", "unterminated quoted field")]
    [InlineData("id,accelerator,num_accelerators,benchmark_model,scenario,metric,value_system,value_per_accelerator\nA,H100,1\n", "line 2: 3 fields, but the header has 8")]
    [InlineData("id,foo\nA,b\n", "missing column(s) accelerator")]
    public void MalformedCsvGivesOneLineError(string csv, string expected)
    {
        string path = Path.Combine(Path.GetTempPath(), $"quanta-plan-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, csv);
        try
        {
            var r = CliHarness.Run("plan", "validate", path);
            Assert.Equal(1, r.ExitCode);
            Assert.Equal("", r.Stdout);
            string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.StartsWith("quanta: error: ", lines[0], StringComparison.Ordinal);
            Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void FitDevicesModels()
    {
        var fit = CliHarness.Run("plan", "fit", "--model", "Llama-3.1-70B", "--device", "H100 SXM", "--precision", "bf16", "--json");
        Assert.True(fit.ExitCode == 0, fit.Stderr);
        using (var doc = JsonDocument.Parse(fit.Stdout))
        {
            Assert.Equal(2, doc.RootElement.GetProperty("devices_needed").GetInt32());
            Assert.Equal("mainstream", doc.RootElement.GetProperty("tier").GetString());
            Assert.Equal(327680, doc.RootElement.GetProperty("kv_bytes_per_token").GetDouble());
        }
        var devices = CliHarness.Run("plan", "devices");
        Assert.Equal(0, devices.ExitCode);
        Assert.Equal(19, devices.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var models = CliHarness.Run("plan", "models");
        Assert.Equal(0, models.ExitCode);
        Assert.Contains("mixtral-8x7b", models.Stdout, StringComparison.Ordinal);
        var bad = CliHarness.Run("plan", "fit", "--model", "nope", "--device", "H100");
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith("quanta: error: unknown model 'nope'", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void CsvParserHandlesQuotes()
    {
        var t = CsvTable.Parse("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"multi\nline\"\n1,,3", "t");
        Assert.Equal(2, t.Rows.Count);
        Assert.Equal("x, y", t.Rows[0][0]);
        Assert.Equal("say \"hi\"", t.Rows[0][1]);
        Assert.Equal("multi\nline", t.Rows[0][2]);
        Assert.Equal("", t.Rows[1][1]);
        Assert.Equal(4, t.Lines[1]);
    }
}
