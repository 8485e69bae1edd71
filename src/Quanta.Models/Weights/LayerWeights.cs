namespace Quanta.Models.Weights;

/// <summary>
/// One transformer block's weights. Matrices are [out, in]: Q [Heads·HeadDim, dim], K and V [KvHeads·HeadDim, dim],
/// O [dim, Heads·HeadDim], Gate and Up [ffn, dim], Down [dim, ffn]. Optional members are null when the architecture
/// does not use them (see the flags in <see cref="ModelConfig"/>).
/// </summary>
public sealed record LayerWeights
{
    /// <summary>Norm before attention, [dim].</summary>
    public required NormWeights AttentionNorm { get; init; }

    /// <summary>Query projection.</summary>
    public required WeightMatrix Query { get; init; }

    /// <summary>Key projection.</summary>
    public required WeightMatrix Key { get; init; }

    /// <summary>Value projection.</summary>
    public required WeightMatrix Value { get; init; }

    /// <summary>Attention output projection.</summary>
    public required WeightMatrix Output { get; init; }

    /// <summary>Query bias [Heads·HeadDim] (QkvBias).</summary>
    public float[]? QueryBias { get; init; }

    /// <summary>Key bias [KvHeads·HeadDim] (QkvBias).</summary>
    public float[]? KeyBias { get; init; }

    /// <summary>Value bias [KvHeads·HeadDim] (QkvBias).</summary>
    public float[]? ValueBias { get; init; }

    /// <summary>Per-head query norm [HeadDim] (QkNorm).</summary>
    public NormWeights? QueryNorm { get; init; }

    /// <summary>Per-head key norm [HeadDim] (QkNorm).</summary>
    public NormWeights? KeyNorm { get; init; }

    /// <summary>Norm of the attention output [dim] (PostAttentionNorm).</summary>
    public NormWeights? PostAttentionNorm { get; init; }

    /// <summary>Norm before the feed-forward, [dim].</summary>
    public required NormWeights FeedForwardNorm { get; init; }

    /// <summary>Feed-forward gate projection.</summary>
    public required WeightMatrix Gate { get; init; }

    /// <summary>Feed-forward up projection.</summary>
    public required WeightMatrix Up { get; init; }

    /// <summary>Feed-forward down projection.</summary>
    public required WeightMatrix Down { get; init; }

    /// <summary>Norm of the feed-forward output [dim] (PostFeedForwardNorm).</summary>
    public NormWeights? PostFeedForwardNorm { get; init; }

    /// <summary>The matrices of this block.</summary>
    public IEnumerable<WeightMatrix> Matrices => [Query, Key, Value, Output, Gate, Up, Down];
}
