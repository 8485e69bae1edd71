using Quanta.Core.Formats;
using Quanta.Models.Tests.Support;
using Xunit.Abstractions;

namespace Quanta.Models.Tests.Architectures;

/// <summary>
/// phi3 against llama.cpp: random-weight GGUF files (dim 256, 4 heads / 4 KV heads of 64, ffn 256, 2 layers, vocab 512, tied output) with the fused attn_qkv and fused gate-up ffn_up tensors, sliding_window 0 (llama.cpp disables Phi-3 SWA), NeoX RoPE, queries pre-scaled.
/// </summary>
public sealed class Phi3OracleTests(ITestOutputHelper output)
{
    /// <summary>Tolerances per format (see <see cref="ArchitectureTolerances"/> for the reasoning).</summary>
    public static TheoryData<string, double> Formats() => ArchitectureTolerances.Standard();

    private static RandomDecoderSpec SpecFor(GgmlType type) => new("phi3", type)
    {
        KvHeads = 4,
        FusedQkv = true,
        FusedGateUp = true,
        SlidingWindow = 0,
        // llama.cpp's vocabulary loader looks up "<|endoftext|>" by text for phi3 (std::map::at: without it the load
        // fails with "error loading model vocabulary: _Map_base::at").
        SpecialTokens = ["<|endoftext|>"],
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Logits_and_greedy_tokens_match_llama_cpp(string format, double relTol)
    {
        var type = Enum.Parse<GgmlType>(format);
        OracleHarness.RunSpec(SpecFor(type), "phi3 " + format, relTol, output, model => Check(model.Config));
    }

    private static void Check(ModelConfig c)
    {
        Assert.True(c.ScaleQueryBeforeAttention);
        Assert.All(c.SlidingWindows, w => Assert.Equal(0, w));
        Assert.Equal(Quanta.Core.Kernels.Ops.RopeLayout.NeoX, c.Rope.Layout);
    }
}
