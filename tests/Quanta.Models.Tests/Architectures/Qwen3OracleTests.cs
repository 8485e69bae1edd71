using Quanta.Core.Formats;
using Quanta.Models.Tests.Support;
using Xunit.Abstractions;

namespace Quanta.Models.Tests.Architectures;

/// <summary>
/// qwen3 against llama.cpp: random-weight GGUF files (dim 256, 4 query heads / 2 KV heads of 128 (wider than dim/heads, via key_length), ffn 256, 2 layers, vocab 512, tied output) with per-head Q/K RMS norms; no biases; NeoX RoPE.
/// </summary>
public sealed class Qwen3OracleTests(ITestOutputHelper output)
{
    /// <summary>Tolerances per format (see <see cref="ArchitectureTolerances"/> for the reasoning).</summary>
    public static TheoryData<string, double> Formats() => ArchitectureTolerances.Standard();

    private static RandomDecoderSpec SpecFor(GgmlType type) => new("qwen3", type)
    {
        HeadDimOverride = 128,
        QkNorm = true,
        FreqBase = 1000000f,
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Logits_and_greedy_tokens_match_llama_cpp(string format, double relTol)
    {
        var type = Enum.Parse<GgmlType>(format);
        OracleHarness.RunSpec(SpecFor(type), "qwen3 " + format, relTol, output, model => Check(model.Config));
    }

    private static void Check(ModelConfig c)
    {
        Assert.True(c.QkNorm);
        Assert.False(c.QkvBias);
        Assert.Equal(128, c.HeadDim);
        Assert.Equal(Quanta.Core.Kernels.Ops.RopeLayout.NeoX, c.Rope.Layout);
    }
}
