using Quanta.Core.Formats;
using Quanta.Models.Tests.Support;
using Xunit.Abstractions;

namespace Quanta.Models.Tests.Architectures;

/// <summary>
/// gemma3 against llama.cpp: random-weight GGUF files (dim 256, 4 query heads / 1 KV head of 128 via key_length, ffn 256, 6 layers so that layer 5 is global, vocab 512, tied) with Q/K norms, post norms, GeGLU, √dim embedding scale, an 8-token sliding window on layers 0-4, global base 1e6 vs local base 10000, no soft-caps.
/// </summary>
public sealed class Gemma3OracleTests(ITestOutputHelper output)
{
    /// <summary>Tolerances per format (see <see cref="ArchitectureTolerances"/> for the reasoning).</summary>
    public static TheoryData<string, double> Formats() => ArchitectureTolerances.Gemma();

    private static RandomDecoderSpec SpecFor(GgmlType type) => new("gemma3", type)
    {
        Layers = 6,
        KvHeads = 1,
        HeadDimOverride = 128,
        QkNorm = true,
        PostNorms = true,
        SlidingWindow = 8,
        FreqBase = 1000000f,
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Logits_and_greedy_tokens_match_llama_cpp(string format, double relTol)
    {
        var type = Enum.Parse<GgmlType>(format);
        OracleHarness.RunSpec(SpecFor(type), "gemma3 " + format, relTol, output, model => Check(model.Config));
    }

    private static void Check(ModelConfig c)
    {
        Assert.Equal([8, 8, 8, 8, 8, 0], c.SlidingWindows);
        Assert.Equal(10000f, c.RopeFor(0).FreqBase);
        Assert.Equal(1000000f, c.RopeFor(5).FreqBase);
        Assert.Equal(0f, c.AttentionLogitSoftCap);
        Assert.Equal(0f, c.FinalLogitSoftCap);
        Assert.True(c.QkNorm);
    }
}
