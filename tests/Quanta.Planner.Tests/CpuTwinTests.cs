using Quanta.Bench;
using Quanta.Cli;
using Quanta.Models.Conversion;
using Quanta.Planner.Catalogs;
using Quanta.Planner.Performance;

namespace Quanta.Planner.Tests;

/// <summary>The CPU twin's workload costing against hand-computed schedules, and one end-to-end run on a tiny model.</summary>
public class CpuTwinTests
{
    // A small llama: 2 layers, width 64, FFN 128, 4 heads of 16, 2 KV heads, vocab 300, separate output head.
    private static readonly ModelSpec Tiny = new("tiny", "tiny", "llm", [], "test", Layers: 2, Hidden: 64, Intermediate: 128, Heads: 4,
        KvHeads: 2, HeadDim: 16, Vocab: 300);

    private static readonly EfficiencyParameters Ideal = new(1, 1, 1, 0, 1, 1);

    // Tiny's matrix parameters: attention (Q, O 64x64; K, V 64x32) + MLP (3 x 64x128) per layer, 2 layers; head 300x64.
    private const double BodyParams = 2 * (64.0 * 4 * 16 * 2 + 2.0 * 64 * 2 * 16 + 3.0 * 64 * 128);
    private const double HeadParams = 300.0 * 64;

    [Fact]
    public void ServeWaveRunsTheEnginesSchedulerWithItsOptions()
    {
        // Step time a + b x tokens. 4 requests of 128 prompt and 4 output tokens, budget 256 tokens, up to 16 running:
        // step 1: prefill s0, s1 (128 each, 256 tokens)                  -> s0, s1 first token at t1 = a + 256 b
        // step 2: decode s0, s1; admit s2 (128), s3 (126): 256 tokens    -> s2 first token at t1 + t2, t2 = a + 256 b
        // step 3: decode s0, s1, s2; s3's last 2 prompt tokens: 5 tokens -> s3 first token at t1 + t2 + t3, t3 = a + 5 b
        // step 4: decodes of all 4 (s0, s1 end: 4 tokens each); step 5: s2, s3 (s2 ends); step 6: s3 ends.
        const double a = 1e-3, b = 1e-5;
        double t1 = a + 256 * b, t2 = a + 256 * b, t3 = a + 5 * b, t4 = a + 4 * b, t5 = a + 2 * b, t6 = a + b;
        var w = CpuTwin.ServeWave(new Quanta.Planner.Simulation.AffineStepTime(a, b), streams: 4, prompt: 128, output: 4, maxBatchTokens: 256, maxRunning: 16);
        Assert.Equal(6, w.Steps);
        double first01 = t1, first2 = t1 + t2, first3 = t1 + t2 + t3;
        Assert.Equal((2 * first01 + first2 + first3) / 4, w.TtftSeconds, 12);
        // TPOT: s0, s1 get tokens 2..4 at the ends of steps 2, 3, 4; s2 at 3, 4, 5; s3 at 4, 5, 6.
        double tpot = (2 * (t2 + t3 + t4) + (t3 + t4 + t5) + (t4 + t5 + t6)) / 3 / 4;
        Assert.Equal(tpot, w.TpotSeconds, 12);
        // A running limit of 2 admits s2 and s3 (256 tokens together) only after s0 and s1 end at step 4.
        var limited = CpuTwin.ServeWave(new Quanta.Planner.Simulation.AffineStepTime(1e-3), 4, 128, 4, 256, maxRunning: 2);
        Assert.Equal((1 + 1 + 5 + 5) / 4.0 * 1e-3, limited.TtftSeconds, 9);
    }

    [Fact]
    public void ServeWaveStartsWithTheRequestsThatHaveArrived()
    {
        // Steps of 1 ms. s0 arrives at 0, s1..s3 at 0.5 ms (submitted while step 1 runs):
        // step 1 (0..1 ms): s0's 128 prompt tokens alone                 -> s0 first token at 1 ms
        // step 2 (1..2 ms): decode s0; admit s1 (128), s2 (127)           -> s1 first token at 2 ms
        // step 3 (2..3 ms): decode s0, s1; s2's last token; admit s3 (128) -> s2, s3 first tokens at 3 ms
        // TTFT from the wave's start: (1 + 2 + 3 + 3) / 4 ms.
        var w = CpuTwin.ServeWave(new Quanta.Planner.Simulation.AffineStepTime(1e-3), 4, 128, 4, 256, 16, [0, 5e-4, 5e-4, 5e-4]);
        Assert.Equal((1 + 2 + 3 + 3) / 4.0 * 1e-3, w.TtftSeconds, 9);
        Assert.Equal(1e-3, w.TpotSeconds, 9);
        Assert.Throws<ArgumentException>(() => CpuTwin.ServeWave(new Quanta.Planner.Simulation.AffineStepTime(1e-3), 4, 128, 4, 256, 16, [0, 1]));
        Assert.Throws<ArgumentException>(() => new Quanta.Planner.Simulation.ArrivalProcess.Trace([1, 0]));
    }

    [Fact]
    public void SixteenPromptsArePrefilledInBudgetSizedGemmsNotOneByOne()
    {
        // 16 prompts of 128 tokens under a 256-token budget: 8 steps of 2 prompts (the 1st alone 256 tokens; later ones
        // also carry decodes, so they admit a little less). Step cost from CpuStepModel on a compute-bound machine whose
        // GEMM runs at 1 GOP/s at m = 1 and 10 GOP/s from m = 256: a 256-token step costs about what 25.6 single-token
        // steps do, so the wave's TTFT is far below 16 serial 128-token prefills at the m = 1 rate.
        var m = new CpuMeasurements(1e30, 1e9, 1e30, 1) { GemmRates = [new(1, 1e9), new(256, 1e10)], AttentionOpsPerSecond = 1e30 };
        var model = CpuTwin.StepModel(Tiny, 1e6, Precision.Fp16, m, Ideal);
        var w = CpuTwin.ServeWave(model, 16, 128, 2, 256, 16);
        double step256 = 2 * BodyParams * 256 / 1e10 + 2 * HeadParams * 2 / m.MatmulRateAt(2);
        Assert.InRange(w.TtftSeconds, 4.5 * step256 * 0.9, 8.5 * step256 * 1.1);
        double serialAtM1 = 16 * 2 * BodyParams * 128 / 1e9;
        Assert.True(w.TtftSeconds < serialAtM1 / 4, $"TTFT {w.TtftSeconds} s vs serial {serialAtM1} s");
    }

    [Fact]
    public void GemmRateIsInterpolatedInLogM()
    {
        var m = new CpuMeasurements(1, 7e9, 1, 1) { GemmRates = [new(1, 1e9), new(16, 5e9), new(256, 9e9)] };
        Assert.Equal(1e9, m.MatmulRateAt(1), 3);
        Assert.Equal(1e9, m.MatmulRateAt(0.5), 3);
        Assert.Equal(3e9, m.MatmulRateAt(4), 3);       // log 4 / log 16 = 1/2 of the way
        Assert.Equal(7e9, m.MatmulRateAt(64), 3);      // log 4 / log 16 of the way from 16 to 256
        Assert.Equal(9e9, m.MatmulRateAt(4096), 3);
        Assert.Equal(7e9, new CpuMeasurements(1, 7e9, 1, 1).MatmulRateAt(100), 3);   // no GEMM points: the dot rate
        Assert.Throws<ArgumentException>(() => new CpuMeasurements(1, 1, 1, 1) { GemmRates = [new(16, 1), new(1, 1)] }.Validate());
    }

    [Fact]
    public void BatchedDecodeIsOneGemmAtMEqualsSequences()
    {
        // Compute-bound machine (memory infinitely fast): GEMM 1 GOP/s at m = 1, 4 GOP/s at m = 16; attention 1 GFLOP/s.
        // A decode step of 16 sequences with 100 cached positions each, all sampled:
        var m = new CpuMeasurements(1e30, 1e9, 1e9, 1) { GemmRates = [new(1, 1e9), new(16, 4e9)], AttentionOpsPerSecond = 1e9 };
        var eff = Ideal with { StepOverheadS = 1e-4, LayerOverheadS = 1e-5, HostElementS = 1e-9, SampleRowS = 2e-6 };
        var model = CpuTwin.StepModel(Tiny, 1e6, Precision.Fp16, m, eff);
        double pairs = 16 * 101.0;
        double expected = 2 * BodyParams * 16 / 4e9          // layers' products at m = 16
            + 2 * HeadParams * 16 / 4e9                         // head: 16 logits rows
            + 4 * pairs * 4 * 16 * 2 / 1e9                      // attention: heads 4 x head dim 16 x 2 layers
            + 16 * 2 * (6 * 64 + 1 * 128) * 1e-9               // host-thread elements: 2 layers x (6 hidden + 1 FFN)
            + 16 * 2e-6                                         // sampling and hand-off of 16 rows
            + 1e-4 + 2 * 1e-5;                                  // step + per-layer overhead
        var cost = model.Cost(16, 16, 16, 16 * 100, pairs);
        Assert.Equal(expected, cost.Seconds, 12);
        // the same through the simulator's step shape (16 decodes: logits rows = sampled rows = 16)
        Assert.Equal(expected, model.Seconds(new Quanta.Planner.Simulation.StepShape(16, 0, 16, 1600, pairs) { LogitsRows = 16 }), 12);
        // 16 single decodes cost more: their products run at the m = 1 rate and pay the fixed costs 16 times
        double single = model.Cost(1, 1, 1, 100, 101).Seconds;
        Assert.True(16 * single > 3 * cost.Seconds, $"16 x {single} vs {cost.Seconds}");
    }

