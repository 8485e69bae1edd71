using Quanta.Planner.Catalogs;
using Quanta.Planner.Performance;

namespace Quanta.Planner.Tests;

/// <summary>Memory-fit arithmetic against hand-computed values.</summary>
public class MemoryFitTests
{
    private static readonly ModelCatalog Models = ModelCatalog.BuiltIn();
    private static readonly DeviceCatalog Devices = DeviceCatalog.BuiltIn();

    [Fact]
    public void Llama31_8B_WeightsAndKvPerToken()
    {
        var m = Models.Find("Llama-3.1-8B")!;
        // embeddings 2 x 128256 x 4096 = 1,050,673,152; per layer q,o 2 x 4096^2 + k,v 2 x 4096 x 1024 = 41,943,040,
        // MLP 3 x 4096 x 14336 = 176,160,768, norms 2 x 4096 -> 218,112,000 x 32 = 6,979,584,000; final norm 4096.
        double expected = 1_050_673_152 + 6_979_584_000 + 4096;
        Assert.Equal(expected, m.TotalParams);
        Assert.InRange(m.WeightBytes(Precision.Bf16), 16.055e9, 16.065e9); // ~16.06 GB
        Assert.Equal(2.0 * 32 * 8 * 128 * 2, m.KvBytesPerToken(Precision.Bf16));
        Assert.Equal(131072, m.KvBytesPerToken(Precision.Fp16));
        Assert.Equal(65536, m.KvBytesPerToken(Precision.Fp8));
        Assert.Equal(expected * (0.5 + 2.0 / 128), m.WeightBytes(Precision.Int4));
    }

    [Fact]
    public void Llama31_8B_OnH100_MaxTokens()
    {
        var m = Models.Find("Llama-3.1-8B")!;
        var d = Devices.Get("H100 SXM");
        var f = MemoryFit.Compute(m, d, Precision.Bf16, Precision.Bf16, 8192);
        double usable = 80e9 * 0.95 - 1.5e9;
        double act = 8192 * (4.0 * 4096 + 2.0 * 14336) * 2;
        double tokens = (usable - m.WeightBytes(Precision.Bf16) - act) / 131072;
        Assert.Equal(1, f.DevicesNeeded);
        Assert.Equal(tokens, f.MaxKvTokens, 3);
        Assert.Equal((long)Math.Floor(tokens / 8192), f.MaxBatchAtContext);
        Assert.Equal("mainstream", f.Tier);
    }

    [Fact]
    public void Llama70B_Bf16_NeedsTwoH100()
    {
        var m = Models.Find("Llama-3.1-70B")!;
        // 70.55e9 parameters x 2 B = 141.1 GB: one 80 GB device cannot hold it, two can with ~18k tokens of KV cache.
        Assert.InRange(m.WeightBytes(Precision.Bf16), 141.0e9, 141.2e9);
        var f = MemoryFit.Compute(m, Devices.Get("H100 SXM"), Precision.Bf16, Precision.Bf16, 4096);
        Assert.Equal(2, f.DevicesNeeded);
        double perDevice = 80e9 * 0.95 - 1.5e9 - m.WeightBytes(Precision.Bf16) / 2 - 8192 * (4.0 * 8192 + 28672) * 2;
        Assert.Equal(perDevice * 2 / (2.0 * 80 * 8 * 128 * 2), f.MaxKvTokens, 3);
        Assert.Equal(1, MemoryFit.Compute(m, Devices.Get("B200"), Precision.Fp8, Precision.Fp8, 4096).DevicesNeeded);
    }

    [Theory]
    [InlineData("T4", "edge")]
    [InlineData("L4", "entry datacenter")]
    [InlineData("Inferentia2", "entry datacenter")]
    [InlineData("A100 40GB", "mainstream")]
    [InlineData("H100 SXM", "mainstream")]
    [InlineData("H200", "large")]
    public void Tiers(string device, string tier) => Assert.Equal(tier, Devices.Get(device).Tier);
}
