using System.Text.Json;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Models.Weights;

namespace Quanta.Models.Architectures.Qwen2;

/// <summary>
/// Qwen2 / Qwen2.5 hooks (GGUF "qwen2", config.json "Qwen2ForCausalLM"): the Llama block with biases on the Q, K and V
/// projections (always present), RMS norm, SwiGLU, grouped-query attention, and RoPE in the NeoX (rotate-half) layout
/// (llama.cpp's LLAMA_ROPE_TYPE_NEOX: its converter does not permute Qwen's Q/K rows). Output tied to the embedding when
/// output.weight is absent (small Qwen2.5 models). config.json's use_sliding_window (off in released models) is ignored.
/// </summary>
public sealed class Qwen2Architecture : IArchitecture
{
    /// <summary>The singleton.</summary>
    public static Qwen2Architecture Instance { get; } = new();

    private Qwen2Architecture() { }

    /// <inheritdoc/>
    public string Name => "qwen2";

    /// <inheritdoc/>
    public IReadOnlyList<string> GgufNames { get; } = ["qwen2"];

    /// <inheritdoc/>
    public IReadOnlyList<string> HuggingFaceNames { get; } = ["Qwen2ForCausalLM"];

    /// <inheritdoc/>
    public ModelConfig ReadConfig(GgufFile file) =>
        GgufConventions.ReadConfig(file, Name, RopeLayout.NeoX) with { QkvBias = true };

    /// <inheritdoc/>
    public ModelWeights LoadWeights(GgufFile file, ModelConfig config) => GgufConventions.LoadWeights(file, config);

    /// <inheritdoc/>
    public ModelConfig ReadConfig(JsonElement huggingFaceConfig) =>
        HuggingFaceConventions.ReadConfig(huggingFaceConfig, Name) with { QkvBias = true };

    /// <inheritdoc/>
    public ModelWeights LoadWeights(SafetensorsCheckpoint checkpoint, ModelConfig config) => HuggingFaceConventions.LoadWeights(checkpoint, config);
}
