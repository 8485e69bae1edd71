using System.Text.Json;
using Quanta.Models.Architectures.Gemma;

namespace Quanta.Models.Tests.HuggingFace;

/// <summary>
/// config.json keys a Gemma checkpoint may leave out take the transformers config class's defaults (Gemma2Config:
/// head_dim 256, rope_theta 10000, query_pre_attn_scalar 256, sliding_window 4096, attn_logit_softcapping 50,
/// final_logit_softcapping 30; Gemma3TextConfig: head_dim 256, rope_theta 1e6, query_pre_attn_scalar 256,
/// sliding_window 4096, rope_local_base_freq 10000, no soft-caps), while an explicit null turns a soft-cap off, as
/// modeling_gemma2.py's "if ... is not None" does. The expected values are those class defaults, not the loader's.
/// </summary>
public sealed class GemmaConfigDefaultsTests
{
    private const string Minimal = """
        "hidden_size":64,"intermediate_size":128,"num_attention_heads":4,"num_key_value_heads":2,"num_hidden_layers":6,
        "vocab_size":256,"hidden_activation":"gelu_pytorch_tanh"
        """;

    private static JsonElement Json(string s) => JsonDocument.Parse(s).RootElement;

    [Fact]
    public void Gemma2_missing_keys_take_Gemma2Config_defaults()
    {
        var c = Gemma2Architecture.Instance.ReadConfig(Json("{\"architectures\":[\"Gemma2ForCausalLM\"]," + Minimal + "}"));
        Assert.Equal(256, c.HeadDim);                  // not 64/4
        Assert.Equal(256, c.Rope.RotaryDims);
        Assert.Equal(10000f, c.Rope.FreqBase);
        Assert.Equal(1f / 16f, c.EffectiveAttentionScale); // 1/√256
        Assert.Equal(50f, c.AttentionLogitSoftCap);
        Assert.Equal(30f, c.FinalLogitSoftCap);
        Assert.Equal([4096, 0, 4096, 0, 4096, 0], c.SlidingWindows);
    }

    [Fact]
    public void Gemma2_null_softcaps_are_off()
    {
        var c = Gemma2Architecture.Instance.ReadConfig(Json("{\"architectures\":[\"Gemma2ForCausalLM\"]," + Minimal +
            ",\"head_dim\":16,\"attn_logit_softcapping\":null,\"final_logit_softcapping\":null}"));
        Assert.Equal(16, c.HeadDim);
        Assert.Equal(0f, c.AttentionLogitSoftCap);
        Assert.Equal(0f, c.FinalLogitSoftCap);
    }

    [Fact]
    public void Gemma3_missing_keys_take_Gemma3TextConfig_defaults()
    {
        var c = Gemma3Architecture.Instance.ReadConfig(Json("{\"architectures\":[\"Gemma3ForCausalLM\"]," + Minimal + "}"));
        Assert.Equal(256, c.HeadDim);
        Assert.Equal(1f / 16f, c.EffectiveAttentionScale);
        Assert.Equal([4096, 4096, 4096, 4096, 4096, 0], c.SlidingWindows);
        Assert.Equal(1000000f, c.RopeFor(5).FreqBase);
        Assert.Equal(10000f, c.RopeFor(0).FreqBase);
        Assert.Equal(256, c.RopeFor(0).RotaryDims);
        Assert.Equal(0f, c.AttentionLogitSoftCap);
        Assert.Equal(0f, c.FinalLogitSoftCap);
    }
}
