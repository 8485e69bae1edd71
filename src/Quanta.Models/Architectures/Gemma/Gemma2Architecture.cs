using System.Text.Json;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Models.Weights;

namespace Quanta.Models.Architectures.Gemma;

/// <summary>
/// Gemma 2 hooks (GGUF "gemma2", config.json "Gemma2ForCausalLM"), following llama.cpp's gemma2-iswa graph: embeddings ·
/// √dim; per block x += postAttnNorm(attn(attnNorm(x))), x += postFfwNorm(ffn(ffnNorm(x))) with GeGLU (tanh GELU);
/// RoPE NeoX; queries multiplied by the attention scale after RoPE (GGUF: llama.cpp's rule, 1/√HeadDim except the 46-layer
/// 27B model's 1/√(dim/heads); HF: 1/√query_pre_attn_scalar); attention scores soft-capped (gemma2.attn_logit_softcapping,
/// default 50) and final logits soft-capped (gemma2.final_logit_softcapping, default 30); sliding-window attention
/// (gemma2.attention.sliding_window, default 4096) on even layers 0, 2, 4, …, global attention on odd ones; output tied to
/// the embedding. GGUF norm weights already hold 1 + w.
/// </summary>
public sealed class Gemma2Architecture : IArchitecture
{
    /// <summary>The singleton.</summary>
    public static Gemma2Architecture Instance { get; } = new();

    private Gemma2Architecture() { }

    /// <inheritdoc/>
    public string Name => "gemma2";

    /// <inheritdoc/>
    public IReadOnlyList<string> GgufNames { get; } = ["gemma2"];

    /// <inheritdoc/>
    public IReadOnlyList<string> HuggingFaceNames { get; } = ["Gemma2ForCausalLM"];

    /// <summary>Sliding windows of even layers, none on odd layers (llama.cpp's swa pattern 2).</summary>
    public static int[] Windows(int layers, int window)
    {
        var w = new int[layers];
        for (int l = 0; l < layers; l += 2) w[l] = window;
        return w;
    }

    /// <inheritdoc/>
    public ModelConfig ReadConfig(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var c = GgufConventions.ReadConfig(file, Name, RopeLayout.NeoX);
        float F(string key, float fallback) => file.TryGetFloat32(Name + "." + key, out float v) ? v : fallback;
        int window = file.ContainsKey(Name + ".attention.sliding_window") ? checked((int)file.GetInteger(Name + ".attention.sliding_window")) : 4096;
        return GemmaConventions.Apply(c, GemmaConventions.GgufAttentionScale(c, layers27B: 46)) with
        {
            AttentionLogitSoftCap = F("attn_logit_softcapping", 50f),
            FinalLogitSoftCap = F("final_logit_softcapping", 30f),
            SlidingWindows = Windows(c.Layers, window),
        };
    }

    /// <inheritdoc/>
    public ModelWeights LoadWeights(GgufFile file, ModelConfig config) => GgufConventions.LoadWeights(file, config);

    /// <inheritdoc/>
    public ModelConfig ReadConfig(JsonElement huggingFaceConfig)
    {
        GemmaConventions.CheckActivation(huggingFaceConfig);
        // Keys left out take Gemma2Config's defaults (head_dim 256, rope_theta 10000, query_pre_attn_scalar 256,
        // sliding_window 4096, attn_logit_softcapping 50, final_logit_softcapping 30); null turns a soft-cap or the window off.
        var c = GemmaConventions.ReadHuggingFace(huggingFaceConfig, Name, defaultRopeTheta: 10000f);
        float scalar = GemmaConventions.FloatOr(huggingFaceConfig, "query_pre_attn_scalar", 256f);
        int window = (int)GemmaConventions.OptionalFloat(huggingFaceConfig, "sliding_window", 4096);
        return GemmaConventions.Apply(c, 1f / MathF.Sqrt(scalar)) with
        {
            AttentionLogitSoftCap = GemmaConventions.OptionalFloat(huggingFaceConfig, "attn_logit_softcapping", 50f),
            FinalLogitSoftCap = GemmaConventions.OptionalFloat(huggingFaceConfig, "final_logit_softcapping", 30f),
            SlidingWindows = Windows(c.Layers, window),
        };
    }

    /// <inheritdoc/>
    public ModelWeights LoadWeights(SafetensorsCheckpoint checkpoint, ModelConfig config) => GemmaConventions.LoadHuggingFace(checkpoint, config);
}
