using Quanta.Core.Kernels.Attention;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.Threading;
using Quanta.Models.KvCache;
using Quanta.Models.Weights;

namespace Quanta.Models.Runtime;

/// <summary>
/// The shared decoder-only transformer forward pass, configured by a <see cref="ModelConfig"/> (Llama and relatives).
/// A chunk of n tokens at positions [startPos, startPos + n) is processed as matrices: each projection is one
/// matrix product (<see cref="WeightMatrix.MatMul"/>) with m = n on the workspace's pool, attention runs (token, head) rows in parallel over the KV
/// cache view. Per layer:
/// <code>
/// h   = norm(x)                      (+ q/k/v bias, per-head q/k norm when configured)
/// q,k,v = h·Wqᵀ, h·Wkᵀ, h·Wvᵀ;  rope(q, k) (sliding layers with their own RoPE settings when configured);
///           q ·= scale when the scale is applied to queries;  cache.Write(k, v)
/// o   = attention(q, cache)·Woᵀ;     x += postAttnNorm?(o)
/// h   = norm(x);  g = act(h·Wgᵀ) ⊙ (h·Wuᵀ);  x += postFfnNorm?(g·Wdᵀ)
/// </code>
/// then logits = norm(x)·Woutᵀ (soft-capped when configured). Thanks to batch-invariant matrix products and
/// per-row attention, a position's logits are bit-identical whether it was computed in a long chunk or alone.
/// Stateless apart from the immutable weights: any number of sequences may run at once with separate workspaces.
/// </summary>
public sealed class DecoderModel
{
    /// <summary>Wraps validated weights.</summary>
    public DecoderModel(ModelConfig config, ModelWeights weights)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        Weights = weights ?? throw new ArgumentNullException(nameof(weights));
        config.Validate();
        weights.Validate(config);
    }

    /// <summary>Hyper-parameters and flags.</summary>
    public ModelConfig Config { get; }

    /// <summary>The weights (owned by whoever loaded them).</summary>
    public ModelWeights Weights { get; }

    /// <summary>Creates a workspace for this model.</summary>
    public DecoderWorkspace CreateWorkspace(int maxChunk, int maxPositions, WorkerPool pool) =>
        new(Config, Weights, maxChunk, maxPositions, pool);

    /// <summary>
    /// Runs <paramref name="tokens"/> (n ≤ workspace.MaxChunk) at positions [startPos, startPos + n), writing their K/V
    /// into <paramref name="kv"/> (positions below startPos must already be there) and the logits into
    /// <paramref name="logits"/>: [n, vocab] when <paramref name="allPositions"/>, else [vocab] for the last token only.
    /// Never allocates.
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, int startPos, IKvCacheView kv, Span<float> logits, bool allPositions, DecoderWorkspace workspace)
    {
        ArgumentNullException.ThrowIfNull(kv);
        ArgumentNullException.ThrowIfNull(workspace);
        ModelConfig c = Config;
        int n = tokens.Length, d = c.EmbeddingLength, vocab = c.VocabSize;
        if (n == 0) throw new ArgumentException("no tokens", nameof(tokens));
        if (n > workspace.MaxChunk) throw new ArgumentException($"{n} tokens exceed the workspace chunk size {workspace.MaxChunk}", nameof(tokens));
        if (startPos < 0 || startPos + n > Math.Min(kv.Capacity, workspace.MaxPositions))
            throw new ArgumentOutOfRangeException(nameof(startPos), $"positions [{startPos}, {startPos + n}) exceed the cache ({kv.Capacity}) or workspace ({workspace.MaxPositions}) capacity");
        if (kv.Layers != c.Layers || kv.KvHeads != c.KvHeads || kv.HeadDim != c.HeadDim)
            throw new ArgumentException("KV cache shape differs from the model", nameof(kv));
        int outRows = allPositions ? n : 1;
        if (logits.Length < outRows * vocab) throw new ArgumentException($"logits must hold {outRows}·{vocab} floats", nameof(logits));

        var ws = workspace;
        float[] x = ws.X, xn = ws.Xn, q = ws.Q, k = ws.K, v = ws.V, attn = ws.Attn, proj = ws.Proj, gate = ws.Gate, up = ws.Up;
        int qd = c.QueryDim, kvd = c.KvDim, ffn = c.FeedForwardLength, hd = c.HeadDim;
        float scoreScale = c.EffectiveAttentionScale;

        // x [n, dim] = embedding rows (· scale)
        for (int t = 0; t < n; t++)
        {
            int token = tokens[t];
            if ((uint)token >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(tokens), token, $"token id outside [0, {vocab})");
            Span<float> row = x.AsSpan(t * d, d);
            Weights.TokenEmbedding.DequantizeRow(token, row);
            if (c.EmbeddingScale != 1f) Scale.InPlace(row, c.EmbeddingScale);
        }

        for (int l = 0; l < c.Layers; l++)
        {
            LayerWeights w = Weights.Layers[l];
            GgmlRopeTables rope = ws.RopeFor(c, l);
            // attention sub-layer
            NormRows(w.AttentionNorm, x, 0, xn, n, d);
            w.Query.MatMul(xn, n, q, ws.MatMulScratch, ws.Pool);   // q [n, Heads·HeadDim]
            w.Key.MatMul(xn, n, k, ws.MatMulScratch, ws.Pool);     // k [n, KvHeads·HeadDim]
            w.Value.MatMul(xn, n, v, ws.MatMulScratch, ws.Pool);   // v [n, KvHeads·HeadDim]
            for (int t = 0; t < n; t++)
            {
                Span<float> qRow = q.AsSpan(t * qd, qd), kRow = k.AsSpan(t * kvd, kvd), vRow = v.AsSpan(t * kvd, kvd);
                if (w.QueryBias != null) Add.Forward(qRow, w.QueryBias, qRow);
                if (w.KeyBias != null) Add.Forward(kRow, w.KeyBias, kRow);
                if (w.ValueBias != null) Add.Forward(vRow, w.ValueBias, vRow);
                if (w.QueryNorm != null)
                    for (int h = 0; h < c.Heads; h++) Norm(w.QueryNorm, qRow.Slice(h * hd, hd), qRow.Slice(h * hd, hd));
                if (w.KeyNorm != null)
                    for (int h = 0; h < c.KvHeads; h++) Norm(w.KeyNorm, kRow.Slice(h * hd, hd), kRow.Slice(h * hd, hd));
                rope.Apply(qRow, c.Heads, hd, startPos + t);
                rope.Apply(kRow, c.KvHeads, hd, startPos + t);
                if (c.ScaleQueryBeforeAttention) Scale.InPlace(qRow, scoreScale);
            }
            kv.Write(l, startPos, n, k.AsSpan(0, n * kvd), v.AsSpan(0, n * kvd));
            var ap = new AttentionParameters(c.Heads, c.KvHeads, hd)
            {
                Scale = c.ScaleQueryBeforeAttention ? 1f : scoreScale,
                SlidingWindow = c.SlidingWindow(l),
                SoftCap = c.AttentionLogitSoftCap,
            };
            int rows = n * c.Heads;
            // tiny attention (few heads, short context) runs on this thread: waking the pool costs more than it saves
            int parts = (long)rows * (startPos + n) * hd < Quanta.Core.Kernels.MatMul.InlineWork ? 1 : Math.Min(ws.Pool.ThreadCount, rows);
            ws.Pool.For(parts, new AttentionBody
            {
                Kv = kv, Layer = l, Length = startPos + n, StartPos = startPos, Rows = rows, Parts = parts,
                Heads = c.Heads, HeadDim = hd, Parameters = ap, Q = q, Out = attn,
                Scratch = ws.AttentionScratch, ScratchLength = ws.AttentionScratchLength,
            });
            w.Output.MatMul(attn, n, proj, ws.MatMulScratch, ws.Pool);   // proj [n, dim]
            if (w.PostAttentionNorm != null) NormRows(w.PostAttentionNorm, proj, 0, proj, n, d);
            Add.Forward(x.AsSpan(0, n * d), proj.AsSpan(0, n * d), x.AsSpan(0, n * d));

            // feed-forward sub-layer
            NormRows(w.FeedForwardNorm, x, 0, xn, n, d);
            w.Gate.MatMul(xn, n, gate, ws.MatMulScratch, ws.Pool);   // gate [n, ffn]
            w.Up.MatMul(xn, n, up, ws.MatMulScratch, ws.Pool);       // up   [n, ffn]
            Span<float> g = gate.AsSpan(0, n * ffn);
            if (c.Activation == FeedForwardActivation.Silu) SwiGlu.Forward(g, up.AsSpan(0, n * ffn), g);
            else GeGlu.Forward(g, up.AsSpan(0, n * ffn), g);
            w.Down.MatMul(gate, n, proj, ws.MatMulScratch, ws.Pool);   // proj [n, dim]
            if (w.PostFeedForwardNorm != null) NormRows(w.PostFeedForwardNorm, proj, 0, proj, n, d);
            Add.Forward(x.AsSpan(0, n * d), proj.AsSpan(0, n * d), x.AsSpan(0, n * d));
        }

        // logits [outRows, vocab] = norm(x[last outRows rows])·Woutᵀ, LogitRows rows per product through ws.Logits
        NormRows(Weights.OutputNorm, x, (n - outRows) * d, xn, outRows, d);
        int group = ws.Logits.Length / vocab;
        for (int r0 = 0; r0 < outRows; r0 += group)
        {
            int m = Math.Min(group, outRows - r0);
            Weights.Output.MatMul(xn.AsSpan(r0 * d), m, ws.Logits, ws.MatMulScratch, ws.Pool);
            Span<float> dst = logits.Slice(r0 * vocab, m * vocab);
            ws.Logits.AsSpan(0, m * vocab).CopyTo(dst);
            if (c.FinalLogitSoftCap > 0f)
            {
                float cap = c.FinalLogitSoftCap, inv = 1f / cap;
                for (int i = 0; i < dst.Length; i++) dst[i] = cap * MathF.Tanh(dst[i] * inv);
            }
        }
    }

    private void NormRows(NormWeights w, float[] src, int srcOffset, float[] dst, int rows, int dim)
    {
        for (int t = 0; t < rows; t++) Norm(w, src.AsSpan(srcOffset + t * dim, dim), dst.AsSpan(t * dim, dim));
    }

    private void Norm(NormWeights w, ReadOnlySpan<float> src, Span<float> dst)
    {
        if (Config.Norm == NormKind.Rms) RmsNorm.Forward(src, w.Weight, dst, Config.NormEps);
        else LayerNorm.Forward(src, w.Weight, w.Bias, dst, Config.NormEps);
    }

    /// <summary>Attention rows [r0, r1) of part p: row r is (token r / Heads, head r % Heads), scratch slice p.</summary>
    private struct AttentionBody : IParallelBody
    {
        public IKvCacheView Kv;
        public int Layer, Length, StartPos, Rows, Parts, Heads, HeadDim;
        public AttentionParameters Parameters;
        public float[] Q;        // [n, Heads, HeadDim]
        public float[] Out;      // [n, Heads, HeadDim]
        public float[] Scratch;  // [Parts, ScratchLength]
        public int ScratchLength;

        public readonly void Execute(int part)
        {
            int r0 = (int)((long)Rows * part / Parts), r1 = (int)((long)Rows * (part + 1) / Parts);
            Span<float> scratch = Scratch.AsSpan(part * ScratchLength, ScratchLength);
            for (int r = r0; r < r1; r++)
            {
                int t = r / Heads, h = r - t * Heads;
                int off = r * HeadDim;
                Kv.AttendRow(Layer, Length, Q.AsSpan(off, HeadDim), StartPos + t, h, Parameters,
                    Out.AsSpan(off, HeadDim), scratch);
            }
        }
    }
}
