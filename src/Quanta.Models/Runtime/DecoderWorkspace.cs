using Quanta.Core.Kernels.Attention;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.Threading;
using Quanta.Models.KvCache;
using Quanta.Models.Weights;

namespace Quanta.Models.Runtime;

/// <summary>
/// Preallocated buffers for <see cref="DecoderModel.Forward"/> and <see cref="DecoderModel.ForwardBatch(ReadOnlySpan{ForwardSegment}, Span{float}, DecoderWorkspace)"/>
/// over up to <see cref="MaxChunk"/> tokens in total, split into up to <see cref="MaxSegments"/> segments, at positions
/// below <see cref="MaxPositions"/>, plus the RoPE tables for those positions and the worker pool the matrix products
/// and attention run on. One workspace per concurrent caller; after construction nothing here allocates.
/// </summary>
public sealed class DecoderWorkspace
{
    /// <summary>Creates buffers sized for <paramref name="config"/>, one segment of up to <paramref name="maxChunk"/>
    /// tokens and positions [0, <paramref name="maxPositions"/>).</summary>
    public DecoderWorkspace(ModelConfig config, ModelWeights weights, int maxChunk, int maxPositions, WorkerPool pool)
        : this(config, weights, maxChunk, 1, maxPositions, pool)
    {
    }

    /// <summary>Creates buffers sized for <paramref name="config"/>, batches of up to <paramref name="maxTokens"/> tokens
    /// in total over up to <paramref name="maxSegments"/> segments, and positions [0, <paramref name="maxPositions"/>).</summary>
    public DecoderWorkspace(ModelConfig config, ModelWeights weights, int maxTokens, int maxSegments, int maxPositions, WorkerPool pool)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSegments);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPositions);
        Pool = pool ?? throw new ArgumentNullException(nameof(pool));
        int maxChunk = maxTokens;
        MaxChunk = maxTokens;
        MaxSegments = maxSegments;
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
        Tokens = new int[maxChunk];
        TokenSegment = new int[maxChunk];
        TokenPosition = new int[maxChunk];
        AttentionBlocks = new int[maxChunk];
        AttentionBlockEnds = new int[maxChunk];
        SegmentLength = new int[maxSegments];
        SegmentKv = new IKvCacheView[maxSegments];
        AttentionScratchLength = CausalAttention.ScratchLength(maxPositions, config.HeadDim);
        AttentionScratch = new float[pool.ThreadCount * AttentionScratchLength];
        long scratch = 0;
        foreach (WeightMatrix m in weights.Matrices)
            scratch = Math.Max(scratch, Quanta.Core.Kernels.MatMul.ScratchBytes(m.Kernel, maxChunk, m.Cols));
        // the fused feed-forward holds the gate/up and the down activations at once, for as many rows as it takes
        // (Q4_0/Q8_0 up to MatMul.GatedMaxRows tokens, K-quants one)
        int gatedRows = Math.Min(maxChunk, Quanta.Core.Kernels.MatMul.GatedMaxRows);
        foreach (LayerWeights l in weights.Layers)
            if (WeightMatrix.SupportsFeedForward(l.Gate, l.Up, l.Down))
                scratch = Math.Max(scratch, WeightMatrix.FeedForwardRowsScratchBytes(l.Gate, l.Down,
                    WeightMatrix.SupportsFeedForward(l.Gate, l.Up, l.Down, gatedRows) ? gatedRows : 1));
        // pinned: the row loops convert activation rows into it ahead of the products, whose panel offsets depend on its
        // address (MatMul.ConvertActivationRow), so it must not move between the two
        MatMulScratch = GC.AllocateArray<byte>(checked((int)scratch), pinned: true);
        Rope = new GgmlRopeTables(config.Rope, maxPositions, weights.RopeFrequencyFactors);
        SlidingRope = config.SlidingRope is { } sr ? new GgmlRopeTables(sr, maxPositions, weights.RopeFrequencyFactors) : Rope;
    }

    /// <summary>Most tokens per forward call (summed over a batch's segments).</summary>
    public int MaxChunk { get; }

    /// <summary>Most segments (sequences) per batched forward call.</summary>
    public int MaxSegments { get; }

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
    internal readonly int[] Tokens;          // [MaxChunk] token ids of a single-segment Forward call
    internal readonly int[] TokenSegment;    // [MaxChunk] segment of each activation row
    internal readonly int[] TokenPosition;   // [MaxChunk] position of each activation row
    internal readonly int[] AttentionBlocks;     // [MaxChunk] first row of each attention block (≤ RowBlock rows of one segment)
    internal readonly int[] AttentionBlockEnds;  // [MaxChunk] one past the last row of each attention block
    internal readonly int[] SegmentLength;   // [MaxSegments] positions each segment attends over (start + count)
    internal readonly IKvCacheView?[] SegmentKv; // [MaxSegments] KV view of each segment (cleared after each call)
    internal readonly float[] AttentionScratch; // [ThreadCount, AttentionScratchLength]
    internal readonly int AttentionScratchLength;
    internal readonly byte[] MatMulScratch;     // [MaxChunk, ActivationRowBytes] for the widest matrix (pinned)
}
