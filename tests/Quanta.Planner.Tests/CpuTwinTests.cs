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

    [Fact]
    public void ServeWaveReplaysTheSchedulerPolicy()
    {
        // Every step costs exactly 1 ms (machine infinitely fast, 1 ms step overhead). 4 requests of 128 prompt and 4
        // output tokens, budget 256 tokens, up to 16 running:
        // step 1: prefill s0, s1 (128 each)                -> s0, s1 first token at 1 ms
        // step 2: decode s0, s1; admit s2 (128), s3 (126)  -> s2 first token at 2 ms
        // step 3: decode s0, s1, s2; s3's last 2 prompt    -> s3 first token at 3 ms
        // steps 4..6: decodes; s0, s1 end at 4 ms, s2 at 5 ms, s3 at 6 ms.
        var fast = new CpuMeasurements(1e30, 1e30, 1e30, 1);
        var eff = new EfficiencyParameters(1, 1, 1, 1e-3, 1, 1);
        var r = CpuTwin.Roofline(Tiny, 1e6, Precision.Fp16, fast, eff);
        var w = CpuTwin.ServeWave(r, streams: 4, prompt: 128, output: 4, maxBatchTokens: 256, maxRunning: 16);
        Assert.Equal(6, w.Steps);
        Assert.Equal((1 + 1 + 2 + 3) / 4.0 * 1e-3, w.TtftSeconds, 9);
        Assert.Equal(1e-3, w.TpotSeconds, 9);
        // A running limit of 2 admits s2 and s3 only when s0 and s1 have finished (after step 4).
        var limited = CpuTwin.ServeWave(r, 4, 128, 4, 256, maxRunning: 2);
        Assert.Equal((1 + 1 + 5 + 5) / 4.0 * 1e-3, limited.TtftSeconds, 9);
    }

    [Fact]
    public void DecodeReadsWeightsAndTheGrowingCache()
    {
        // Memory-bound machine (compute infinitely fast): token k reads the weights, k cached positions plus its own
        // (2 layers x 2 KV heads x 16 x 2 (K, V) x 2 bytes = 256 B each) and its activations (64 x 2 B x 2 layers x 6).
        var m = new CpuMeasurements(1e9, 1e30, 1e30, 1);
        var r = CpuTwin.Roofline(Tiny, 2e6, Precision.Fp16, m, Ideal);
        double expected = 0;
        for (int k = 0; k < 16; k++) expected += (2e6 + (k + 1) * 256.0 + 64 * 2.0 * 2 * 6) / 1e9;
        Assert.Equal(expected, CpuTwin.DecodeSeconds(r, 16), 12);
        Assert.Equal(16 / expected, CpuTwin.DecodeTokensPerSecond(r, 16), 6);
    }

    [Fact]
    public void PrefillComputesTheHeadOnlyForEachChunksLastToken()
    {
        // Compute-bound machine (memory infinitely fast), 1 GOP/s for everything: a 64-token prompt in chunks of 32.
        var m = new CpuMeasurements(1e30, 1e9, 1e9, 1);
        var r = CpuTwin.Roofline(Tiny, 1e6, Precision.Fp16, m, Ideal);
        double layerParams = 2 * (64.0 * 4 * 16 * 2 + 2.0 * 64 * 2 * 16 + 3.0 * 64 * 128);   // attention + MLP, 2 layers
        double head = 300.0 * 64;
        double ops = 0;
        foreach (int start in new[] { 0, 32 })
        {
            double pairs = 32.0 * start + 32.0 * 33 / 2;
            ops += 2 * (layerParams * 32 + head * 1) + 4 * pairs * 4 * 16 * 2;
        }
        Assert.Equal(ops / 1e9, CpuTwin.PrefillSeconds(r, 64, 32), 12);
        Assert.Equal(64 / (ops / 1e9), CpuTwin.PrefillTokensPerSecond(r, 64, 32), 6);
    }

    [Fact]
    public void BadInputsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => CpuTwin.Device(new CpuMeasurements(double.NaN, 1, 1, 1)));
        Assert.Throws<ArgumentException>(() => CpuTwin.Device(new CpuMeasurements(1, 1, 1, 0)));
        var r = CpuTwin.Roofline(Tiny, 1e6, Precision.Fp16, new CpuMeasurements(1e9, 1e9, 1e9, 1), Ideal);
        Assert.Throws<ArgumentException>(() => CpuTwin.ServeWave(r, 0, 1, 1, 1, 1));
        Assert.Throws<ArgumentException>(() => CpuTwin.PrefillSeconds(r, 0, 32));
        Assert.Throws<ArgumentException>(() => CpuTwin.Roofline(Tiny, 0, Precision.Fp16, new CpuMeasurements(1e9, 1e9, 1e9, 1), Ideal));
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
            Assert.Equal(3, report.Bandwidths.Count);
            Assert.Equal(3, report.MatmulRates.Count);
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
            // Refitting on the run re-predicts every row from its own machine figures.
            var fitted = CpuTwinRunner.Fit([report], [new CpuTwinRunInputs(ModelCatalog.FromFile(path), options)], CpuTwin.BuiltInEfficiency());
            Assert.InRange(fitted.EffBandwidth, 1e-6, 1);
            Assert.True(fitted.StepOverheadS >= 0 && double.IsFinite(fitted.StepOverheadS), $"fitted {fitted.ToJson()} on {string.Join("; ", report.Rows)}");
        }
        finally { Directory.Delete(dir, true); }
    }
}