    [Fact]
    public void DecodeReadsWeightsAndTheGrowingCache()
    {
        // Memory-bound machine (compute infinitely fast): token k reads the weights and k cached positions plus its own
        // (2 layers x 2 KV heads x 16 x 2 (K, V) x 2 bytes = 256 B each).
        var m = new CpuMeasurements(1e9, 1e30, 1e30, 1);
        var r = CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, m, Ideal);
        double expected = 0;
        for (int k = 0; k < 16; k++) expected += (2e6 + (k + 1) * 256.0) / 1e9;
        Assert.Equal(expected, CpuTwin.DecodeSeconds(r, 16), 12);
        Assert.Equal(16 / expected, CpuTwin.DecodeTokensPerSecond(r, 16), 6);
    }

    [Fact]
    public void PrefillComputesTheHeadOnlyForEachChunksLastToken()
    {
        // Compute-bound machine (memory infinitely fast): GEMM 2 GOP/s at m = 32 (and 1 GOP/s at m = 1, the head's m),
        // attention 1 GFLOP/s; a 64-token prompt in chunks of 32.
        var m = new CpuMeasurements(1e30, 1e9, 1e9, 1) { GemmRates = [new(1, 1e9), new(32, 2e9)], AttentionOpsPerSecond = 1e9 };
        var r = CpuTwin.StepModel(Tiny, 1e6, Precision.Fp16, m, Ideal);
        double s = 0;
        foreach (int start in new[] { 0, 32 })
        {
            double pairs = 32.0 * start + 32.0 * 33 / 2;
            s += 2 * BodyParams * 32 / 2e9 + 2 * HeadParams * 1 / 1e9 + 4 * pairs * 4 * 16 * 2 / 1e9;
        }
        Assert.Equal(s, CpuTwin.PrefillSeconds(r, 64, 32), 12);
        Assert.Equal(64 / s, CpuTwin.PrefillTokensPerSecond(r, 64, 32), 6);
    }

    [Fact]
    public void FitRecoversTheParametersThatMadeTheMeasurements()
    {
        // "Measurements" made by the step model under known parameters on two machines' figures; the fit, started
        // elsewhere, must explain every one of them (to 1%).
        var truth = Ideal with { EffBandwidth = 0.6, EffComputePrefill = 0.8, EffComputeDecode = 0.8, LayerOverheadS = 2e-5, HostElementS = 3e-9 };
        var machine = new CpuMeasurements(2e9, 1e9, 1e9, 2) { GemmRates = [new(1, 2e9), new(16, 6e9), new(256, 1e10)], AttentionOpsPerSecond = 5e8 };
        var workload = new CpuTwinWorkload(64, 16, 64, 32, 8, 64, 8);
        string[] quantities = ["pp64", "tg16", "ttft@2", "tpot@2", "ttft@8", "tpot@8"];
        var model = CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, machine, truth);
        var measured = quantities.Select(q => new KeyValuePair<string, double>(q, workload.Predict(model, q))).ToList();
        var run = new CpuTwinObservation("tiny", Tiny, 2e6, Precision.Fp16, machine, workload, measured);
        var start = Ideal with { EffBandwidth = 0.9, EffComputePrefill = 0.5, LayerOverheadS = 1e-4, HostElementS = 1e-8, SampleRowS = 1e-6 };
        Assert.True(CpuTwinFit.Objective([run], start) > 0.01);
        var fitted = CpuTwinFit.Fit([run], start);
        foreach (var (q, p, meas) in run.Predict(fitted))
            Assert.True(Math.Abs(p / meas - 1) < 0.01, $"{q}: predicted {p}, measured {meas}; fitted {fitted.ToJson()}");
        Assert.Equal(quantities.Select(q => "tiny:" + q), fitted.RowsUsed);
        Assert.Throws<ArgumentException>(() => workload.Predict(model, "bogus@4"));
    }

    [Fact]
    [Trait("Category", "Kernels")]
    public void ProbesMeasurePositiveRates()
    {
        var rates = CpuProbe.GemmRates(new Dictionary<Quanta.Core.Formats.WeightFormat, double> { [Quanta.Core.Formats.WeightFormat.Q4_0] = 1e6 }, 64, [1, 8], 1, 0.02);
        Assert.Equal([1, 8], rates.Select(r => r.M).ToArray());
        Assert.All(rates, r => Assert.True(r.OpsPerSecond > 1e6 && double.IsFinite(r.OpsPerSecond), $"m = {r.M}: {r.OpsPerSecond}"));
        var twoWidths = CpuProbe.GemmRates(new Dictionary<Quanta.Core.Formats.WeightFormat, double> { [Quanta.Core.Formats.WeightFormat.Q4_0] = 1e6 }, [(64, 2.0), (128, 1.0)], [1, 8], 1, 0.02);
        Assert.All(twoWidths, r => Assert.True(r.OpsPerSecond > 1e6 && double.IsFinite(r.OpsPerSecond), $"two widths, m = {r.M}: {r.OpsPerSecond}"));
        Assert.Throws<ArgumentException>(() => CpuProbe.GemmRates(new Dictionary<Quanta.Core.Formats.WeightFormat, double> { [Quanta.Core.Formats.WeightFormat.Q4_0] = 1e6 }, [(64, 0.0)], [1], 1, 0.02));
        double attention = CpuProbe.AttentionRate(4, 2, 16, 64, 1, 0.02);
        Assert.True(attention > 1e6 && double.IsFinite(attention), $"attention {attention}");
        double blocks = CpuProbe.AttentionRate(4, 2, 16, 64, 1, 0.02, rows: 4);
        Assert.True(blocks > 1e6 && double.IsFinite(blocks), $"attention on 4-row blocks {blocks}");
        Assert.Throws<ArgumentException>(() => CpuProbe.AttentionRate(4, 2, 16, 8, 1, 0.02, rows: 9));
        foreach (int rows in new[] { 1, 4 })
        {
            double paged = CpuProbe.AttentionRate(4, 2, 16, 70, 1, 0.02, rows, paged: true);   // 70 positions: 5 blocks, the last partly used
            Assert.True(paged > 1e6 && double.IsFinite(paged), $"paged attention, {rows} rows: {paged}");
            // a working set of 3 sequences in 2 layers, paged and contiguous
            foreach (bool p in new[] { true, false })
            {
                double wide = CpuProbe.AttentionRate(4, 2, 16, 40, 2, 0.02, rows, p, sequences: 3, layers: 2);
                Assert.True(wide > 1e6 && double.IsFinite(wide), $"3 sequences x 2 layers, paged {p}, {rows} rows: {wide}");
                // decode calls tell the cache their next call by default, as the engine's attention parts do; without hints too
                double unhinted = CpuProbe.AttentionRate(4, 2, 16, 40, 2, 0.02, rows, p, sequences: 3, layers: 2, nextHint: false);
                Assert.True(unhinted > 1e6 && double.IsFinite(unhinted), $"no hints, paged {p}, {rows} rows: {unhinted}");
            }
        }
        Assert.Throws<ArgumentException>(() => CpuProbe.AttentionRate(4, 2, 16, 40, 1, 0.02, sequences: 0));
        Assert.Throws<ArgumentException>(() => CpuProbe.AttentionRate(4, 2, 16, 40, 1, 0.02, layers: 0));
        var streamed = CpuProbe.GemmRates(Quanta.Core.Kernels.KernelRegistry.VecDot(Quanta.Core.Formats.WeightFormat.Q4_0), 64, [1, 4], 1, 0.02, weightBytes: 4L << 20);
        Assert.All(streamed, r => Assert.True(r.OpsPerSecond > 1e6 && double.IsFinite(r.OpsPerSecond), $"4 MiB of weights, m = {r.M}: {r.OpsPerSecond}"));
        Assert.Throws<ArgumentException>(() => CpuProbe.GemmRates(Quanta.Core.Kernels.KernelRegistry.VecDot(Quanta.Core.Formats.WeightFormat.Q4_0), 64, [8, 1], 1, 0.02));
        Assert.Throws<ArgumentException>(() => CpuProbe.AttentionRate(3, 2, 16, 64, 1, 0.02));
    }

    [Fact]
    [Trait("Category", "Kernels")]
    public void ModelProbeRunsTheFilesOwnMatricesAtEachM()
    {
        string dir = Directory.CreateTempSubdirectory("quanta-gemm-probe-").FullName;
        try
        {
            string path = Path.Combine(dir, "tiny-q4_0.gguf");
            Assert.True(GgufQuantType.TryParse("Q4_0", out var q4));
            ModelGenerator.Generate(new ModelShape("tiny", 2, 64, 128, 4, 2, 300, false, 10000f, 256), q4, path);
            var rates = ModelGemmProbe.Measure(path, [1, 4, 32], 1, 0.02, headMaxM: 4);
            Assert.Equal([1, 4, 32], rates.Layers.Select(r => r.M).ToArray());
            Assert.Equal([1, 4], rates.Head.Select(r => r.M).ToArray());   // the head only up to its limit
            Assert.All(rates.Layers.Concat(rates.Head), r => Assert.True(r.OpsPerSecond > 1e6 && double.IsFinite(r.OpsPerSecond), $"m = {r.M}: {r.OpsPerSecond}"));
            Assert.Empty(ModelGemmProbe.Measure(path, [1], 1, 0.01, headMaxM: 0).Head);
            // hot: the kernels' own rates (each group's second run timed), at every m and for the head
            var hot = ModelGemmProbe.Measure(path, [1, 4, 32], 1, 0.02, headMaxM: 4, hot: true);
            Assert.Equal([1, 4, 32], hot.Layers.Select(r => r.M).ToArray());
            Assert.Equal([1, 4], hot.Head.Select(r => r.M).ToArray());
            Assert.All(hot.Layers.Concat(hot.Head), r => Assert.True(r.OpsPerSecond > 1e6 && double.IsFinite(r.OpsPerSecond), $"hot m = {r.M}: {r.OpsPerSecond}"));
            // a group over the hot budget runs on the same fraction of each matrix's first rows (multiples of 16)
            using (var file = Quanta.Core.ModelFiles.Gguf.GgufFile.Open(path))
            {
                var gate = Quanta.Models.Weights.GgufTensorLoader.Matrix(file, "blk.0.ffn_gate.weight", 128, 64);
                var up = Quanta.Models.Weights.GgufTensorLoader.Matrix(file, "blk.0.ffn_up.weight", 128, 64);
                Assert.Same(gate, ModelGemmProbe.HotPart([gate, up], gate.ByteCount + up.ByteCount)[0]);
                var part = ModelGemmProbe.HotPart([gate, up], budget: 4096);   // 2 x 128 rows of 36 bytes: 44% fits -> 48 rows each
                Assert.Equal([48, 48], part.Select(m => m.Rows).ToArray());
                Assert.All(part, m => Assert.Equal(64, m.Cols));
                Assert.True(part.Sum(m => m.ByteCount) <= 4096);
                Assert.True(part[1].Row(47).SequenceEqual(up.Row(47)));
                Assert.Equal(16, ModelGemmProbe.HotPart([gate], budget: 1)[0].Rows);
            }
            Assert.Throws<ArgumentException>(() => ModelGemmProbe.Measure(path, [4, 1], 1, 0.01));
            Assert.Throws<ArgumentException>(() => ModelGemmProbe.Measure(path, [1], 0, 0.01));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void RatesOnStreamedWeightsAreNotBoundAgainByBandwidth()
    {
        // 1 GB/s, 2 MB of weights (1.5 MB of them the head): on cache-resident rates a decode reads them at 1 GB/s;
        // on rates measured streaming the model's own weights, the rates' time holds that traffic already.
        var cached = new CpuMeasurements(1e9, 1e12, 1e30, 1) { GemmRates = [new(1, 1e12)], HeadGemmRates = [new(1, 1e12)], AttentionOpsPerSecond = 1e30 };
        var c = CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, cached, Ideal, headBytes: 1.5e6).Cost(1, 1, 0, 0, 1);
        Assert.Equal(0.5e6 / 1e9, c.MatmulSeconds, 15);
        Assert.Equal(1.5e6 / 1e9, c.HeadSeconds, 15);
        var streamed = cached with { GemmRatesStreamWeights = true };
        var s = CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, streamed, Ideal, headBytes: 1.5e6).Cost(1, 1, 0, 0, 1);
        Assert.Equal(2 * BodyParams / 1e12, s.MatmulSeconds, 15);
        Assert.Equal(2 * HeadParams / 1e12, s.HeadSeconds, 15);
    }

    [Fact]
    public void DecodeIsARooflineOfBytesOverBandwidthAndTheKernelsOwnRate()
    {
        // Kernel rates set so the layers' products take 1 ms and the head's 1 ms at m = 1; 0.5 MB of layer weights and
        // 1.5 MB of head. Fast memory (10 GB/s): the kernels bind, and more bandwidth changes nothing. Slow memory
        // (100 MB/s): bytes / (bandwidth x eff_bandwidth) binds.
        var machine = new CpuMeasurements(1e10, 1e12, 1e30, 2)
        {
            GemmRates = [new(1, 2 * BodyParams / 1e-3)], HeadGemmRates = [new(1, 2 * HeadParams / 1e-3)], AttentionOpsPerSecond = 1e30,
        };
        var eff = Ideal with { EffBandwidth = 0.5 };
        CpuStepCost Decode(double bw) => CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, machine with { ReadBytesPerSecond = bw }, eff, headBytes: 1.5e6).Cost(1, 1, 0, 0, 1);
        var fast = Decode(1e10);
        Assert.Equal(1e-3, fast.MatmulSeconds, 12);
        Assert.Equal(1e-3, fast.HeadSeconds, 12);
        Assert.False(fast.ProductsMemoryBound);
        Assert.Equal(fast.MatmulSeconds + fast.HeadSeconds, Decode(4e10).MatmulSeconds + Decode(4e10).HeadSeconds, 12);   // (only the KV cache's bytes still move)
        var slow = Decode(1e8);
        Assert.Equal(0.5e6 / (1e8 * 0.5), slow.MatmulSeconds, 12);
        Assert.Equal(1.5e6 / (1e8 * 0.5), slow.HeadSeconds, 12);
        Assert.True(slow.ProductsMemoryBound);
        // in between, each product takes its own limit
        var mid = Decode(4e8);   // layers 0.5 MB / 200 MB/s = 2.5 ms > 1 ms; head 1.5 MB / 200 MB/s = 7.5 ms
        Assert.Equal(2.5e-3, mid.MatmulSeconds, 12);
        Assert.Equal(7.5e-3, mid.HeadSeconds, 12);
        // a prefill chunk of 64 rows runs at the kernels' rate whatever the bandwidth (the bytes are read once per chunk)
        var chunk = machine with { GemmRates = [new(1, 2 * BodyParams / 1e-3), new(64, 64 * 2 * BodyParams / 2e-3)] };
        var p = CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, chunk with { ReadBytesPerSecond = 4e9 }, eff, headBytes: 1.5e6).Cost(64, 1, 0, 0, CpuTwin.PairsOf(0, 64));
        Assert.Equal(2e-3, p.MatmulSeconds, 12);
    }

    [Fact]
    public void PartialOverlapRooflineReducesToTheRooflineAtZeroAndGrowsWithK()
    {
        double[] times = [0, 1e-4, 0.5e-3, 1e-3, 1.2e-3, 3e-3];
        double[] ks = [0, 0.1, 0.35, 0.7, 1];
        foreach (double tm in times)
            foreach (double tc in times)
            {
                Assert.Equal(Math.Max(tm, tc), CpuStepModel.Roofline(tm, tc, 0));           // k = 0: the plain roofline
                Assert.Equal(tm + tc, CpuStepModel.Roofline(tm, tc, 1), 15);                // k = 1: one after the other
                Assert.Equal(CpuStepModel.Roofline(tm, tc, 0.35), CpuStepModel.Roofline(tc, tm, 0.35));
                for (int i = 1; i < ks.Length; i++)                                          // monotone in k
                    Assert.True(CpuStepModel.Roofline(tm, tc, ks[i]) >= CpuStepModel.Roofline(tm, tc, ks[i - 1]));
                foreach (double k in ks)
                {
                    // monotone in each time, and never below the longer one nor above their sum
                    Assert.True(CpuStepModel.Roofline(tm * 1.5, tc, k) >= CpuStepModel.Roofline(tm, tc, k));
                    Assert.True(CpuStepModel.Roofline(tm, tc * 1.5, k) >= CpuStepModel.Roofline(tm, tc, k));
                    Assert.InRange(CpuStepModel.Roofline(tm, tc, k), Math.Max(tm, tc), tm + tc + 1e-18);
                    // the overlap read from a streamed time inverts the roofline
                    if (Math.Min(tm, tc) > 0) Assert.Equal(k, CpuStepModel.OverlapFrom(CpuStepModel.Roofline(tm, tc, k), tm, tc), 12);
                }
            }
        Assert.Equal(0, CpuStepModel.OverlapFrom(0.9e-3, 1e-3, 0.5e-3));   // faster than the roofline (noise): 0
        Assert.Equal(1, CpuStepModel.OverlapFrom(2e-3, 1e-3, 0.5e-3));     // slower than both in turn: 1
        Assert.Equal(0, CpuStepModel.OverlapFrom(2e-3, 1e-3, 0));          // no kernel time: nothing to overlap
        Assert.Equal(0, CpuStepModel.OverlapFrom(double.NaN, 1e-3, 1e-3));
    }

    [Fact]
    public void StreamedProductsFasterThanTheReadTestRaiseTheWeightsBandwidth()
    {
        Assert.Equal(1.25, CpuStepModel.CacheGainFrom(0.8e-3, 1e-3), 12);  // the layers streamed in 0.8 of their bytes' time
        Assert.Equal(1, CpuStepModel.CacheGainFrom(1.2e-3, 1e-3));         // slower than the bound: the overlap's business
        Assert.Equal(1, CpuStepModel.CacheGainFrom(0, 1e-3));
        Assert.Equal(1, CpuStepModel.CacheGainFrom(double.NaN, 1e-3));

        // Layers 0.5 MB, head 1.5 MB at 1.25 GB/s x eff_bandwidth 0.5: 0.8 and 2.4 ms of bytes; the layers' kernel takes
        // 0.5 ms at m = 1, the head's 1 ms. The layers' products streamed in 0.64 ms, under their 0.8 ms of bytes: part of
        // the weights came from the cache, gain 1.25 for every weight read; the KV cache keeps the read test's bandwidth.
        var machine = new CpuMeasurements(1.25e9, 1e12, 1e30, 2)
        {
            GemmRates = [new(1, 2 * BodyParams / 0.5e-3), new(64, 64 * 2 * BodyParams / 2e-3)], HeadGemmRates = [new(1, 2 * HeadParams / 1e-3)],
            AttentionOpsPerSecond = 1e30, StreamedOpsPerSecond = 2 * BodyParams / 0.64e-3,
        };
        var eff = Ideal with { EffBandwidth = 0.5 };
        var model = CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, machine, eff, headBytes: 1.5e6);
        Assert.Equal(1.25, model.CacheGain, 12);
        Assert.Equal(0, model.Overlap);                                       // the streamed time is the gained memory limit itself
        var c = model.Cost(1, 1, 0, 0, 1);
        Assert.Equal(0.64e-3, c.MatmulSeconds, 12);
        Assert.Equal(2.4e-3 / 1.25, c.HeadSeconds, 12);
        var withKv = model.Cost(1, 1, 0, 1000, 1001);
        Assert.Equal(1001 * model.KvBytesPerToken / (1.25e9 * 0.5), withKv.AttentionSeconds, 12);
        // without the streamed reading, or with rates that already hold the traffic, no gain
        Assert.Equal(1, CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, machine with { StreamedOpsPerSecond = 0 }, eff, headBytes: 1.5e6).CacheGain);
        Assert.Equal(1, CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, machine with { GemmRatesStreamWeights = true }, eff, headBytes: 1.5e6).CacheGain);
        var workload = new CpuTwinWorkload(64, 16, 64, 32, 8, 64, 8);
        var run = new CpuTwinObservation("tiny", Tiny, 2e6, Precision.Fp16, machine with { StreamedOpsPerSecond = 0 }, workload, [new("tg16", 1)])
        {
            HeadBytes = 1.5e6, StreamedRates = new Dictionary<string, double> { ["tg16"] = 2 * BodyParams / 0.64e-3 },
        };
        Assert.EndsWith("(cache gain 1.25)", run.BoundOf(eff, "tg16"), StringComparison.Ordinal);
    }

    [Fact]
    public void DecodeProductsTakeTheOverlapReadFromTheirStreamedRate()
    {
        // Layers 0.5 MB, head 1.5 MB, both 1 ms of kernel work at m = 1; 1.25 GB/s x eff_bandwidth 0.5: layer bytes take
        // 0.8 ms, the head's 2.4 ms. The layers' streamed m = 1 rate took 1.2 ms = max + 0.25 min: k = 0.25.
        var machine = new CpuMeasurements(1.25e9, 1e12, 1e30, 2)
        {
            GemmRates = [new(1, 2 * BodyParams / 1e-3), new(64, 64 * 2 * BodyParams / 2e-3)], HeadGemmRates = [new(1, 2 * HeadParams / 1e-3)],
            AttentionOpsPerSecond = 1e30,
        };
        var eff = Ideal with { EffBandwidth = 0.5 };
        CpuStepModel Model(CpuMeasurements m, EfficiencyParameters e) => CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, m, e, headBytes: 1.5e6);
        var plain = Model(machine, eff).Cost(1, 1, 0, 0, 1);                 // k = 0 where nothing was read: the roofline as before
        Assert.Equal(0, Model(machine, eff).Overlap);
        Assert.Equal(1e-3, plain.MatmulSeconds, 12);
        Assert.Equal(2.4e-3, plain.HeadSeconds, 12);
        var read = machine with { StreamedOpsPerSecond = 2 * BodyParams / 1.2e-3 };
        var model = Model(read, eff);
        Assert.Equal(0.25, model.Overlap, 12);
        var c = model.Cost(1, 1, 0, 0, 1);
        Assert.Equal(1.2e-3, c.MatmulSeconds, 12);                            // the streamed time itself
        Assert.Equal(2.4e-3 + 0.25e-3, c.HeadSeconds, 12);                   // the head: the same k on its own limits
        Assert.Equal(0.2e-3 + 0.25e-3, c.Seconds - plain.Seconds, 12);
        Assert.True(c.ProductsMemoryBound);                                  // 0.8 + 2.4 ms of bytes against 1 + 1 ms of kernel work
        // a prefill chunk at m = 64 (2 ms of kernel work, the same 0.8 ms of bytes) pays k x the bytes
        Assert.Equal(2e-3 + 0.25 * 0.8e-3, model.Cost(64, 1, 0, 0, CpuTwin.PairsOf(0, 64)).MatmulSeconds, 12);
        // the measured k wins over the parameter; without a reading the parameter applies
        Assert.Equal(0.25, Model(read, eff with { OverlapK = 0.9 }).Overlap, 12);
        Assert.Equal(1e-3 + 0.5 * 0.8e-3, Model(machine, eff with { OverlapK = 0.5 }).Cost(1, 1, 0, 0, 1).MatmulSeconds, 12);
        // rates probed on streamed weights hold the traffic already: no roofline, no overlap
        var streamed = Model(read with { GemmRatesStreamWeights = true }, eff with { OverlapK = 0.5 }).Cost(1, 1, 0, 0, 1);
        Assert.Equal(1e-3, streamed.MatmulSeconds, 12);
        // an observation hands each quantity its own bracket's streamed rate (TPOT shares its wave's TTFT)
        var workload = new CpuTwinWorkload(64, 16, 64, 32, 8, 64, 8);
        var run = new CpuTwinObservation("tiny", Tiny, 2e6, Precision.Fp16, machine, workload, [new("tg16", 1), new("tpot@2", 1)])
        {
            HeadBytes = 1.5e6, StreamedRates = new Dictionary<string, double> { ["tg16"] = 2 * BodyParams / 1.2e-3, ["ttft@2"] = 2 * BodyParams / 1.04e-3 },
        };
        Assert.Equal(0.25, run.ModelFor(eff, "tg16").Overlap, 12);
        Assert.Equal(0.05, run.ModelFor(eff, "tpot@2").Overlap, 12);
        Assert.Equal(0, run.ModelFor(eff, "pp64").Overlap);
        Assert.EndsWith("(overlap 0.25)", run.BoundOf(eff, "tg16"), StringComparison.Ordinal);
        Assert.Equal(1, run.ModelFor(eff, "tg16").CacheGain);                // streamed slower than the read test's bound: no gain
        Assert.Throws<InvalidDataException>(() => EfficiencyParameters.Parse((Ideal with { OverlapK = 1.5 }).ToJson(), "test"));
        Assert.Equal(0.4, EfficiencyParameters.Parse((Ideal with { OverlapK = 0.4 }).ToJson(), "test").OverlapK);
    }

    [Fact]
    public void FitOnTwoStatesRecoversAKnownOverlap()
    {
        // Measurements made with k = 0.3 in two bandwidth states: one where a decode's memory and kernel times are close
        // (25 GB/s: 91 µs of layer bytes against 92 µs of kernel work), one memory-bound (10 GB/s). The fit, started at
        // k = 0, recovers k and the bandwidth fraction with the rest; no quantity read its overlap, so k is fitted.
        var machine = new CpuMeasurements(1e9, 1e9, 1e9, 2) { GemmRates = [new(1, 2e9), new(16, 6e9), new(256, 1e10)], AttentionOpsPerSecond = 5e8 };
        var truth = Ideal with { EffBandwidth = 0.7, EffComputePrefill = 0.8, EffComputeDecode = 0.8, LayerOverheadS = 2e-5, HostElementS = 3e-9, OverlapK = 0.3 };
        var workload = new CpuTwinWorkload(64, 16, 64, 32, 8, 64, 8);
        string[] quantities = ["pp64", "tg16", "ttft@2", "tpot@2", "ttft@8", "tpot@8"];
        CpuTwinObservation Run(double tgBw, double serveBw, bool read = false)
        {
            var bws = new Dictionary<string, double> { ["pp64"] = tgBw, ["tg16"] = tgBw, ["ttft@2"] = serveBw, ["ttft@8"] = serveBw };
            var blank = new CpuTwinObservation("tiny", Tiny, 2e6, Precision.Fp16, machine, workload, []) { Bandwidths = bws };
            if (read) blank = blank with { StreamedRates = bws.ToDictionary(kv => kv.Key, kv => 1.5e9) };
            return blank with { Measured = quantities.Select(q => new KeyValuePair<string, double>(q, workload.Predict(blank.ModelFor(truth, q), q))).ToList() };
        }
        var runs = new[] { Run(2.5e10, 1e10), Run(1e10, 2.5e10) };
        Assert.True(CpuTwinFit.FitsOverlap(runs));
        var start = Ideal with { EffBandwidth = 0.4, EffComputePrefill = 0.5, LayerOverheadS = 1e-4, HostElementS = 1e-8 };
        var fitted = CpuTwinFit.Fit(runs, start);
        Assert.Equal(0.3, fitted.OverlapK, 2);
        Assert.Equal(0.7, fitted.EffBandwidth, 2);
        foreach (var run in runs)
            foreach (var (q, p, meas) in run.Predict(fitted))
                Assert.True(Math.Abs(p / meas - 1) < 0.01, $"{q}: predicted {p}, measured {meas}; fitted {fitted.ToJson()}");
        Assert.Contains("overlap_k", fitted.Method, StringComparison.Ordinal);
        // where every quantity read its own overlap, k is a measurement and the parameter keeps its value
        var readRuns = new[] { Run(2.5e10, 1e10, read: true), Run(1e10, 2.5e10, read: true) };
        Assert.False(CpuTwinFit.FitsOverlap(readRuns));
        var kept = CpuTwinFit.Fit(readRuns, start with { OverlapK = 0.123 });
        Assert.Equal(0.123, kept.OverlapK);
        Assert.Contains("overlap_k kept", kept.Method, StringComparison.Ordinal);
    }

    [Fact]
    public void ObservationsSurviveTheirFileAndPredictTheSame()
    {
        // A run with every part the fit reads: phase figures, brackets (bandwidth, kernel scale, streamed rate), arrivals,
        // recorded steps (a wave's first step has no gap: NaN), head bytes; written and read back, it predicts the same.
        var bench = new CpuMeasurements(3e10, 1e9, 1e9, 2)
        {
            GemmRates = [new(1, 2e9), new(16, 6e9), new(256, 1e10)], HeadGemmRates = [new(1, 1e9), new(16, 5e9)], AttentionOpsPerSecond = 5e8,
            PrefillAttentionOpsPerSecond = 9e8, LoopStepSeconds = 2e-4, LoopRowSeconds = 3e-5,
        };
        var serve = bench with { AttentionOpsPerSecond = 4e8 };
        var shape = new Quanta.Planner.Simulation.StepShape(2, 0, 2, 80, 82) { LogitsRows = 2, DecodePairs = 82 };
        var run = new CpuTwinObservation("tiny", Tiny, 2e6, Precision.Fp16, bench,
            new CpuTwinWorkload(64, 16, 64, 32, 8, 64, 8) { Arrivals = new Dictionary<int, IReadOnlyList<double>> { [2] = [0.001, 0.002] } },
            [new("pp64", 900), new("tg16", 300), new("ttft@2", 40), new("tpot@2", 4)])
        {
            ServeMachine = serve, HeadBytes = 0.4e6,
            ServeSteps = [new CpuTwinObservation.WaveSteps(2, [new RecordedStep(shape, 0, 1e-3, double.NaN), new RecordedStep(shape, 1.2e-3, 1.1e-3, 2e-4)])],
            Bandwidths = new Dictionary<string, double> { ["pp64"] = 3.1e10, ["tg16"] = 4.8e10, ["ttft@2"] = 3.2e10 },
            KernelScales = new Dictionary<string, double> { ["tg16"] = 0.9 },
            KernelScalesAt = new Dictionary<string, IReadOnlyList<CpuTwinObservation.KernelScale>> { ["ttft@2"] = [new(1, 1.1), new(16, 0.95), new(256, 1.05)] },
            StreamedRates = new Dictionary<string, double> { ["tg16"] = 1.5e9, ["ttft@2"] = 1.9e9 },
            JitSeconds = new Dictionary<string, double> { ["ttft@2"] = 2e-3, ["tpot@2"] = 2e-3 },
        };
        var eff = Ideal with { HostElementS = 1e-9 };
        string json = CpuTwinObservationFile.ToJson([run]);
        var back = Assert.Single(CpuTwinObservationFile.FromJson(json, "test"));
        Assert.Equal(run.Predict(eff).ToList(), back.Predict(eff).ToList());
        Assert.Equal(run.PredictSteps(eff).ToList(), back.PredictSteps(eff).ToList());
        Assert.True(double.IsNaN(back.ServeSteps[0].Steps[0].GapSeconds));
        Assert.Equal(run.ModelFor(eff, "tg16").Overlap, back.ModelFor(eff, "tg16").Overlap);
        Assert.True(back.ModelFor(eff, "tg16").Overlap > 0);
        Assert.Equal(json, CpuTwinObservationFile.ToJson([back]));
        Assert.Equal(2e-3, back.JitSeconds["tpot@2"]);
        Assert.Equal(run.KernelScalesAt["ttft@2"], back.KernelScalesAt["ttft@2"]);
        // a file written before the per-m kernel readings were kept reads with none and predicts with the m = 1 factors
        var noPerM = Assert.Single(CpuTwinObservationFile.FromJson(
            System.Text.RegularExpressions.Regex.Replace(json, @",\s*""KernelScalesAt"": \{.*?\]\s*\}", "", System.Text.RegularExpressions.RegexOptions.Singleline), "test"));
        Assert.Empty(noPerM.KernelScalesAt);
        Assert.Equal((run with { KernelScalesAt = new Dictionary<string, IReadOnlyList<CpuTwinObservation.KernelScale>>() }).Predict(eff).ToList(), noPerM.Predict(eff).ToList());
        // a file written before the JIT readings were kept reads with none
        var older = Assert.Single(CpuTwinObservationFile.FromJson(
            System.Text.RegularExpressions.Regex.Replace(json, @",\s*""JitSeconds"": \{[^}]*\}", ""), "test"));
        Assert.Empty(older.JitSeconds);
        Assert.Equal(run.Predict(eff).ToList(), older.Predict(eff).ToList());
        Assert.Throws<InvalidDataException>(() => CpuTwinObservationFile.FromJson("{\"Format\": \"other\", \"Runs\": []}", "test"));
        Assert.Throws<InvalidDataException>(() => CpuTwinObservationFile.FromJson("[1, 2", "test"));
        // a run without its machine figures, or with a null model, is refused when read, not when predicted
        Assert.Throws<InvalidDataException>(() => CpuTwinObservationFile.FromJson(
            "{\"Format\": \"quanta-twin-observations/1\", \"Runs\": [{\"Name\": \"x\"}]}", "test"));
        Assert.Throws<InvalidDataException>(() => CpuTwinObservationFile.FromJson(
            json.Replace("\"Spec\": {", "\"Spec\": null, \"Unused\": {", StringComparison.Ordinal), "test"));
    }

    [Fact]
    public void EachQuantityIsPredictedFromTheBandwidthReadAroundItsOwnMeasurement()
    {
        // The bandwidth switches state between measurements: tg ran at 100 MB/s, the 2-stream wave at 50 GB/s, pp has no
        // bracket of its own (its phase's figure, 1 GB/s).
        var machine = new CpuMeasurements(1e9, 1e9, 1e9, 2) { GemmRates = [new(1, 2e9), new(16, 6e9), new(256, 1e10)], AttentionOpsPerSecond = 5e8 };
        var workload = new CpuTwinWorkload(64, 16, 64, 32, 8, 64, 8);
        var eff = Ideal with { EffBandwidth = 0.8 };
        string[] quantities = ["pp64", "tg16", "ttft@2", "tpot@2"];
        var run = new CpuTwinObservation("tiny", Tiny, 2e6, Precision.Fp16, machine, workload, quantities.Select(q => new KeyValuePair<string, double>(q, 1)).ToList())
        {
            Bandwidths = new Dictionary<string, double> { ["tg16"] = 1e8, ["ttft@2"] = 5e10 },
        };
        double At(double bw, string q) => workload.Predict(CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, machine with { ReadBytesPerSecond = bw }, eff), q);
        var predicted = run.Predict(eff).ToDictionary(x => x.Quantity, x => x.Predicted);
        Assert.Equal(At(1e9, "pp64"), predicted["pp64"], 9);
        Assert.Equal(At(1e8, "tg16"), predicted["tg16"], 9);
        Assert.Equal(At(5e10, "ttft@2"), predicted["ttft@2"], 9);
        Assert.Equal(At(5e10, "tpot@2"), predicted["tpot@2"], 9);   // a wave's TPOT shares its TTFT's bracket
        Assert.NotEqual(At(1e9, "tg16"), predicted["tg16"], 3);
        // 2 MB at 80 MB/s effective (25 ms) binds the decode; at 40 GB/s (0.05 ms) the kernels (~0.1 ms) do
        Assert.Equal("memory-bound", run.BoundOf(eff, "tg16"));
        Assert.Equal("kernel-bound", run.BoundOf(eff, "tpot@2"));
        // the m = 1 kernel reading around the 2-stream wave was half the probe's: that wave's m = 1 rates are halved (the
        // 2-token steps between m = 1 and 16 follow by interpolation), the m = 16 and 256 rates stay as probed
        var halved = run with { KernelScales = new Dictionary<string, double> { ["ttft@2"] = 0.5 } };
        var slowKernels = machine with { ReadBytesPerSecond = 5e10, GemmRates = machine.GemmRates.Select(g => g.M == 1 ? g with { OpsPerSecond = g.OpsPerSecond / 2 } : g).ToList() };
        double tpotHalved = workload.Predict(CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, slowKernels, eff), "tpot@2");
        Assert.Equal(tpotHalved, halved.Predict(eff).Single(x => x.Quantity == "tpot@2").Predicted, 9);
        Assert.True(tpotHalved > 1.05 * predicted["tpot@2"], $"{tpotHalved} vs {predicted["tpot@2"]}");
        var allHalved = machine with { ReadBytesPerSecond = 5e10, GemmRates = machine.GemmRates.Select(g => g with { OpsPerSecond = g.OpsPerSecond / 2 }).ToList() };
        Assert.True(tpotHalved < workload.Predict(CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, allHalved, eff), "tpot@2"));
        Assert.Equal(predicted["tg16"], halved.Predict(eff).Single(x => x.Quantity == "tg16").Predicted, 9);
        // read at several m, the bracket's own factor at each m scales that m (and replaces the m = 1 factor): the
        // 2-stream wave's core at 0.5 at m = 1, 1.2 at m = 16, 2 at m = 256; m = 4 halfway in log m between 1 and 16
        var perM = halved with
        {
            KernelScalesAt = new Dictionary<string, IReadOnlyList<CpuTwinObservation.KernelScale>> { ["ttft@2"] = [new(1, 0.5), new(16, 1.2), new(256, 2)] },
        };
        var scaled = machine with
        {
            ReadBytesPerSecond = 5e10, GemmRates = [new(1, 2e9 * 0.5), new(16, 6e9 * 1.2), new(256, 1e10 * 2)], MatmulOpsPerSecond = 0.5e9,
        };
        foreach (string q in (string[])["ttft@2", "tpot@2"])
            Assert.Equal(workload.Predict(CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, scaled, eff), q), perM.Predict(eff).Single(x => x.Quantity == q).Predicted, 9);
        Assert.Equal(predicted["tg16"], perM.Predict(eff).Single(x => x.Quantity == "tg16").Predicted, 9);
        IReadOnlyList<CpuTwinObservation.KernelScale> at = [new(1, 0.5), new(16, 1.2), new(256, 2)];
        Assert.Equal(0.5, CpuTwinObservation.ScaleAt(at, 1), 12);
        Assert.Equal(0.85, CpuTwinObservation.ScaleAt(at, 4), 12);
        Assert.Equal(1.6, CpuTwinObservation.ScaleAt(at, 64), 12);
        Assert.Equal(2, CpuTwinObservation.ScaleAt(at, 512), 12);
        Assert.Equal(1, CpuTwinObservation.ScaleAt([], 8), 12);
    }

    [Fact]
    public void FitOnRunsInTwoBandwidthStatesRecoversTheBandwidthFraction()
    {
        // Kernel rates probed on cache-resident weights: the fit sees each measurement bounded by its own bandwidth
        // (memory-bound decodes in the slow state, kernel-bound ones in the fast) and recovers eff_bandwidth with the rest.
        var machine = new CpuMeasurements(1e9, 1e9, 1e9, 2) { GemmRates = [new(1, 2e9), new(16, 6e9), new(256, 1e10)], AttentionOpsPerSecond = 5e8 };
        var truth = Ideal with { EffBandwidth = 0.7, EffComputePrefill = 0.8, EffComputeDecode = 0.8, LayerOverheadS = 2e-5, HostElementS = 3e-9 };
        var workload = new CpuTwinWorkload(64, 16, 64, 32, 8, 64, 8);
        string[] quantities = ["pp64", "tg16", "ttft@2", "tpot@2", "ttft@8", "tpot@8"];
        CpuTwinObservation Run(double tgBw, double serveBw)
        {
            var bws = new Dictionary<string, double> { ["pp64"] = tgBw, ["tg16"] = tgBw, ["ttft@2"] = serveBw, ["ttft@8"] = serveBw };
            var blank = new CpuTwinObservation("tiny", Tiny, 2e6, Precision.Fp16, machine, workload, []) { Bandwidths = bws };
            return blank with { Measured = quantities.Select(q => new KeyValuePair<string, double>(q, workload.Predict(blank.ModelFor(truth, q), q))).ToList() };
        }
        var runs = new[] { Run(2e9, 1e11), Run(1e11, 2e9) };
        Assert.Equal("memory-bound", runs[0].BoundOf(truth, "tg16"));
        Assert.Equal("kernel-bound", runs[1].BoundOf(truth, "tg16"));
        var fitted = CpuTwinFit.Fit(runs, Ideal with { EffBandwidth = 0.4, EffComputePrefill = 0.5, LayerOverheadS = 1e-4, HostElementS = 1e-8 });
        Assert.Equal(0.7, fitted.EffBandwidth, 2);
        foreach (var run in runs)
            foreach (var (q, p, meas) in run.Predict(fitted))
                Assert.True(Math.Abs(p / meas - 1) < 0.01, $"{q}: predicted {p}, measured {meas}; fitted {fitted.ToJson()}");
        Assert.Contains("eff_bandwidth", fitted.Method, StringComparison.Ordinal);
    }

    [Fact]
    public void BadInputsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => CpuTwin.Device(new CpuMeasurements(double.NaN, 1, 1, 1)));
        Assert.Throws<ArgumentException>(() => CpuTwin.Device(new CpuMeasurements(1, 1, 1, 0)));
        var r = CpuTwin.StepModel(Tiny, 1e6, Precision.Fp16, new CpuMeasurements(1e9, 1e9, 1e9, 1), Ideal);
        Assert.Throws<ArgumentException>(() => CpuTwin.ServeWave(r, 0, 1, 1, 1, 1));
        Assert.Throws<ArgumentException>(() => CpuTwin.PrefillSeconds(r, 0, 32));
        Assert.Throws<ArgumentException>(() => r.Cost(4, 5, 0, 0, 0));
        Assert.Throws<ArgumentException>(() => CpuTwin.StepModel(Tiny, 0, Precision.Fp16, new CpuMeasurements(1e9, 1e9, 1e9, 1), Ideal));
    }

    [Fact]
    public void TwinRunOnATinyGeneratedModelGivesFiniteComparisons()
    {
        string dir = Directory.CreateTempSubdirectory("quanta-twin-test-").FullName;
        try
        {
            string path = Path.Combine(dir, "tiny-q4_0.gguf");
            var shape = new ModelShape("tiny", 2, 64, 128, 4, 2, 300, false, 10000f, 256);
            Assert.True(GgufQuantType.TryParse("Q4_0", out var q4));
            ModelGenerator.Generate(shape, q4, path);
            var options = new CpuTwinOptions
            {
                Threads = 1, Prompt = 32, Gen = 8, Repetitions = 1, Streams = [2, 4], ServePrompt = 16, ServeOutput = 4, Waves = 1,
                BandwidthSeconds = 0.05, KernelSeconds = 0.02,
            };
            var report = CpuTwinRunner.Run(path, options, CpuTwin.BuiltInEfficiency());
            Assert.Equal(["pp32", "tg8", "ttft@2", "tpot@2", "ttft@4", "tpot@4"], report.Rows.Select(x => x.Quantity).ToArray());
            foreach (var row in report.Rows)
            {
                Assert.True(double.IsFinite(row.Predicted) && row.Predicted > 0, $"{row.Quantity} predicted {row.Predicted}");
                Assert.True(double.IsFinite(row.Measured) && row.Measured > 0, $"{row.Quantity} measured {row.Measured}");
                Assert.True(double.IsFinite(row.ErrorPercent), row.Quantity);
            }
            // every quantity bracketed by a reading before and one after it (pp, tg, each serve wave; more on repeats)
            Assert.True(report.Bandwidths.Count >= 8 && report.Bandwidths.Count % 2 == 0, $"{report.Bandwidths.Count} bandwidth readings");
            Assert.Equal(new[] { "pp32", "tg8", "ttft@2", "tpot@2", "ttft@4", "tpot@4" }.Order(), report.Observation!.Bandwidths.Keys.Order());
            Assert.Equal(report.Observation.Bandwidths["ttft@4"], report.Observation.Bandwidths["tpot@4"]);
            Assert.All(report.Rows, r => Assert.Matches(@"^bw [0-9.]+/[0-9.]+ GB/s, m=1 kernel [0-9]+/[0-9]+ GOP/s \(m=16 [0-9]+/[0-9]+, m=256 [0-9]+/[0-9]+\), streamed [0-9]+/[0-9]+ GOP/s.*, (memory|kernel)-bound( \(overlap [01]\.[0-9]{2}\))?$", r.State));
            // the serve rows say how long the JIT compiled during their kept waves (a wave over the tolerance is rerun); pp and tg do not
            Assert.All(report.Rows, r => Assert.Equal(r.Quantity.Contains('@'), System.Text.RegularExpressions.Regex.IsMatch(r.State, @", jit [0-9.]+ ms")));
            // and the observation keeps the serve rows' JIT time (pp and tg have none)
            Assert.Equal(new[] { "ttft@2", "tpot@2", "ttft@4", "tpot@4" }.Order(), report.Observation!.JitSeconds.Keys.Order());
            // each quantity's kernel factors at the bracket's m are kept (TPOT shares its wave's)
            Assert.Equal(report.Observation.Bandwidths.Keys.Order(), report.Observation.KernelScalesAt.Keys.Order());
            Assert.All(report.Observation.KernelScalesAt.Values, at =>
            {
                Assert.Equal(CpuTwinRunner.BracketM, at.Select(a => a.M).ToArray());
                Assert.All(at, a => Assert.True(a.Scale > 0 && double.IsFinite(a.Scale), $"m = {a.M}: {a.Scale}"));
            });
            // each quantity's streamed m = 1 reading is kept for its overlap (TPOT shares its wave's)
            Assert.Equal(report.Observation.Bandwidths.Keys.Order(), report.Observation.StreamedRates.Keys.Order());
            Assert.All(report.Observation.StreamedRates.Values, v => Assert.True(v > 0 && double.IsFinite(v), $"streamed {v}"));
            Assert.Equal(3, report.MatmulRates.Count);
            Assert.Equal(3, report.GemmReadings.Count);
            Assert.Equal(3, report.AttentionRates.Count);
            Assert.Equal(3, report.PrefillAttentionRates.Count);
            Assert.Equal(3, report.PagedAttentionRates.Count);
            Assert.Equal(3, report.PagedPrefillAttentionRates.Count);
            // the serve phase is predicted from the paged cache's readings (1 and 2), the benchmarks from the contiguous one's (0 and 1)
            Assert.Equal(report.PagedAttentionRates.Skip(1).Average(), report.Observation!.ServeMachine!.AttentionOpsPerSecond, 6);
            Assert.Equal(report.AttentionRates.Take(2).Average(), report.Observation.Machine.AttentionOpsPerSecond, 6);
            // the serve waves' steps were recorded from the real engine: 2 streams of 16-token prompts and 4 outputs
            // take at least 4 steps (a prefill and 3 decodes), every executor call timed
            Assert.Equal([2, 4], report.RecordedWaves.Select(w => w.Streams).ToArray());
            Assert.All(report.RecordedWaves, w => Assert.True(w.Steps.Count >= 4 && w.Steps.All(s => s.ExecuteSeconds > 0), $"{w.Streams} streams: {w.Steps.Count} steps"));
            Assert.Equal(2 * (16 + 3), report.RecordedWaves[0].Steps.Sum(s => s.Shape.Tokens));
            Assert.True(report.Machine.LoopStepSeconds >= 0 && report.Machine.LoopRowSeconds >= 0);
            Assert.Equal(CpuProbe.DefaultGemmM, report.Machine.GemmRates.Select(g => g.M).ToArray());
            Assert.True(report.Machine.ReadBytesPerSecond > 1e8, $"bandwidth {report.Machine.ReadBytesPerSecond}");
            Assert.True(report.Machine.MatmulOpsPerSecond > 1e7, $"dot rate {report.Machine.MatmulOpsPerSecond}");
            // The file's weights: every tensor except token_embd (the output head is separate).
            Assert.True(report.WeightBytes > 0 && report.WeightBytes < new FileInfo(path).Length, $"weights {report.WeightBytes} of a {new FileInfo(path).Length}-byte file");
            // The command itself (as `quanta plan twin` runs it): the table with every quantity and finite errors.
            var output = new StringWriter();
            var saved = Console.Out;
            int exit;
            try
            {
                Console.SetOut(output);
                exit = PlanTwinCommand.Create().Parse(["--model", path, "-t", "1", "--pp", "32", "--tg", "8", "-r", "1", "--streams", "2",
                    "--serve-prompt", "16", "--serve-output", "4", "--waves", "1", "--bandwidth-seconds", "0.05", "--kernel-seconds", "0.02", "--json"]).Invoke();
            }
            finally { Console.SetOut(saved); }
            Assert.True(exit == 0, output.ToString());
            using (var doc = System.Text.Json.JsonDocument.Parse(output.ToString()))
            {
                var rows = doc.RootElement.GetProperty("models")[0].GetProperty("rows");
                Assert.Equal(4, rows.GetArrayLength());
                foreach (var row in rows.EnumerateArray())
                    foreach (string f in new[] { "predicted", "measured", "error" })
                        Assert.True(double.IsFinite(row.GetProperty(f).GetDouble()), $"{row.GetProperty("quantity")} {f}");
            }
            // The run's observations written to a file and fitted from it, as runs in two states would be
            string observations = Path.Combine(dir, "obs.json");
            File.WriteAllText(observations, CpuTwinObservationFile.ToJson([report.Observation!]));
            var fromFile = new StringWriter();
            try
            {
                Console.SetOut(fromFile);
                exit = PlanTwinCommand.Create().Parse(["--fit-from", observations, observations, "--fit-out", Path.Combine(dir, "fit.json"), "--fit-on", "obs"]).Invoke();
            }
            finally { Console.SetOut(saved); }
            Assert.True(exit == 0, fromFile.ToString());
            Assert.Contains("obs/tiny-q4_0.gguf", fromFile.ToString(), StringComparison.Ordinal);
            Assert.Contains("(fit)", fromFile.ToString(), StringComparison.Ordinal);
            // with the recorded steps' rows (the executor's time per wave size, predicted against measured)
            Assert.Contains("decode-steps@2", fromFile.ToString(), StringComparison.Ordinal);
            Assert.True(EfficiencyParameters.Load(Path.Combine(dir, "fit.json")).EffBandwidth > 0);
            // Refitting on the run re-predicts every row from its own machine figures.
            var fitted = CpuTwinRunner.Fit([report], CpuTwin.BuiltInEfficiency());
            Assert.Equal(report.Rows.Count, report.Repredict(fitted).Count);
            Assert.InRange(fitted.EffBandwidth, 1e-6, 1);
            Assert.True(fitted.StepOverheadS >= 0 && double.IsFinite(fitted.StepOverheadS), $"fitted {fitted.ToJson()} on {string.Join("; ", report.Rows)}");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void TheHeadRunsAtItsOwnRateAndBytes()
    {
        // Compute-bound machine: the layers' GEMM 4 GOP/s at every m, the head's (a slower format) 1 GOP/s.
        // A decode step of 16 rows: layers 2 Pbody 16 / 4e9, head 2 Phead 16 / 1e9.
        var m = new CpuMeasurements(1e30, 1e9, 1e30, 1) { GemmRates = [new(1, 4e9)], HeadGemmRates = [new(1, 1e9)], AttentionOpsPerSecond = 1e30 };
        var model = CpuTwin.StepModel(Tiny, 1e6, Precision.Fp16, m, Ideal);
        var cost = model.Cost(16, 16, 0, 0, 16);
        Assert.Equal(2 * BodyParams * 16 / 4e9, cost.MatmulSeconds, 15);
        Assert.Equal(2 * HeadParams * 16 / 1e9, cost.HeadSeconds, 15);
        // Memory-bound machine (1 GB/s, compute infinitely fast), 2 MB of weights of which the head holds 1.5 MB:
        // the layers read 0.5 MB, the head 1.5 MB; without the head's bytes, the split is by parameters.
        var mem = new CpuMeasurements(1e9, 1e30, 1e30, 1);
        var split = CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, mem, Ideal, headBytes: 1.5e6).Cost(1, 1, 0, 0, 1);
        Assert.Equal(0.5e6 / 1e9, split.MatmulSeconds, 15);
        Assert.Equal(1.5e6 / 1e9, split.HeadSeconds, 15);
        var byParams = CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, mem, Ideal).Cost(1, 1, 0, 0, 1);
        Assert.Equal(2e6 * HeadParams / (HeadParams + BodyParams) / 1e9, byParams.HeadSeconds, 15);
        Assert.Throws<ArgumentException>(() => CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, mem, Ideal, headBytes: 2e6));
    }

    [Fact]
    public void DecodeRowsAndPrefillBlocksAttendAtTheirOwnRates()
    {
        // Attention-only machine: one-row (decode) rate 1 GFLOP/s, 4-row blocks (prefill) 4 GFLOP/s; ops per pair =
        // 4 x heads 4 x head dim 16 x layers 2 = 512.
        var m = new CpuMeasurements(1e30, 1e30, 1e30, 1) { AttentionOpsPerSecond = 1e9, PrefillAttentionOpsPerSecond = 4e9 };
        var model = CpuTwin.StepModel(Tiny, 1e6, Precision.Fp16, m, Ideal);
        // a 32-token chunk from position 0 (528 pairs) and 2 decodes at positions 99 and 199 (100 + 200 pairs)
        double prefillPairs = 32 * 33 / 2.0, decodePairs = 300;
        double expected = 512 * (prefillPairs / 4e9 + decodePairs / 1e9);
        Assert.Equal(expected, model.Cost(34, 3, 0, 298, prefillPairs + decodePairs, decodePairs).AttentionSeconds, 15);
        var shape = new Quanta.Planner.Simulation.StepShape(3, 32, 2, 298, prefillPairs + decodePairs) { LogitsRows = 3, DecodePairs = decodePairs };
        Assert.Equal(model.Cost(34, 3, 3, 298, prefillPairs + decodePairs, decodePairs).Seconds, model.Seconds(shape), 15);
        // without a split: a step whose every row has logits is all decodes, any other all prefill
        Assert.Equal(512 * 300 / 1e9, model.Cost(2, 2, 0, 298, 300).AttentionSeconds, 15);
        Assert.Equal(512 * prefillPairs / 4e9, model.Cost(32, 1, 0, 0, prefillPairs).AttentionSeconds, 15);
        // no prefill rate measured: the one-row rate stands in
        var one = CpuTwin.StepModel(Tiny, 1e6, Precision.Fp16, m with { PrefillAttentionOpsPerSecond = 0 }, Ideal);
        Assert.Equal(512 * prefillPairs / 1e9, one.Cost(32, 1, 0, 0, prefillPairs).AttentionSeconds, 15);
        Assert.Throws<ArgumentException>(() => model.Cost(2, 2, 0, 298, 300, 301));
    }

    [Fact]
    public void ServingStepsPayTheMeasuredLoopCostBenchmarkStepsDoNot()
    {
        // Loop outside the executor: 0.5 ms per step + 20 µs per sampled row. A serving decode step of 8 rows pays
        // 0.5 ms + 8 x 20 µs on top of the executor's cost; the same step as a benchmark step (Cost, serving: false) does not.
        var m = new CpuMeasurements(1e9, 1e9, 1e9, 1) { LoopStepSeconds = 5e-4, LoopRowSeconds = 2e-5 };
        var model = CpuTwin.StepModel(Tiny, 1e6, Precision.Fp16, m, Ideal);
        double pairs = 8 * 51.0;
        double executor = model.Cost(8, 8, 0, 8 * 50, pairs).Seconds;
        var shape = new Quanta.Planner.Simulation.StepShape(8, 0, 8, 400, pairs) { LogitsRows = 8 };
        Assert.Equal(executor + 5e-4 + 8 * 2e-5, model.Seconds(shape), 15);
        Assert.Equal(5e-4 + 8 * 2e-5, model.Cost(8, 8, 8, 400, pairs, serving: true).SampleSeconds, 15);
        Assert.Throws<ArgumentException>(() => new CpuMeasurements(1, 1, 1, 1) { LoopRowSeconds = -1 }.Validate());
    }

    private static RecordedStep Step(int logitsRows, double gap) =>
        new(new Quanta.Planner.Simulation.StepShape(logitsRows, 0, logitsRows, 0, logitsRows) { LogitsRows = logitsRows }, 0, 1e-3, gap);

    [Fact]
    public void LoopCostIsTheGapsLeastSquaresLineOnThePreviousStepsRows()
    {
        // Gaps made as 0.3 ms + 50 µs x (the previous step's rows): the line is recovered exactly. Each wave's first
        // step has no gap (NaN) and is skipped, as is the row count of a wave's last step (no step follows it).
        double G(int rows) => 3e-4 + 5e-5 * rows;
        var waveA = new[] { Step(2, double.NaN), Step(4, G(2)), Step(4, G(4)), Step(1, G(4)) };
        var waveB = new[] { Step(16, double.NaN), Step(16, G(16)), Step(8, G(16)), Step(3, G(8)) };
        var (perStep, perRow) = CpuMeasurements.LoopCost([waveA, waveB]);
        Assert.Equal(3e-4, perStep, 12);
        Assert.Equal(5e-5, perRow, 12);
        // every previous step of the same row count: the mean gap per step, nothing per row
        var (flat, none) = CpuMeasurements.LoopCost([[Step(4, double.NaN), Step(4, 1e-3), Step(4, 3e-3)]]);
        Assert.Equal(2e-3, flat, 12);
        Assert.Equal(0, none);
        // gaps falling with rows (noise): no negative per-row cost, the mean per step
        var (mean, zero) = CpuMeasurements.LoopCost([[Step(1, double.NaN), Step(10, 4e-3), Step(1, 1e-3)]]);
        Assert.Equal(2.5e-3, mean, 12);
        Assert.Equal(0, zero);
        // fewer than two gaps: nothing measured
        Assert.Equal((0.0, 0.0), CpuMeasurements.LoopCost([[Step(1, double.NaN), Step(1, 1e-3)]]));
    }

    private sealed class SpinExecutor : Quanta.Engine.Execution.IExecutor
    {
        public int VocabSize => 1;
        public int MaxBatchTokens => 64;
        public int MaxBatchSequences => 4;
        public Quanta.Engine.Execution.ExecutionResult Execute(Quanta.Engine.Execution.ExecutionBatch batch)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            while (sw.Elapsed.TotalMilliseconds < 2) { }
            return new Quanta.Engine.Execution.ExecutionResult(new float[batch.Sequences.Count], Enumerable.Range(0, batch.Sequences.Count).ToArray(), 1, sw.Elapsed);
        }
    }

    [Fact]
    public void StepRecorderRecordsShapesExecutorTimeAndTheGapsBetweenCalls()
    {
        var rec = new StepRecorder(new SpinExecutor());
        Assert.Equal((1, 64, 4), (rec.VocabSize, rec.MaxBatchTokens, rec.MaxBatchSequences));
        var cache = new Quanta.Engine.KvCache.PagedKvCache(1, 1, 1, 64, 16, 512, Quanta.Models.KvCache.KvCacheType.F16);
        var kv = cache.CreateSequence([1, 2, 3], usePrefixCache: false);
        var tokens = new int[8];
        var prefill = new Quanta.Engine.Execution.ExecutionBatch([new(1, tokens.AsMemory(0, 8), 0, kv, true)]);
        var decode = new Quanta.Engine.Execution.ExecutionBatch([new(1, tokens.AsMemory(0, 1), 8, kv, true)]);
        rec.Execute(prefill);   // before the wave: dropped by Mark
        rec.Mark();
        rec.Execute(prefill);
        Thread.Sleep(5);        // the loop's work between steps
        rec.Execute(decode);
        var steps = rec.Take();
        Assert.Equal(2, steps.Count);
        // shapes: 8 prompt tokens from position 0 (36 pairs); one decode at position 8 (9 pairs)
        Assert.Equal(new Quanta.Planner.Simulation.StepShape(1, 8, 0, 0, 36) { LogitsRows = 1 }, steps[0].Shape);
        Assert.Equal(new Quanta.Planner.Simulation.StepShape(1, 0, 1, 8, 9) { LogitsRows = 1, DecodePairs = 9 }, steps[1].Shape);
        Assert.True(double.IsNaN(steps[0].GapSeconds), "a wave's first step has no gap");
        Assert.True(steps[1].GapSeconds >= 0.005, $"gap {steps[1].GapSeconds} s after a 5 ms sleep");
        Assert.All(steps, s => Assert.True(s.ExecuteSeconds >= 0.002, $"executor {s.ExecuteSeconds} s for a 2 ms spin"));
        Assert.True(steps[1].StartSeconds >= steps[0].StartSeconds + steps[0].ExecuteSeconds + steps[1].GapSeconds - 1e-9);
        rec.Mark();
        Assert.Empty(rec.Take());
    }

    [Fact]
    public void FitOnRecordedStepsRecoversTheParametersAndLeavesTtftAndTpotOut()
    {
        // Recorded serve steps whose executor times the step model made under known parameters (a prefill step of
        // 64 tokens, decode steps of 2 and 8 rows), with pp and tg; the fit compares pp, tg and the step groups only.
        var truth = Ideal with { EffBandwidth = 0.6, EffComputePrefill = 0.8, EffComputeDecode = 0.8, LayerOverheadS = 2e-5, HostElementS = 3e-9 };
        var machine = new CpuMeasurements(2e9, 1e9, 1e9, 2) { GemmRates = [new(1, 2e9), new(16, 6e9), new(256, 1e10)], AttentionOpsPerSecond = 5e8 };
        var workload = new CpuTwinWorkload(64, 16, 64, 32, 8, 64, 8);
        var model = CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, machine, truth);
        RecordedStep Rec(int prefill, int decodes, double depth)
        {
            double pairs = prefill * (prefill + 1) / 2.0 + decodes * (depth + 1);
            var shape = new Quanta.Planner.Simulation.StepShape(decodes + (prefill > 0 ? 1 : 0), prefill, decodes, decodes * depth, pairs)
            { LogitsRows = decodes + (prefill > 0 ? 1 : 0), DecodePairs = decodes * (depth + 1) };
            return new RecordedStep(shape, 0, model.Cost(shape.Tokens, shape.LogitsRows, 0, shape.KvReadTokens, pairs, shape.DecodePairs).Seconds, double.NaN);
        }
        var steps = new[] { new CpuTwinObservation.WaveSteps(2, [Rec(64, 0, 0), Rec(0, 2, 40), Rec(0, 2, 41)]), new CpuTwinObservation.WaveSteps(8, [Rec(64, 1, 33), Rec(0, 8, 50)]) };
        string[] quantities = ["pp64", "tg16", "ttft@2", "tpot@2"];
        var measured = quantities.Select(q => new KeyValuePair<string, double>(q, q.Contains('@') ? 1.0 : workload.Predict(model, q))).ToList();   // TTFT/TPOT deliberately wrong
        var run = new CpuTwinObservation("tiny", Tiny, 2e6, Precision.Fp16, machine, workload, measured) { ServeSteps = steps };
        var compared = CpuTwinFit.Compared(run, truth).Select(x => x.Quantity).ToArray();
        Assert.Equal(["pp64", "tg16", "prefill-steps@2", "decode-steps@2", "prefill-steps@8", "decode-steps@8"], compared);
        var start = Ideal with { EffBandwidth = 0.9, EffComputePrefill = 0.5, LayerOverheadS = 1e-4, HostElementS = 1e-8, SampleRowS = 1e-3 };
        var fitted = CpuTwinFit.Fit([run], start);
        foreach (var (q, p, meas) in CpuTwinFit.Compared(run, fitted))
            Assert.True(Math.Abs(p / meas - 1) < 0.01, $"{q}: predicted {p}, measured {meas}; fitted {fitted.ToJson()}");
        Assert.Equal(0, fitted.SampleRowS);
        Assert.Equal(compared.Select(q => "tiny:" + q), fitted.RowsUsed);
    }

    [Fact]
    public void FitOnTwoDepthsSeparatesTheStepFromTheLayerOverhead()
    {
        // The same machine and parameters on models of 2 and 6 layers: only then are a fixed cost per step and one per
        // layer told apart, and the fit recovers both (started 10x and 30x below them; overheads large enough against
        // the ~2 ms steps that a wrong split would show in the predictions).
        var truth = Ideal with { EffBandwidth = 0.6, EffComputePrefill = 0.8, EffComputeDecode = 0.8, StepOverheadS = 1e-3, LayerOverheadS = 3e-4, HostElementS = 3e-9 };
        var machine = new CpuMeasurements(2e9, 1e9, 1e9, 2) { GemmRates = [new(1, 2e9), new(16, 6e9), new(256, 1e10)], AttentionOpsPerSecond = 5e8 };
        var workload = new CpuTwinWorkload(64, 16, 64, 32, 8, 64, 8);
        string[] quantities = ["pp64", "tg16", "ttft@2", "tpot@2", "ttft@8", "tpot@8"];
        CpuTwinObservation Run(string name, ModelSpec spec)
        {
            var model = CpuTwin.StepModel(spec, 2e6 * spec.Layers / 2, Precision.Fp16, machine, truth);
            return new CpuTwinObservation(name, spec, 2e6 * spec.Layers / 2, Precision.Fp16, machine, workload,
                quantities.Select(q => new KeyValuePair<string, double>(q, workload.Predict(model, q))).ToList());
        }
        var runs = new[] { Run("shallow", Tiny), Run("deep", Tiny with { Layers = 6 }) };
        Assert.True(CpuTwinFit.SeparatesStepOverhead(runs));
        Assert.False(CpuTwinFit.SeparatesStepOverhead([runs[0]]));
        var start = Ideal with { EffBandwidth = 0.9, EffComputePrefill = 0.5, StepOverheadS = 1e-4, LayerOverheadS = 1e-5, HostElementS = 1e-8 };
        var fitted = CpuTwinFit.Fit(runs, start);
        foreach (var run in runs)
            foreach (var (q, p, meas) in run.Predict(fitted))
                Assert.True(Math.Abs(p / meas - 1) < 0.01, $"{run.Name} {q}: predicted {p}, measured {meas}; fitted {fitted.ToJson()}");
        Assert.Equal(1e-3, fitted.StepOverheadS, 5e-5);
        Assert.Equal(3e-4, fitted.LayerOverheadS, 1.5e-5);
        Assert.Contains("step_overhead_s", fitted.Method, StringComparison.Ordinal);

        // one depth: the starting per-step overhead is not kept; the per-layer overhead carries the fixed cost
        var one = CpuTwinFit.Fit([runs[0]], start);
        Assert.Equal(0, one.StepOverheadS);
        foreach (var (q, p, meas) in runs[0].Predict(one))
            Assert.True(Math.Abs(p / meas - 1) < 0.02, $"one depth {q}: predicted {p}, measured {meas}; fitted {one.ToJson()}");
        Assert.Contains("step_overhead_s 0", one.Method, StringComparison.Ordinal);
    }

    [Fact]
    public void FitOnStreamedWeightRatesKeepsTheBandwidthFraction()
    {
        // Rates probed on the model's streamed weights: the bandwidth fraction bounds only KV traffic (here never binding,
        // memory at 1 TB/s), so the fit keeps it where it started and recovers the other parameters.
        var machine = new CpuMeasurements(1e12, 1e9, 1e9, 2)
        {
            GemmRates = [new(1, 2e9), new(16, 6e9), new(256, 1e10)], AttentionOpsPerSecond = 5e8, GemmRatesStreamWeights = true,
        };
        var truth = Ideal with { EffBandwidth = 0.9, EffComputePrefill = 0.8, EffComputeDecode = 0.8, LayerOverheadS = 2e-5, HostElementS = 3e-9 };
        var workload = new CpuTwinWorkload(64, 16, 64, 32, 8, 64, 8);
        var model = CpuTwin.StepModel(Tiny, 2e6, Precision.Fp16, machine, truth);
        string[] quantities = ["pp64", "tg16", "ttft@2", "tpot@2", "ttft@8", "tpot@8"];
        var run = new CpuTwinObservation("tiny", Tiny, 2e6, Precision.Fp16, machine, workload,
            quantities.Select(q => new KeyValuePair<string, double>(q, workload.Predict(model, q))).ToList());
        var start = Ideal with { EffBandwidth = 0.37, EffComputePrefill = 0.5, LayerOverheadS = 1e-4, HostElementS = 1e-8 };
        var fitted = CpuTwinFit.Fit([run], start);
        Assert.Equal(0.37, fitted.EffBandwidth);
        foreach (var (q, p, meas) in run.Predict(fitted))
            Assert.True(Math.Abs(p / meas - 1) < 0.01, $"{q}: predicted {p}, measured {meas}; fitted {fitted.ToJson()}");
        Assert.DoesNotContain("eff_bandwidth,", fitted.Method, StringComparison.Ordinal);
    }
}
