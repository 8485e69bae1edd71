using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Models.Weights;

namespace Quanta.Models.Architectures;

/// <summary>
/// Adds what a family has beyond the Llama tensor set to a Hugging Face checkpoint's weights: loads the Llama-named
/// tensors with <see cref="HuggingFaceConventions.LoadWeights"/> under a reduced config (the family's extra flags off, so
/// validation does not ask for tensors it does not load), then lets the family rewrite each layer (add Q/K norms,
/// post-norms, rename norms) and validates the result against the full config.
/// </summary>
public static class HuggingFaceLayers
{
    /// <summary>Loads with <paramref name="llamaLike"/>, rewrites each layer with <paramref name="rewrite"/>(index, layer), validates against <paramref name="config"/>.</summary>
    public static ModelWeights Rebuild(SafetensorsCheckpoint checkpoint, ModelConfig config, ModelConfig llamaLike,
        Func<int, LayerWeights, LayerWeights> rewrite, Func<NormWeights, NormWeights>? outputNorm = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(rewrite);
        ModelWeights basic = HuggingFaceConventions.LoadWeights(checkpoint, llamaLike);
        var layers = new LayerWeights[basic.Layers.Count];
        for (int i = 0; i < layers.Length; i++) layers[i] = rewrite(i, basic.Layers[i]);
        var weights = new ModelWeights(basic.TokenEmbedding, layers, outputNorm?.Invoke(basic.OutputNorm) ?? basic.OutputNorm,
            basic.Output, basic.RopeFrequencyFactors);
        weights.Validate(config);
        return weights;
    }
}
