using Quanta.Planner.Catalogs;
using Quanta.Planner.Validation;

namespace Quanta.Planner.Tests;

/// <summary>The built-in device catalog against shared/planner/gpu-catalog.csv, figure by figure.</summary>
public class CatalogTranscriptionTests
{
    private static readonly CsvTable Reference = CsvTable.Load(CliHarness.Shared("planner/gpu-catalog.csv"));

    private static string Cell(IReadOnlyList<string> row, string column) => row[Reference.Header.ToList().IndexOf(column)];

    [Fact]
    public void EveryReferenceRowIsPresentWithTheSameFigures()
    {
        var cat = DeviceCatalog.BuiltIn();
        Assert.Equal(17, Reference.Rows.Count);
        foreach (var row in Reference.Rows)
        {
            string name = Cell(row, "accelerator");
            var d = cat.Devices.SingleOrDefault(x => x.Name == name);
            Assert.True(d != null, $"device {name} missing from devices.json");
            Assert.Equal(Cell(row, "variant"), d!.Variant);
            Assert.Equal(Cell(row, "memory_gb"), d.MemoryGb.Text);
            Assert.Equal(Cell(row, "mem_bw_tb_s"), d.MemBwTbS.Text);
            Assert.Equal(Cell(row, "fp16_bf16_dense_tflops"), d.Fp16Tflops.Text);
            Assert.Equal(Cell(row, "fp8_dense_tflops"), d.Fp8Tflops.Text);
            Assert.Equal(Cell(row, "int8_dense_tops"), d.Int8Tops.Text);
            Assert.Equal(Cell(row, "int4_dense_tops"), d.Int4Tops.Text);
            Assert.Equal(Cell(row, "fp4_dense_tflops"), d.Fp4Tflops.Text);
            Assert.Equal(Cell(row, "tdp_w"), d.TdpW.Text);
            Assert.Equal(Cell(row, "scale_up_interconnect"), d.InterconnectGbS.Text);
            Assert.Equal(Cell(row, "price_or_cloud_rate"), d.PriceUsdPerHour.Text);
            Assert.Equal(Cell(row, "notes"), d.Notes);
            Assert.Equal(Cell(row, "spec_sources"), d.MemoryGb.Source);
            // Plain numeric cells must carry exactly that number.
            foreach (var (col, fig) in new[] { ("memory_gb", d.MemoryGb), ("mem_bw_tb_s", d.MemBwTbS), ("fp16_bf16_dense_tflops", d.Fp16Tflops),
                ("fp8_dense_tflops", d.Fp8Tflops), ("int8_dense_tops", d.Int8Tops), ("fp4_dense_tflops", d.Fp4Tflops), ("tdp_w", d.TdpW) })
                if (double.TryParse(Cell(row, col), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v))
                    Assert.True(fig.Value == v, $"{name} {col}: {fig.Value} != {v}");
        }
    }

    [Theory]
    [InlineData("NVIDIA H100 SXM5", 700)]            // "up to 700"
    [InlineData("NVIDIA H100 PCIe", 350)]            // "300-350": upper end
    [InlineData("NVIDIA Jetson AGX Orin 64GB", 60)]  // "15-60 (configurable)"
    [InlineData("Intel Gaudi 3 (OAM HL-325L)", 900)] // "900 (OAM; PCIe card lower)"
    public void RangesBecomeTheUpperEndWithTheTextKept(string name, double tdp)
    {
        var d = DeviceCatalog.BuiltIn().Devices.Single(x => x.Name == name);
        Assert.Equal(tdp, d.TdpW.Value);
        Assert.Equal(tdp * 0.12, d.IdleW.Value!.Value, 1);
        Assert.True(d.IdleW.Estimated);
    }

    [Fact]
    public void EveryFigureHasASourceAndTheCpuIsListed()
    {
        var cat = DeviceCatalog.BuiltIn();
        Assert.Equal(18, cat.Devices.Count);
        foreach (var d in cat.Devices)
            foreach (var (field, fig) in d.Figures())
                Assert.False(string.IsNullOrWhiteSpace(fig.Source), $"{d.Id}.{field} has no source");
        var cpu = cat.Get("cpu");
        Assert.Equal(0.233, cpu.Fp32Tflops.Value);
        Assert.Equal(0.467, cpu.Int8Tops.Value);
        Assert.Equal(0.033, cpu.MemBwTbS.Value);
        Assert.Contains("measured with quanta bench on this machine", cpu.Int8Tops.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelsCiteTheirConfigAndLookupsWork()
    {
        var cat = ModelCatalog.BuiltIn();
        foreach (string id in new[] { "llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "llama-2-70b", "mistral-7b",
            "mixtral-8x7b", "qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-3b", "qwen2.5-7b", "qwen2.5-14b", "qwen2.5-32b", "qwen2.5-72b", "gpt-j-6b",
            "resnet-50", "retinanet", "dlrm-v2" })
        {
            var m = cat.Find(id);
            Assert.True(m != null, $"model {id} missing");
            Assert.False(string.IsNullOrWhiteSpace(m!.Source));
            if (m.IsLlm) Assert.StartsWith("Hugging Face ", m.Source, StringComparison.Ordinal);
        }
        Assert.Equal("llama-3.1-70b", cat.Find("Llama-3.3-70B")!.Id);
        Assert.Equal(8, cat.Find("Mixtral-8x7B")!.Experts);
    }

    [Fact]
    public void UserDeviceFileAddsADeviceAndRejectsAFigureWithoutSource()
    {
        string dir = Directory.CreateTempSubdirectory("quanta-planner-").FullName;
        try
        {
            var h100 = DeviceCatalog.BuiltIn().Get("h100-sxm");
            var mine = h100 with { Id = "my-gpu", Name = "My GPU", Aliases = ["mine"] };
            string ok = Path.Combine(dir, "ok.json");
            File.WriteAllText(ok, System.Text.Json.JsonSerializer.Serialize(new { devices = new[] { mine } },
                new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower }));
            Assert.Equal("my-gpu", DeviceCatalog.Load([ok]).Get("mine").Id);
            string bad = Path.Combine(dir, "bad.json");
            var noSource = mine with { TdpW = mine.TdpW with { Source = "" } };
            File.WriteAllText(bad, System.Text.Json.JsonSerializer.Serialize(new { devices = new[] { noSource } },
                new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower }));
            var e = Assert.Throws<InvalidDataException>(() => DeviceCatalog.Load([bad]));
            Assert.Contains("has no source", e.Message, StringComparison.Ordinal);
        }
        finally { Directory.Delete(dir, true); }
    }
}
