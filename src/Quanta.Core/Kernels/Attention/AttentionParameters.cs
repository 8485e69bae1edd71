namespace Quanta.Core.Kernels.Attention;

/// <summary>
/// Shape and options of grouped-query causal attention.
/// Query head h reads KV head h / (Heads / KvHeads). <see cref="Scale"/> multiplies q·k (0 means 1/√HeadDim);
/// <see cref="SlidingWindow"/> W &gt; 0 limits a token at position p to positions p−W+1..p (W positions, itself included);
/// <see cref="SoftCap"/> c &gt; 0 replaces each scaled score s by c·tanh(s/c) (Gemma 2).
/// </summary>
public readonly record struct AttentionParameters(int Heads, int KvHeads, int HeadDim)
{
    /// <summary>Score scale; 0 selects 1/√HeadDim.</summary>
    public float Scale { get; init; }

    /// <summary>Sliding window in positions; 0 means none.</summary>
    public int SlidingWindow { get; init; }

    /// <summary>Logit soft-cap; 0 means none.</summary>
    public float SoftCap { get; init; }

    /// <summary>The scale actually used.</summary>
    public float EffectiveScale => Scale != 0f ? Scale : 1f / MathF.Sqrt(HeadDim);
}
