namespace Quanta.Models.Weights;

/// <summary>
/// All weights of a decoder-only transformer: token embedding [vocab, dim], layers, final norm [dim], output
/// projection [vocab, dim] (the same object as <see cref="TokenEmbedding"/> when tied) and optional RoPE frequency
/// factors [RotaryDims/2] (llama.cpp's rope_freqs). Disposing frees owned matrices (each once).
/// </summary>
public sealed class ModelWeights : IDisposable
{
    /// <summary>Creates the set; ownership of every matrix passes to this object.</summary>
    public ModelWeights(WeightMatrix tokenEmbedding, IReadOnlyList<LayerWeights> layers, NormWeights outputNorm, WeightMatrix output,
        float[]? ropeFrequencyFactors = null)
    {
        TokenEmbedding = tokenEmbedding ?? throw new ArgumentNullException(nameof(tokenEmbedding));
        Layers = layers ?? throw new ArgumentNullException(nameof(layers));
        OutputNorm = outputNorm ?? throw new ArgumentNullException(nameof(outputNorm));
        Output = output ?? throw new ArgumentNullException(nameof(output));
        RopeFrequencyFactors = ropeFrequencyFactors;
    }

    /// <summary>Token embedding [vocab, dim].</summary>
    public WeightMatrix TokenEmbedding { get; }

    /// <summary>Per-layer weights.</summary>
    public IReadOnlyList<LayerWeights> Layers { get; }

    /// <summary>Final norm [dim].</summary>
    public NormWeights OutputNorm { get; }

    /// <summary>Output projection [vocab, dim].</summary>
    public WeightMatrix Output { get; }

    /// <summary>RoPE frequency divisors per pair, or null.</summary>
    public float[]? RopeFrequencyFactors { get; }

    /// <summary>Every distinct matrix.</summary>
    public IEnumerable<WeightMatrix> Matrices =>
        new[] { TokenEmbedding, Output }.Concat(Layers.SelectMany(l => l.Matrices)).Distinct();

    /// <summary>Frees owned memory.</summary>
    public void Dispose()
    {
        foreach (var m in Matrices) m.Dispose();
    }

    /// <summary>Checks every shape against <paramref name="config"/>; throws naming the first mismatch.</summary>
    public void Validate(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        static void Shape(WeightMatrix m, int rows, int cols, string what)
        {
            if (m.Rows != rows || m.Cols != cols)
                throw new InvalidDataException($"{what} is [{m.Rows}, {m.Cols}], expected [{rows}, {cols}]");
        }
        static void Vec(float[]? v, int n, string what)
        {
            if (v != null && v.Length != n) throw new InvalidDataException($"{what} has {v.Length} elements, expected {n}");
        }
        int d = config.EmbeddingLength;
        if (Layers.Count != config.Layers) throw new InvalidDataException($"{Layers.Count} layers loaded, config says {config.Layers}");
        Shape(TokenEmbedding, config.VocabSize, d, "token embedding");
        Shape(Output, config.VocabSize, d, "output");
        Vec(OutputNorm.Weight, d, "output norm");
        Vec(RopeFrequencyFactors, config.Rope.RotaryDims / 2, "rope frequency factors");
        for (int i = 0; i < Layers.Count; i++)
        {
            var l = Layers[i];
            Shape(l.Query, config.QueryDim, d, $"layer {i} query");
            Shape(l.Key, config.KvDim, d, $"layer {i} key");
            Shape(l.Value, config.KvDim, d, $"layer {i} value");
            Shape(l.Output, d, config.QueryDim, $"layer {i} attention output");
            Shape(l.Gate, config.FeedForwardLength, d, $"layer {i} gate");
            Shape(l.Up, config.FeedForwardLength, d, $"layer {i} up");
            Shape(l.Down, d, config.FeedForwardLength, $"layer {i} down");
            Vec(l.AttentionNorm.Weight, d, $"layer {i} attention norm");
            Vec(l.FeedForwardNorm.Weight, d, $"layer {i} feed-forward norm");
            Vec(l.QueryBias, config.QueryDim, $"layer {i} query bias");
            Vec(l.KeyBias, config.KvDim, $"layer {i} key bias");
            Vec(l.ValueBias, config.KvDim, $"layer {i} value bias");
            Vec(l.QueryNorm?.Weight, config.HeadDim, $"layer {i} query norm");
            Vec(l.KeyNorm?.Weight, config.HeadDim, $"layer {i} key norm");
            Vec(l.PostAttentionNorm?.Weight, d, $"layer {i} post-attention norm");
            Vec(l.PostFeedForwardNorm?.Weight, d, $"layer {i} post-feed-forward norm");
            if (config.QkvBias && (l.QueryBias == null || l.KeyBias == null || l.ValueBias == null))
                throw new InvalidDataException($"layer {i}: config has QKV bias but a bias is missing");
            if (config.QkNorm && (l.QueryNorm == null || l.KeyNorm == null))
                throw new InvalidDataException($"layer {i}: config has Q/K norm but a norm is missing");
            if (config.PostAttentionNorm && l.PostAttentionNorm == null)
                throw new InvalidDataException($"layer {i}: post-attention norm missing");
            if (config.PostFeedForwardNorm && l.PostFeedForwardNorm == null)
                throw new InvalidDataException($"layer {i}: post-feed-forward norm missing");
        }
    }
}
