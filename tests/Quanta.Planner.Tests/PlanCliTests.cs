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
    public void AcceleratorsAndSettingsNotInTheCalibrationFileFromTheirSpecsAlone()
    {
        // Twelve rows of the same public table the calibration file samples (NVIDIA/TensorRT-LLM
        // docs/source/performance/perf-overview.md @ 00f37686aa85, trtllm-bench, output tokens/s of the TP group) that
        // the file does not contain: H200 and GB200 (devices absent from the file) and sequence lengths it lacks. None
        // was used for fitting; the planner must stay within 20% MAPE on them.
        (string Id, string Accelerator, int Count, string Model, string Lengths, string Extra, double Value)[] rows =
        [
            ("H1", "H200", 1, "Llama-3.3-70B", "1000/1000", "TP1 FP8", 2909), ("H2", "H200", 1, "Llama-3.3-70B", "128/2048", "TP1 FP8", 4336),
            ("H3", "H200", 1, "Llama-3.3-70B", "2048/2048", "TP1 FP8", 2003), ("H4", "H200", 1, "Llama-3.3-70B", "5000/500", "TP1 FP8", 566),
            ("H5", "H200", 1, "Llama-3.1-8B", "1000/1000", "TP1 FP8", 17744), ("H6", "H200", 1, "Llama-3.1-8B", "128/128", "TP1 FP8", 27911),
            ("H7", "H200", 1, "Llama-3.1-8B", "2048/128", "TP1 FP8", 3538), ("H8", "H200", 8, "Llama-3.1-405B", "1000/1000", "TP8 FP8", 3330),
            ("H9", "H100 SXM", 1, "Llama-3.1-8B", "2048/2048", "TP1 FP8", 9305), ("H10", "B200", 1, "Llama-3.3-70B", "128/2048", "TP1 FP4", 9922),
            ("H11", "GB200", 1, "Llama-3.3-70B", "1000/1000", "TP1 FP4", 7326), ("H12", "H100 SXM", 2, "Llama-3.3-70B", "2048/128", "TP2 FP8", 762),
        ];
        var csv = new System.Text.StringBuilder("id,kind,accelerator,num_accelerators,benchmark_model,scenario,metric,value_system,value_per_accelerator,extra,notes\n");
        foreach (var r in rows)
            csv.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"{r.Id},Vendor table,{r.Accelerator},{r.Count},{r.Model},Offline max-throughput ISL/OSL {r.Lengths},output tokens/s,{r.Value},{r.Value / r.Count},{r.Extra},trtllm-bench throughput\n");
        var table = CalibrationRow.FromTable(CsvTable.Parse(csv.ToString(), "perf-overview rows"), "perf-overview rows");
        var report = Validator.Run(table, new RowPredictor(Catalogs.DeviceCatalog.BuiltIn(), Catalogs.ModelCatalog.BuiltIn()),
            Performance.EfficiencyParameters.BuiltIn());
        Assert.Equal(12, report.Predicted.Count());
        var mape = report.Mape("throughput", fitted: false);
        Assert.True(mape.Mape <= 20, $"MAPE {mape.Mape:F1}% on rows the fit never saw: "
            + string.Join("; ", report.Rows.Select(x => $"{x.Id} {x.ErrorPercent:+0;-0}%")));
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
