using System.Text.Json;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Models.Weights;

namespace Quanta.Models.Architectures.Llama;

/// <summary>
/// Llama family hooks: Llama 2, Llama 3/3.1/3.2 and Mistral 7B (all GGUF architecture "llama"; config.json
/// "LlamaForCausalLM" / "MistralForCausalLM"). RMS norm, SwiGLU, no biases (optional attn_q/k/v bias is honoured when a
/// file has it), grouped-query attention, RoPE with llama.cpp's LLAMA_ROPE_TYPE_NORM (adjacent pairs) because llama.cpp's
/// converter permutes the Q/K rows of HF checkpoints; HF safetensors use the NeoX (rotate-half) layout instead. Llama 3.1
/// scaling comes from the rope_freqs tensor (GGUF) or the "llama3" rope_scaling block (config.json). Mistral's
/// sliding window (config "sliding_window") is applied to every layer when present.
/// </summary>
public sealed class LlamaArchitecture : IArchitecture
{
    /// <summary>The singleton.</summary>
    public static LlamaArchitecture Instance { get; } = new();

    private LlamaArchitecture() { }

    /// <inheritdoc/>
    public string Name => "llama";

    /// <inheritdoc/>
    public IReadOnlyList<string> GgufNames { get; } = ["llama"];

    /// <inheritdoc/>
    public IReadOnlyList<string> HuggingFaceNames { get; } = ["LlamaForCausalLM", "MistralForCausalLM"];

    /// <inheritdoc/>
    public ModelConfig ReadConfig(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var c = GgufConventions.ReadConfig(file, Name, RopeLayout.Normal);
        return c with { QkvBias = file.TryGetTensor("blk.0.attn_q.bias", out _) };
    }

    /// <inheritdoc/>
    public ModelWeights LoadWeights(GgufFile file, ModelConfig config) => GgufConventions.LoadWeights(file, config);

    /// <inheritdoc/>
    public ModelConfig ReadConfig(JsonElement huggingFaceConfig)
    {
        var c = HuggingFaceConventions.ReadConfig(huggingFaceConfig, Name);
        if (huggingFaceConfig.TryGetProperty("sliding_window", out var w) && w.ValueKind == JsonValueKind.Number && w.GetInt32() > 0)
            c = c with { SlidingWindows = Enumerable.Repeat(w.GetInt32(), c.Layers).ToArray() };
        return c;
    }

    /// <inheritdoc/>
    public ModelWeights LoadWeights(SafetensorsCheckpoint checkpoint, ModelConfig config) => HuggingFaceConventions.LoadWeights(checkpoint, config);
}
