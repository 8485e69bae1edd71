using System.Text.Json;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Models.Weights;

namespace Quanta.Models.Architectures.Gemma;

/// <summary>
/// Gemma 3 text hooks (GGUF "gemma3", config.json "Gemma3ForCausalLM"), following llama.cpp's gemma3-iswa graph: Gemma 2's
/// block (√dim embedding scale, four norms, GeGLU, queries pre-scaled, tied output) plus per-head RMS norms of queries and
/// keys before RoPE, and no attention soft-cap (a final soft-cap only if gemma3.final_logit_softcapping is given).
/// Sliding-window attention (gemma3.attention.sliding_window; none when absent or 0) on every layer except each 6th
/// (layers 5, 11, …, llama.cpp's swa pattern 6); local layers rotate with base 10000 and no scaling, global layers with
/// gemma3.rope.freq_base and the rope.scaling settings. GGUF attention scale: llama.cpp's rule (1/√HeadDim except the
/// 62-layer 27B model's 1/√(dim/heads)); HF: 1/√query_pre_attn_scalar.
/// </summary>
public sealed class Gemma3Architecture : IArchitecture
{
    /// <summary>Every <c>Pattern</c>-th layer (1-based) attends globally.</summary>
    public const int Pattern = 6;

    /// <summary>RoPE base of the local (sliding) layers.</summary>
    public const float LocalFreqBase = 10000f;

    /// <summary>The singleton.</summary>
    public static Gemma3Architecture Instance { get; } = new();

    private Gemma3Architecture() { }

    /// <inheritdoc/>
    public string Name => "gemma3";

    /// <inheritdoc/>
    public IReadOnlyList<string> GgufNames { get; } = ["gemma3"];

    /// <inheritdoc/>
    public IReadOnlyList<string> HuggingFaceNames { get; } = ["Gemma3ForCausalLM"];

    /// <summary>Window <paramref name="window"/> on layers with l mod pattern &lt; pattern − 1, none on the others.</summary>
    public static int[] Windows(int layers, int window, int pattern = Pattern)
    {
        var w = new int[layers];
        for (int l = 0; l < layers; l++) w[l] = l % pattern < pattern - 1 ? window : 0;
        return w;
    }

    private static ModelConfig WithSliding(ModelConfig c, int[] windows, float localBase) =>
        windows.Any(w => w > 0)
            ? c with { SlidingWindows = windows, SlidingRope = new RopeParameters(c.Rope.RotaryDims, RopeLayout.NeoX, localBase) }
            : c;

    /// <inheritdoc/>
    public ModelConfig ReadConfig(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var c = GgufConventions.ReadConfig(file, Name, RopeLayout.NeoX);
        int window = file.ContainsKey(Name + ".attention.sliding_window") ? checked((int)file.GetInteger(Name + ".attention.sliding_window")) : 0;
        c = GemmaConventions.Apply(c, GemmaConventions.GgufAttentionScale(c, layers27B: 62)) with
        {
            QkNorm = true,
            FinalLogitSoftCap = file.TryGetFloat32(Name + ".final_logit_softcapping", out float cap) ? cap : 0f,
        };
        return window > 0 ? WithSliding(c, Windows(c.Layers, window), LocalFreqBase) : c;
    }

    /// <inheritdoc/>
    public ModelWeights LoadWeights(GgufFile file, ModelConfig config) => GgufConventions.LoadWeights(file, config);

    /// <inheritdoc/>
    public ModelConfig ReadConfig(JsonElement huggingFaceConfig)
    {
        JsonElement root = huggingFaceConfig;
        GemmaConventions.CheckActivation(root);
        // Keys left out take Gemma3TextConfig's defaults (head_dim 256, rope_theta 1e6, query_pre_attn_scalar 256,
        // sliding_window 4096, rope_local_base_freq 10000, no soft-caps); null turns a soft-cap or the window off.
        var c = GemmaConventions.ReadHuggingFace(root, Name, defaultRopeTheta: 1000000f);
        float scalar = GemmaConventions.FloatOr(root, "query_pre_attn_scalar", 256f);
        c = GemmaConventions.Apply(c, 1f / MathF.Sqrt(scalar)) with
        {
            QkNorm = true,
            AttentionLogitSoftCap = GemmaConventions.FloatOr(root, "attn_logit_softcapping", 0f),
            FinalLogitSoftCap = GemmaConventions.FloatOr(root, "final_logit_softcapping", 0f),
        };
        int window = (int)GemmaConventions.OptionalFloat(root, "sliding_window", 4096);
        if (window <= 0) return c;
        int[] windows;
        if (root.TryGetProperty("layer_types", out var types) && types.ValueKind == JsonValueKind.Array)
        {
            windows = types.EnumerateArray().Select(t => t.GetString() == "sliding_attention" ? window : 0).ToArray();
        }
        else
        {
            windows = Windows(c.Layers, window, (int)GemmaConventions.FloatOr(root, "sliding_window_pattern", Pattern));
        }
        return WithSliding(c, windows, GemmaConventions.FloatOr(root, "rope_local_base_freq", LocalFreqBase));
    }

    /// <inheritdoc/>
    public ModelWeights LoadWeights(SafetensorsCheckpoint checkpoint, ModelConfig config) => GemmaConventions.LoadHuggingFace(checkpoint, config);
}
