using Quanta.Core.Formats;
using Quanta.Models.Tests.Support;
using Xunit.Abstractions;

namespace Quanta.Models.Tests.Architectures;

/// <summary>
/// qwen2 against llama.cpp: random-weight GGUF files (dim 256, 4 query heads / 2 KV heads of 64, ffn 256, 2 layers, vocab 512, tied output) with Q/K/V biases; NeoX RoPE. Every weight format is compared position by position and over 32 greedy tokens (<see cref="OracleHarness"/>).
/// </summary>
public sealed class Qwen2OracleTests(ITestOutputHelper output)
{
    /// <summary>Tolerances per format (see <see cref="ArchitectureTolerances"/> for the reasoning).</summary>
    public static TheoryData<string, double> Formats() => ArchitectureTolerances.Standard();

    private static RandomDecoderSpec SpecFor(GgmlType type) => new("qwen2", type)
    {
        QkvBias = true,
        FreqBase = 1000000f,
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Logits_and_greedy_tokens_match_llama_cpp(string format, double relTol)
    {
        var type = Enum.Parse<GgmlType>(format);
        OracleHarness.RunSpec(SpecFor(type), "qwen2 " + format, relTol, output, model => Check(model.Config));
    }

    private static void Check(ModelConfig c)
    {
        Assert.True(c.QkvBias);
        Assert.Equal(Quanta.Core.Kernels.Ops.RopeLayout.NeoX, c.Rope.Layout);
    }
}
