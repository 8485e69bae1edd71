using System.Diagnostics;
using Quanta.Models.Tests.Embeddings;
using Xunit.Abstractions;

namespace Quanta.Models.Tests.Vision;

/// <summary>
/// Batch-1 speed of INT8 against our FP32 and ONNX Runtime FP32 (2 intra-op threads), best of QUANTA_MEASURE_ITERS
/// (default 3) runs each: ResNet-18 images/s and MiniLM (16 tokens) sentences/s. Not a timed test: prints only.
/// </summary>
[Trait("Category", "Measurement")]
public sealed class Int8SpeedMeasurement(ResNet18Int8Fixture rq, ResNet18Fixture rn, MiniLmInt8Fixture lq, MiniLmFixture lm, ITestOutputHelper output)
    : IClassFixture<ResNet18Int8Fixture>, IClassFixture<ResNet18Fixture>, IClassFixture<MiniLmInt8Fixture>, IClassFixture<MiniLmFixture>
{
    private static int Iters => int.TryParse(Environment.GetEnvironmentVariable("QUANTA_MEASURE_ITERS"), out int n) && n > 0 ? n : 3;

    private static double Best(Action run)
    {
        run();
        double best = double.MaxValue;
        for (int i = 0; i < Iters; i++) { var sw = Stopwatch.StartNew(); run(); best = Math.Min(best, sw.Elapsed.TotalSeconds); }
        return 1 / best;
    }

    [Fact]
    public void Int8_speed_against_float32_and_onnx_runtime()
    {
        var chw = ResNet18Int8Fixture.Chw("chelsea.png");
        var input = rq.NetInput(chw);
        double i8 = Best(() => rq.Features(rq.Int8, input));
        double f32 = Best(() => rq.Features(rq.Float, input));
        double ort = Best(() => rn.OrtFeatures(chw));
        output.WriteLine($"ResNet-18 batch 1 (best of {Iters}): INT8 {i8:F2}/s, our FP32 {f32:F2}/s, ORT FP32 {ort:F2}/s; INT8/FP32 {i8 / f32:F2}, INT8/ORT {i8 / ort:F2}");
        var ids = lq.Ids("The quick brown fox jumps over the lazy dog near the river bank.");
        double q = Best(() => MiniLmInt8Fixture.Embed(lq.Int8, ids));
        double d = Best(() => MiniLmInt8Fixture.Embed(lq.Dynamic, ids));
        double f = Best(() => MiniLmInt8Fixture.Embed(lq.Float, ids));
        double o = Best(() => lm.OrtHidden(ids));
        output.WriteLine($"MiniLM batch 1 × {ids.Length} tokens (best of {Iters}): INT8 {q:F1}/s, INT8 dynamic {d:F1}/s, our FP32 {f:F1}/s, ORT FP32 {o:F1}/s; INT8/FP32 {q / f:F2}, INT8/ORT {q / o:F2}");
        Assert.True(i8 > 0 && q > 0);
    }
}
