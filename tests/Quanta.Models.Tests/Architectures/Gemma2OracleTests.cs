using Quanta.Core.Formats;
using Quanta.Models.Tests.Support;
using Xunit.Abstractions;

namespace Quanta.Models.Tests.Architectures;

/// <summary>
/// gemma2 against llama.cpp: random-weight GGUF files (dim 256, 4 query heads / 2 KV heads of 64, ffn 256, 2 layers, vocab 512, tied) with post-attention and post-FFN norms, GeGLU, √dim embedding scale, attention soft-cap 5 and final soft-cap 15 (small enough to bend the random logits), and an 8-token sliding window on layer 0 (64-token prompts, so the window matters).
/// </summary>
public sealed class Gemma2OracleTests(ITestOutputHelper output)
{
    /// <summary>Tolerances per format (see <see cref="ArchitectureTolerances"/> for the reasoning).</summary>
    public static TheoryData<string, double> Formats() => ArchitectureTolerances.Gemma();

    private static RandomDecoderSpec SpecFor(GgmlType type) => new("gemma2", type)
    {
        PostNorms = true,
        SlidingWindow = 8,
        AttnSoftCap = 5f,
        FinalSoftCap = 15f,
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Logits_and_greedy_tokens_match_llama_cpp(string format, double relTol)
    {
        var type = Enum.Parse<GgmlType>(format);
        OracleHarness.RunSpec(SpecFor(type), "gemma2 " + format, relTol, output, model => Check(model.Config));
    }

    private static void Check(ModelConfig c)
    {
        Assert.Equal([8, 0], c.SlidingWindows);
        Assert.Equal(5f, c.AttentionLogitSoftCap);
        Assert.Equal(15f, c.FinalLogitSoftCap);
        Assert.Equal(FeedForwardActivation.GeluTanh, c.Activation);
        Assert.Equal(16f, c.EmbeddingScale);
        Assert.Equal(1f / 8f, c.EffectiveAttentionScale);
    }
}
