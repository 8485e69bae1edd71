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
        double matmul = 2 * MatmulParams * 8192, attention = 4 * pairs * 32 * 128 * 32;
        Assert.Equal(matmul + attention, s.Ops, 0);
        Assert.True(s.ComputeBound);
        // Per operator: matrix products and attention (FP8, FP8 cache) are compute-bound; the norms/residuals move
        // 8192 x 4096 x 2 B x 32 layers x 6 vectors through memory on their own.
        double act = 8192 * 4096 * 2.0 * 32 * 6;
        Assert.Equal(matmul / 1978.9e12 + attention / 1978.9e12 + act / 3.35e12, s.Seconds, 12);
    }

    [Fact]
    public void OperatorTimesAddWhenMatmulIsComputeBoundAndAttentionMemoryBound()
    {
        // Batch-512 decode at a 2,000-token context: the matrix products are compute-bound, attention reads
        // 512 x 2000 x 64 KiB of FP8 cache and is memory-bound. A single roofline over the whole step would hide the
        // attention time under the matrix-product time; operators run one after another, so the times add.
        var r = new RooflineModel(Llama8B, H100, Precision.Fp8, Precision.Fp8, 1, Ideal);
        var s = r.Step(512, 512 * 2000.0, 512 * 2000.0, prefill: false);
        double weights = Llama8B.TotalParams, kv = (512 * 2000.0 + 512) * 65536, act = 512 * 4096 * 2.0 * 32 * 6;
        double matmul = 2 * MatmulParams * 512, attention = 4 * 512 * 2000.0 * 32 * 128 * 32;
        Assert.True(matmul / 1978.9e12 > weights / 3.35e12, "matrix products compute-bound");
        Assert.True(kv / 3.35e12 > attention / 1978.9e12, "attention memory-bound");
        double expected = matmul / 1978.9e12 + kv / 3.35e12 + act / 3.35e12;
        Assert.Equal(expected, s.Seconds, 12);
        Assert.True(s.Seconds > Math.Max((weights + kv + act) / 3.35e12, (matmul + attention) / 1978.9e12));
    }

    [Fact]
    public void AttentionRunsAtTheCachePrecisionNotAtFourBitWeights()
    {
        // B200: FP4 9000 TFLOPS, FP8 4500, FP16 2250. With FP4 weights and an FP8 cache the attention math runs on the
        // FP8 units; with an FP16 cache on the FP16 units.
        var b200 = DeviceCatalog.BuiltIn().Get("B200");
        Assert.Equal(4500e12, new RooflineModel(Llama8B, b200, Precision.Fp4, Precision.Fp8, 1, Ideal).AttentionPeak);
        Assert.Equal(2250e12, new RooflineModel(Llama8B, b200, Precision.Fp4, Precision.Fp16, 1, Ideal).AttentionPeak);
        Assert.Equal(9000e12, new RooflineModel(Llama8B, b200, Precision.Fp4, Precision.Fp8, 1, Ideal).Peak);
        // A100 has no FP8 unit: FP8 attention falls back to its FP16 rate (312 TFLOPS).
        var a100 = DeviceCatalog.BuiltIn().Get("A100 80GB");
        Assert.Equal(312e12, new RooflineModel(Llama8B, a100, Precision.Int8, Precision.Fp8, 1, Ideal).AttentionPeak);
    }

    [Fact]
    public void OverheadsAddPerStepAndPerLayer()
    {
        // 1 ms per step plus 20 us per layer: Llama 3.1 8B has 32 layers, so any step costs 1.64 ms more than with none.
        var withOverhead = new EfficiencyParameters(1, 1, 1, 1e-3, 1, 1) { LayerOverheadS = 20e-6 };
        double bare = new RooflineModel(Llama8B, H100, Precision.Fp8, Precision.Fp8, 1, Ideal).Step(4, 400, 400, false).Seconds;
        double more = new RooflineModel(Llama8B, H100, Precision.Fp8, Precision.Fp8, 1, withOverhead).Step(4, 400, 400, false).Seconds;
        Assert.Equal(1e-3 + 32 * 20e-6, more - bare, 12);
    }

    [Fact]
    public void MoeEfficiencyScalesOnlyTheMatrixProducts()
    {
        var m = ModelCatalog.BuiltIn().Find("mixtral-8x7b")!;
        var half = new EfficiencyParameters(1, 1, 1, 0, 1, 1) { EffComputeMoe = 0.5 };
        var full = new RooflineModel(m, H100, Precision.Fp8, Precision.Fp8, 1, Ideal).Step(8192, 0, 0, prefill: true);
        var slow = new RooflineModel(m, H100, Precision.Fp8, Precision.Fp8, 1, half).Step(8192, 0, 0, prefill: true);
        double matmulS = 2 * m.MatmulParamsPerToken * 8192 / 1978.9e12;
        // Compute-bound 8192-token step: halving the matrix-product rate adds exactly one more matmul time.
        Assert.Equal(full.Seconds + matmulS, slow.Seconds, 9);
        // A dense model ignores it.
        Assert.Equal(new RooflineModel(Llama8B, H100, Precision.Fp8, Precision.Fp8, 1, Ideal).Step(64, 0, 0, true).Seconds,
            new RooflineModel(Llama8B, H100, Precision.Fp8, Precision.Fp8, 1, half).Step(64, 0, 0, true).Seconds, 15);
    }

    [Fact]
    public void FullSequenceReservationFitsFewerSequences()
    {
        // KV tokens K fit beside the weights; a scheduler holding the mean context fits K / (I + O/2) sequences, one
        // reserving the whole sequence K / (I + O).
        var r = new RooflineModel(Llama8B, H100, Precision.Fp8, Precision.Fp8, 1, Ideal);
        double k = MemoryFit.KvTokens(Llama8B, H100, Precision.Fp8, Precision.Fp8, 1);
        Assert.Equal(Math.Floor(k / (1000 + 500)), ServingModel.MemoryBatch(r, 1000, 1000, 1));
        Assert.Equal(Math.Floor(k / 2000), ServingModel.MemoryBatch(r, 1000, 1000, 1, reserveFullSequence: true));
        Assert.Equal(Math.Floor(k / 2000), ServingModel.Throughput(r, 1000, 1000, reserveFullSequence: true).Batch);
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
