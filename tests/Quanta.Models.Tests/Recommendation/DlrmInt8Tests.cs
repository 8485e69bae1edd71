using Quanta.Core.ModelFiles.Onnx;
using Quanta.Models.Graph;
using Quanta.Models.Recommendation;
using Xunit.Abstractions;

namespace Quanta.Models.Tests.Recommendation;

/// <summary>The test DLRM (float32 tables) in float32 and in INT8 (MLP MatMuls quantized, calibrated on the first 100 Criteo rows).</summary>
public sealed class DlrmInt8Tests(ITestOutputHelper output)
{
    private static Dictionary<string, GraphTensor> Inputs(float[] dense, long[] sparse, int batch) => new(StringComparer.Ordinal)
    {
        ["dense"] = GraphTensor.FromFloats([batch, CriteoFeatures.DenseCount], dense),
        ["sparse"] = GraphTensor.FromLongs([batch, CriteoFeatures.SparseCount, DlrmTests.Bag], sparse),
    };

    [Fact]
    public void Int8_log_loss_and_auc_stay_close_to_float32_on_the_criteo_sample()
    {
        // QUANTA_TEST_SEED replays a failing run's seed.
        int seed = int.TryParse(Environment.GetEnvironmentVariable("QUANTA_TEST_SEED"), out int s0) ? s0 : Environment.TickCount;
        var (labels, dense, sparse) = DlrmTests.Sample();
        var table = Enumerable.Range(0, CriteoFeatures.SparseCount * DlrmTests.TableRows * DlrmTests.Dim)
            .Select(_ => 0f).ToArray();
        var r = new Random(seed + 1);
        for (int i = 0; i < table.Length; i++) table[i] = (float)((r.NextDouble() * 2 - 1) * 0.5);
        var bytes = DlrmTests.Build(seed, DlrmTests.TableKind.F32, table);
        int n = labels.Length, half = n / 2, per = CriteoFeatures.SparseCount * DlrmTests.Bag;
        var f32 = new GraphSession(OnnxModel.Parse(bytes, "dlrm"));
        var i8 = new GraphSession(OnnxModel.Parse(bytes, "dlrm"));
        // Calibration: the first 100 rows in batches of 10.
        var calibration = Enumerable.Range(0, half / 10).Select(b =>
            (IReadOnlyDictionary<string, GraphTensor>)Inputs(dense[(b * 10 * 13)..((b + 1) * 10 * 13)], sparse[(b * 10 * per)..((b + 1) * 10 * per)], 10));
        var report = GraphQuantizer.Quantize(i8, calibration);
        Assert.Equal(4, report.QuantizedNodes.Count); // bottom 13-32-8 and top 359-16-1 MLPs; the interaction MatMul has no constant weight
        var p32 = f32.Run(Inputs(dense, sparse, n))["prob"].Floats.ToArray();
        var p8 = i8.Run(Inputs(dense, sparse, n))["prob"].Floats.ToArray();
        double maxDiff = p32.Zip(p8, (a, b) => Math.Abs(a - b)).Max();
        double ll32 = DlrmTests.LogLoss(labels, p32), ll8 = DlrmTests.LogLoss(labels, p8);
        double auc32 = DlrmTests.Auc(labels, p32), auc8 = DlrmTests.Auc(labels, p8);
        output.WriteLine($"seed {seed}: log-loss FP32 {ll32:F5} INT8 {ll8:F5} (Δ {ll8 - ll32:+0.00000;-0.00000}); AUC FP32 {auc32:F4} INT8 {auc8:F4} (Δ {auc8 - auc32:+0.0000;-0.0000}); max |Δp| {maxDiff:E2}");
        // Bounds: |Δ log-loss| ≤ 0.01, |Δ AUC| ≤ 0.02, every probability within 0.2. Random weights and a fresh seed per run:
        // over 39 seeds the largest per-sample |Δp| had median 0.048 and maximum 0.122 (5 of 39 above 0.1, so the former
        // 0.1 bound failed about one run in eight); the aggregate log-loss and AUC bounds are the accuracy claim.
        Assert.True(Math.Abs(ll8 - ll32) <= 0.01, $"seed {seed}: log-loss {ll32:F5} vs {ll8:F5}");
        Assert.True(Math.Abs(auc8 - auc32) <= 0.02, $"seed {seed}: AUC {auc32:F4} vs {auc8:F4}");
        Assert.True(maxDiff <= 0.2 && maxDiff > 0, $"seed {seed}: max |Δp| {maxDiff:E2}");
    }
}
