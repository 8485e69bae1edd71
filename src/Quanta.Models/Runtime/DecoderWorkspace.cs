using Quanta.Core.Kernels.Attention;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.Threading;
using Quanta.Models.Weights;

namespace Quanta.Models.Runtime;

/// <summary>
/// Preallocated buffers for <see cref="DecoderModel.Forward"/> over chunks of up to <see cref="MaxChunk"/> tokens at
/// positions below <see cref="MaxPositions"/>, plus the RoPE tables for those positions and the worker pool the
/// matrix products and attention run on. One workspace per concurrently running sequence; after construction nothing
/// here allocates.
/// </summary>
public sealed class DecoderWorkspace
{
    /// <summary>Rows of logits computed per output product (bounds the logits buffer to LogitRows·vocab floats).</summary>
    public const int LogitRows = 8;

    /// <summary>Creates buffers sized for <paramref name="config"/>, chunks of <paramref name="maxChunk"/> tokens and
    /// positions [0, <paramref name="maxPositions"/>).</summary>
    public DecoderWorkspace(ModelConfig config, ModelWeights weights, int maxChunk, int maxPositions, WorkerPool pool)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxChunk);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPositions);
        Pool = pool ?? throw new ArgumentNullException(nameof(pool));
        MaxChunk = maxChunk;
        MaxPositions = maxPositions;
        int d = config.EmbeddingLength, ffn = config.FeedForwardLength;
        X = new float[maxChunk * d];
        Xn = new float[maxChunk * d];
        Q = new float[maxChunk * config.QueryDim];
        K = new float[maxChunk * config.KvDim];
        V = new float[maxChunk * config.KvDim];
        Attn = new float[maxChunk * config.QueryDim];
        Proj = new float[maxChunk * d];
        Gate = new float[maxChunk * ffn];
        Up = new float[maxChunk * ffn];
        Logits = new float[Math.Min(maxChunk, LogitRows) * config.VocabSize];
        AttentionScratchLength = CausalAttention.ScratchLength(maxPositions, config.HeadDim);
        AttentionScratch = new float[pool.ThreadCount * AttentionScratchLength];
        long scratch = 0;
        foreach (WeightMatrix m in weights.Matrices)
            scratch = Math.Max(scratch, Quanta.Core.Kernels.MatMul.ScratchBytes(m.Kernel, maxChunk, m.Cols));
        MatMulScratch = new byte[checked((int)scratch)];
        Rope = new GgmlRopeTables(config.Rope, maxPositions, weights.RopeFrequencyFactors);
        SlidingRope = config.SlidingRope is { } sr ? new GgmlRopeTables(sr, maxPositions, weights.RopeFrequencyFactors) : Rope;
    }

    /// <summary>Most tokens per forward call.</summary>
    public int MaxChunk { get; }

    /// <summary>Positions covered by the RoPE tables and attention scratch.</summary>
    public int MaxPositions { get; }

    /// <summary>The pool matrix products and attention run on.</summary>
    public WorkerPool Pool { get; }

    /// <summary>RoPE tables for positions [0, MaxPositions).</summary>
    public GgmlRopeTables Rope { get; }

    /// <summary>RoPE tables of the sliding-window layers (<see cref="ModelConfig.SlidingRope"/>); the same object as <see cref="Rope"/> when unset.</summary>
    public GgmlRopeTables SlidingRope { get; }

    /// <summary>The tables layer <paramref name="layer"/> of <paramref name="config"/> rotates with.</summary>
    public GgmlRopeTables RopeFor(ModelConfig config, int layer)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.SlidingWindow(layer) > 0 ? SlidingRope : Rope;
    }

    internal readonly float[] X;      // [MaxChunk, dim]   residual stream
    internal readonly float[] Xn;     // [MaxChunk, dim]   normalized input of a sub-layer (and of the output head)
    internal readonly float[] Q;      // [MaxChunk, Heads·HeadDim]
    internal readonly float[] K;      // [MaxChunk, KvHeads·HeadDim]
    internal readonly float[] V;      // [MaxChunk, KvHeads·HeadDim]
    internal readonly float[] Attn;   // [MaxChunk, Heads·HeadDim] attention output before the O projection
    internal readonly float[] Proj;   // [MaxChunk, dim]   sub-layer output before the residual add
    internal readonly float[] Gate;   // [MaxChunk, ffn]   gate projection, then act(gate)·up
    internal readonly float[] Up;     // [MaxChunk, ffn]
    internal readonly float[] Logits; // [min(MaxChunk, LogitRows), vocab]
    internal readonly float[] AttentionScratch; // [ThreadCount, AttentionScratchLength]
    internal readonly int AttentionScratchLength;
    internal readonly byte[] MatMulScratch;     // [MaxChunk, ActivationRowBytes] for the widest matrix
}
