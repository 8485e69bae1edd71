using System.Text.Json;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Models.Weights;

namespace Quanta.Models.Architectures.Qwen3;

/// <summary>
/// Qwen3 dense hooks (GGUF "qwen3", config.json "Qwen3ForCausalLM"): the Llama block without Q/K/V biases but with a
/// per-head RMS norm of queries and keys (attn_q_norm / attn_k_norm, [HeadDim], the model's RMS epsilon) applied after
/// the projections and before RoPE; RoPE in the NeoX layout; head dim from attention.key_length (Qwen3 heads are
/// wider than dim/heads). Output tied when output.weight is absent.
/// </summary>
public sealed class Qwen3Architecture : IArchitecture
{
    /// <summary>The singleton.</summary>
    public static Qwen3Architecture Instance { get; } = new();

    private Qwen3Architecture() { }

    /// <inheritdoc/>
    public string Name => "qwen3";

    /// <inheritdoc/>
    public IReadOnlyList<string> GgufNames { get; } = ["qwen3"];

    /// <inheritdoc/>
    public IReadOnlyList<string> HuggingFaceNames { get; } = ["Qwen3ForCausalLM"];

    /// <inheritdoc/>
    public ModelConfig ReadConfig(GgufFile file) =>
        GgufConventions.ReadConfig(file, Name, RopeLayout.NeoX) with { QkNorm = true };

    /// <inheritdoc/>
    public ModelWeights LoadWeights(GgufFile file, ModelConfig config) => GgufConventions.LoadWeights(file, config);

    /// <inheritdoc/>
    public ModelConfig ReadConfig(JsonElement huggingFaceConfig) =>
        HuggingFaceConventions.ReadConfig(huggingFaceConfig, Name) with { QkNorm = true };

    /// <inheritdoc/>
    public ModelWeights LoadWeights(SafetensorsCheckpoint checkpoint, ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(config);
        int hd = config.HeadDim;
        return HuggingFaceLayers.Rebuild(checkpoint, config, config with { QkNorm = false }, (i, l) => l with
        {
            QueryNorm = new NormWeights(HuggingFaceConventions.Vector(checkpoint, $"model.layers.{i}.self_attn.q_norm.weight", hd)),
            KeyNorm = new NormWeights(HuggingFaceConventions.Vector(checkpoint, $"model.layers.{i}.self_attn.k_norm.weight", hd)),
        });
    }
}
