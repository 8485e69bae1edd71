namespace Quanta.Models.Weights;

/// <summary>Weights of one normalization: <see cref="Weight"/> [dim] and, for layer norm, an optional <see cref="Bias"/> [dim].</summary>
public sealed record NormWeights(float[] Weight, float[]? Bias = null)
{
    /// <summary>Elements normalized.</summary>
    public int Length => Weight.Length;
}
