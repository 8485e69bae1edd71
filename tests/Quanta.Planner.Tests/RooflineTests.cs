using Quanta.Planner.Catalogs;
using Quanta.Planner.Performance;

namespace Quanta.Planner.Tests;

/// <summary>Roofline step costs against hand-computed examples (all efficiencies 1, no overhead).</summary>
public class RooflineTests
{
    private static readonly EfficiencyParameters Ideal = new(1, 1, 1, 0, 1, 1);
    private static readonly ModelSpec Llama8B = ModelCatalog.BuiltIn().Find("llama-3.1-8b")!;
    private static readonly DeviceSpec H100 = DeviceCatalog.BuiltIn().Get("h100-sxm");

    // Matmul params per token: 32 x (41,943,040 + 176,160,768) + lm head 128256 x 4096 = 7,504,658,432.
    private const double MatmulParams = 7_504_658_432;

    [Fact]
    public void SingleTokenDecodeIsBandwidthBound()
    {
        var r = new RooflineModel(Llama8B, H100, Precision.Fp8, Precision.Fp8, 1, Ideal);
        Assert.Equal(MatmulParams, Llama8B.MatmulParamsPerToken);
        var s = r.Step(1, 1000, 1000, prefill: false);
        double bytes = Llama8B.TotalParams * 1 + (1000 + 1) * 65536.0 + 4096 * 2.0 * 32 * 6;
        Assert.Equal(bytes, s.Bytes, 0);
        Assert.False(s.ComputeBound);
        Assert.Equal(bytes / 3.35e12, s.Seconds, 12);
    }

    [Fact]
    public void LargePrefillIsComputeBound()
    {
        var r = new RooflineModel(Llama8B, H100, Precision.Fp8, Precision.Fp8, 1, Ideal);
        double pairs = 8192.0 * 8193 / 2;
        var s = r.Step(8192, 0, pairs, prefill: true);
        double ops = 2 * MatmulParams * 8192 + 4 * pairs * 32 * 128 * 32;
        Assert.Equal(ops, s.Ops, 0);
        Assert.True(s.ComputeBound);
        Assert.Equal(ops / 1978.9e12, s.Seconds, 12);
    }

    [Fact]
    public void TensorParallelAddsRingAllReduces()
    {
        var r = new RooflineModel(Llama8B, H100, Precision.Bf16, Precision.Bf16, 2, Ideal);
        var s = r.Step(1, 0, 0, prefill: false);
        // 2 all-reduces per layer of 1 x 4096 x 2 B; ring: 2(n-1)/n x bytes / (900/2 GB/s) + 10 us.
        double one = 2.0 * 1 / 2 * 8192 / 450e9 + 10e-6;
        Assert.Equal(2 * 32 * one, s.CommSeconds, 12);
        Assert.Equal(Llama8B.TotalParams * 2 / 2 + 131072.0 / 2 + 4096 * 2.0 * 32 * 6, s.Bytes, 0);
    }

    [Fact]
    public void MixtureOfExpertsReadsOnlyRoutedExperts()
    {
        var m = ModelCatalog.BuiltIn().Find("mixtral-8x7b")!;
        var r = new RooflineModel(m, H100, Precision.Fp8, Precision.Fp8, 1, Ideal);
        double expertTotal = 32 * 8 * 3.0 * 4096 * 14336;
        Assert.Equal(expertTotal, m.ExpertParamsTotal);
        // One token routes to 2 of 8 experts per layer: a quarter of the expert weights.
        Assert.Equal(m.SharedParams + expertTotal * 0.25, r.WeightBytesTouched(1), 0);
        // Many tokens touch all experts.
        Assert.Equal(m.TotalParams, r.WeightBytesTouched(1000), 0);
    }

    [Fact]
    public void VisionSamplesPerSecondFromFlops()
    {
        var m = ModelCatalog.BuiltIn().Find("resnet-50")!;
        var e = new EfficiencyParameters(1, 1, 1, 0, 0.5, 1);
        // Compute-bound: 1978.9 TOPS x 0.5 / 8.2 GOPs.
        Assert.Equal(1978.9e12 * 0.5 / 8.2e9, ServingModel.SamplesPerSecond(m, H100, Precision.Int8, e), 6);
    }
}
