using System.Text.Json;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Models.Weights;

namespace Quanta.Models.Architectures.Gemma;

/// <summary>
/// What Gemma 2 and Gemma 3 share: the GeGLU (tanh GELU) feed-forward, embeddings scaled by √dim, the four norms per
/// block (pre/post attention, pre/post feed-forward), queries scaled before attention, tied output, llama.cpp's
/// attention-scale rule for GGUF files, and the Hugging Face norm convention: HF Gemma norms compute x̂·(1 + w), and
/// llama.cpp's converter stores 1 + w in GGUF, so GGUF norm weights are used as stored and HF ones get 1 added.
/// </summary>
public static class GemmaConventions
{
    /// <summary>
    /// llama.cpp's Gemma 2/3 attention scale for GGUF (which carries no query_pre_attn_scalar): 1/√(dim/heads) for the
    /// 27B models (identified, as llama.cpp does, by their layer count <paramref name="layers27B"/>), else 1/√HeadDim.
    /// </summary>
    public static float GgufAttentionScale(ModelConfig c, int layers27B)
    {
        ArgumentNullException.ThrowIfNull(c);
        return c.Layers == layers27B
            ? 1f / MathF.Sqrt(c.EmbeddingLength / c.Heads)
            : 1f / MathF.Sqrt(c.HeadDim);
    }

    /// <summary>The Gemma settings common to both generations applied to a Llama-style base config.</summary>
    public static ModelConfig Apply(ModelConfig c, float attentionScale)
    {
        ArgumentNullException.ThrowIfNull(c);
        return c with
        {
            Activation = FeedForwardActivation.GeluTanh,
            EmbeddingScale = MathF.Sqrt(c.EmbeddingLength),
            PostAttentionNorm = true,
            PostFeedForwardNorm = true,
            ScaleQueryBeforeAttention = true,
            AttentionScale = attentionScale,
            TiedOutput = true,
        };
    }

    /// <summary>A number from config.json, or <paramref name="fallback"/> when the key is missing or null.</summary>
    public static float FloatOr(JsonElement root, string key, float fallback) =>
        root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetSingle() : fallback;

    /// <summary>
    /// A setting transformers treats as optional (None turns it off): the number when given, 0 (off) when the key is
    /// null, and <paramref name="whenAbsent"/> (the transformers config class's default) when the key is missing.
    /// </summary>
    public static float OptionalFloat(JsonElement root, string key, float whenAbsent) =>
        !root.TryGetProperty(key, out var v) ? whenAbsent
        : v.ValueKind == JsonValueKind.Number ? v.GetSingle()
        : 0f;

    /// <summary>Head dimension of Gemma2Config / Gemma3TextConfig when config.json leaves head_dim out (not hidden/heads).</summary>
    public const int DefaultHeadDim = 256;

    /// <summary>
    /// The Llama-style config with the Gemma config classes' defaults for keys config.json leaves out: head_dim 256
    /// (transformers does not derive it from hidden_size / heads for Gemma) and rope_theta <paramref name="defaultRopeTheta"/>.
    /// </summary>
    public static ModelConfig ReadHuggingFace(JsonElement root, string arch, float defaultRopeTheta)
    {
        var c = HuggingFaceConventions.ReadConfig(root, arch);
        if (!root.TryGetProperty("head_dim", out var h) || h.ValueKind != JsonValueKind.Number)
            c = c with { HeadDim = DefaultHeadDim, Rope = c.Rope with { RotaryDims = DefaultHeadDim } };
        if (!root.TryGetProperty("rope_theta", out var t) || t.ValueKind != JsonValueKind.Number)
            c = c with { Rope = c.Rope with { FreqBase = defaultRopeTheta } };
        return c;
    }

    /// <summary>Checks config.json's activation (hidden_activation, else hidden_act) is the tanh GELU.</summary>
    public static void CheckActivation(JsonElement root)
    {
        string? act = root.TryGetProperty("hidden_activation", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()
            : root.TryGetProperty("hidden_act", out a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        if (act is not null and not "gelu_pytorch_tanh" and not "gelu_tanh")
            throw new NotSupportedException($"Gemma activation '{act}' is not supported (gelu_pytorch_tanh)");
    }

    /// <summary>An HF Gemma norm weight w as the x̂·w form the runtime computes (1 + w).</summary>
    public static NormWeights PlusOne(NormWeights n)
    {
        ArgumentNullException.ThrowIfNull(n);
        var w = new float[n.Weight.Length];
        for (int i = 0; i < w.Length; i++) w[i] = 1f + n.Weight[i];
        return new NormWeights(w, n.Bias);
    }

    /// <summary>
    /// Loads an HF Gemma 2/3 checkpoint: input_layernorm (attention norm), post_attention_layernorm (post-attention norm,
    /// not the feed-forward norm as in Llama), pre_feedforward_layernorm, post_feedforward_layernorm, q_norm/k_norm when
    /// <see cref="ModelConfig.QkNorm"/>, final norm; every norm gets 1 added.
    /// </summary>
    public static ModelWeights LoadHuggingFace(SafetensorsCheckpoint ckpt, ModelConfig c)
    {
        ArgumentNullException.ThrowIfNull(ckpt);
        ArgumentNullException.ThrowIfNull(c);
        int d = c.EmbeddingLength, hd = c.HeadDim;
        NormWeights Norm(string name, int n) => PlusOne(new NormWeights(HuggingFaceConventions.Vector(ckpt, name, n)));
        var llamaLike = c with { QkNorm = false, PostAttentionNorm = false, PostFeedForwardNorm = false };
        return HuggingFaceLayers.Rebuild(ckpt, c, llamaLike, (i, l) =>
        {
            string b = $"model.layers.{i}.";
            return l with
            {
                AttentionNorm = PlusOne(l.AttentionNorm),
                PostAttentionNorm = PlusOne(l.FeedForwardNorm),   // HF post_attention_layernorm, loaded in the Llama slot
                FeedForwardNorm = Norm(b + "pre_feedforward_layernorm.weight", d),
                PostFeedForwardNorm = Norm(b + "post_feedforward_layernorm.weight", d),
                QueryNorm = c.QkNorm ? Norm(b + "self_attn.q_norm.weight", hd) : null,
                KeyNorm = c.QkNorm ? Norm(b + "self_attn.k_norm.weight", hd) : null,
            };
        }, PlusOne);
    }
}
