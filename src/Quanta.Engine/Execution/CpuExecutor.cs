using System.Diagnostics;
using Quanta.Core.Kernels.Attention;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.Threading;
using Quanta.Models;
using Quanta.Models.KvCache;
using Quanta.Models.Runtime;
using Quanta.Models.Weights;

namespace Quanta.Engine.Execution;

/// <summary>
/// <see cref="IExecutor"/> on the CPU over a <see cref="DecoderModel"/>'s weights. A step's tokens (all sequences,
/// prefill chunks and decode tokens alike) are concatenated into one activation matrix X [N, dim], so every weight
/// matrix is read ONCE per step: each projection is one matrix product over all N rows (<see cref="BatchedMatMul"/>),
/// element-wise ops run per row, and attention runs each (token, head) row over that token's own sequence KV view.
/// The per-layer computation is the same sequence of operations as <see cref="DecoderModel.Forward"/> (norm, Q/K/V,
/// biases, Q/K norm, RoPE at each token's own position, KV write, attention, O, residual, gated FFN, residual; final
/// norm, output head, soft-cap), and every output element is produced by the same kernel call on the same inputs
/// whatever the batch, so a sequence's logits are bit-identical alone, in any batch, and to DecoderModel.Forward with
/// a contiguous cache. (The forward pass is re-assembled here from Models' public pieces because Models has no
/// batched entry point yet; see the Serving notes.) All buffers are allocated in the constructor.
/// </summary>
public sealed class CpuExecutor : IExecutor
{
    private readonly DecoderModel _model;
    private readonly ModelConfig _c;
    private readonly ModelWeights _w;
    private readonly WorkerPool _pool;
    private readonly GgmlRopeTables _rope;
    private readonly float[] _x, _xn, _q, _k, _v, _attn, _proj, _gate, _up;  // [MaxBatchTokens, width]
    private readonly float[] _logits;        // [MaxBatchSequences, vocab]
    private readonly float[] _headIn;        // [MaxBatchSequences, dim] normalized last rows for the output head
    private readonly int[] _row;             // [MaxBatchSequences] logits row per batch entry
    private readonly int[] _tokSeq, _tokPos; // [MaxBatchTokens] batch entry and position of each token
    private readonly int[] _seqLen;          // [MaxBatchSequences] attention length of each entry
    private readonly IKvCacheView[] _kvs;    // [MaxBatchSequences]
    private readonly float[] _attnScratch;   // [ThreadCount, _attnScratchLen]
    private readonly int _attnScratchLen;
    private readonly byte[] _actScratch;     // [MaxBatchTokens, widest activation row bytes]

    /// <summary>
    /// Creates an executor for steps of up to <paramref name="maxBatchTokens"/> tokens over up to
    /// <paramref name="maxBatchSequences"/> sequences at positions below <paramref name="maxPositions"/>.
    /// </summary>
    public CpuExecutor(DecoderModel model, WorkerPool pool, int maxBatchTokens, int maxBatchSequences, int maxPositions)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _pool = pool ?? throw new ArgumentNullException(nameof(pool));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchTokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchSequences);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPositions);
        _c = model.Config;
        _w = model.Weights;
        MaxBatchTokens = maxBatchTokens;
        MaxBatchSequences = maxBatchSequences;
        MaxPositions = maxPositions;
        int n = maxBatchTokens, d = _c.EmbeddingLength, ffn = _c.FeedForwardLength;
        _x = new float[n * d];
        _xn = new float[n * d];
        _q = new float[n * _c.QueryDim];
        _k = new float[n * _c.KvDim];
        _v = new float[n * _c.KvDim];
        _attn = new float[n * _c.QueryDim];
        _proj = new float[n * d];
        _gate = new float[n * ffn];
        _up = new float[n * ffn];
        _logits = new float[maxBatchSequences * _c.VocabSize];
        _headIn = new float[maxBatchSequences * d];
        _row = new int[maxBatchSequences];
        _tokSeq = new int[n];
        _tokPos = new int[n];
        _seqLen = new int[maxBatchSequences];
        _kvs = new IKvCacheView[maxBatchSequences];
        _attnScratchLen = CausalAttention.ScratchLength(maxPositions, _c.HeadDim);
        _attnScratch = new float[pool.ThreadCount * _attnScratchLen];
        long scratch = 0;
        foreach (WeightMatrix m in _w.Matrices)
            scratch = Math.Max(scratch, (long)Math.Max(n, maxBatchSequences) * m.Kernel.ActivationRowBytes(m.Cols));
        _actScratch = new byte[checked((int)scratch)];
        _rope = new GgmlRopeTables(_c.Rope, maxPositions, _w.RopeFrequencyFactors);
    }

    /// <inheritdoc/>
    public int VocabSize => _c.VocabSize;

    /// <inheritdoc/>
    public int MaxBatchTokens { get; }

    /// <inheritdoc/>
    public int MaxBatchSequences { get; }

    /// <summary>Positions covered by the RoPE tables and attention scratch.</summary>
    public int MaxPositions { get; }

    /// <summary>The model whose weights run.</summary>
    public DecoderModel Model => _model;

    /// <inheritdoc/>
    public ExecutionResult Execute(ExecutionBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long t0 = Stopwatch.GetTimestamp();
        IReadOnlyList<SequenceWork> seqs = batch.Sequences;
        int ns = seqs.Count, n = batch.TotalTokens;
        if (ns > MaxBatchSequences) throw new ArgumentException($"{ns} sequences exceed the executor's {MaxBatchSequences}", nameof(batch));
        if (n > MaxBatchTokens) throw new ArgumentException($"{n} tokens exceed the executor's {MaxBatchTokens}", nameof(batch));
        ModelConfig c = _c;
        int d = c.EmbeddingLength, vocab = c.VocabSize, qd = c.QueryDim, kvd = c.KvDim, ffn = c.FeedForwardLength, hd = c.HeadDim;

        // token layout: entry s owns rows [start_s, start_s + len_s) of every activation matrix
        int rows = 0, outRows = 0;
        for (int s = 0; s < ns; s++)
        {
            SequenceWork w = seqs[s];
            IKvCacheView kv = w.Kv ?? throw new ArgumentException($"sequence {w.SequenceId} has no KV view", nameof(batch));
            if (kv.Layers != c.Layers || kv.KvHeads != c.KvHeads || kv.HeadDim != c.HeadDim)
                throw new ArgumentException($"sequence {w.SequenceId}: KV cache shape differs from the model", nameof(batch));
            int len = w.Tokens.Length, end = w.StartPosition + len;
            if (w.StartPosition < 0 || end > Math.Min(kv.Capacity, MaxPositions))
                throw new ArgumentOutOfRangeException(nameof(batch), $"sequence {w.SequenceId}: positions [{w.StartPosition}, {end}) exceed the cache ({kv.Capacity}) or executor ({MaxPositions}) capacity");
            ReadOnlySpan<int> toks = w.Tokens.Span;
            for (int i = 0; i < len; i++)
            {
                int token = toks[i];
                if ((uint)token >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(batch), token, $"token id outside [0, {vocab})");
                _tokSeq[rows + i] = s;
                _tokPos[rows + i] = w.StartPosition + i;
            }
            _kvs[s] = kv;
            _seqLen[s] = end;
            _row[s] = w.NeedsLogits ? outRows++ : -1;
            rows += len;
        }

        // x [n, dim] = embedding rows (· scale)
        for (int t = 0, s = 0, i = 0; t < n; t++, i++)
        {
            while (i >= seqs[s].Tokens.Length) { s++; i = 0; }
            Span<float> row = _x.AsSpan(t * d, d);
            _w.TokenEmbedding.DequantizeRow(seqs[s].Tokens.Span[i], row);
            if (c.EmbeddingScale != 1f) Scale.InPlace(row, c.EmbeddingScale);
        }

        for (int l = 0; l < c.Layers; l++)
        {
            LayerWeights lw = _w.Layers[l];
            NormRows(lw.AttentionNorm, _x, _xn, n, d);
            BatchedMatMul.Compute(lw.Query, _xn, n, _q, _actScratch, _pool);   // q [n, Heads·HeadDim]
            BatchedMatMul.Compute(lw.Key, _xn, n, _k, _actScratch, _pool);     // k [n, KvHeads·HeadDim]
            BatchedMatMul.Compute(lw.Value, _xn, n, _v, _actScratch, _pool);   // v [n, KvHeads·HeadDim]
            for (int t = 0; t < n; t++)
            {
                Span<float> qRow = _q.AsSpan(t * qd, qd), kRow = _k.AsSpan(t * kvd, kvd), vRow = _v.AsSpan(t * kvd, kvd);
                if (lw.QueryBias != null) Add.Forward(qRow, lw.QueryBias, qRow);
                if (lw.KeyBias != null) Add.Forward(kRow, lw.KeyBias, kRow);
                if (lw.ValueBias != null) Add.Forward(vRow, lw.ValueBias, vRow);
                if (lw.QueryNorm != null)
                    for (int h = 0; h < c.Heads; h++) Norm(lw.QueryNorm, qRow.Slice(h * hd, hd), qRow.Slice(h * hd, hd));
                if (lw.KeyNorm != null)
                    for (int h = 0; h < c.KvHeads; h++) Norm(lw.KeyNorm, kRow.Slice(h * hd, hd), kRow.Slice(h * hd, hd));
                _rope.Apply(qRow, c.Heads, hd, _tokPos[t]);
                _rope.Apply(kRow, c.KvHeads, hd, _tokPos[t]);
            }
            for (int s = 0, r0 = 0; s < ns; s++)
            {
                int len = seqs[s].Tokens.Length;
                _kvs[s].Write(l, seqs[s].StartPosition, len, _k.AsSpan(r0 * kvd, len * kvd), _v.AsSpan(r0 * kvd, len * kvd));
                r0 += len;
            }
            var ap = new AttentionParameters(c.Heads, c.KvHeads, hd)
            {
                Scale = c.AttentionScale,
                SlidingWindow = c.SlidingWindow(l),
                SoftCap = c.AttentionLogitSoftCap,
            };
            int attnRows = n * c.Heads, parts = Math.Min(_pool.ThreadCount, attnRows);
            _pool.For(parts, new AttentionBody
            {
                Kvs = _kvs, TokenSeq = _tokSeq, TokenPos = _tokPos, SeqLength = _seqLen, Layer = l, Rows = attnRows, Parts = parts,
                Heads = c.Heads, HeadDim = hd, Parameters = ap, Q = _q, Out = _attn, Scratch = _attnScratch, ScratchLength = _attnScratchLen,
            });
            BatchedMatMul.Compute(lw.Output, _attn, n, _proj, _actScratch, _pool);   // proj [n, dim]
            if (lw.PostAttentionNorm != null) NormRows(lw.PostAttentionNorm, _proj, _proj, n, d);
            AddRows(_x, _proj, n, d);

            NormRows(lw.FeedForwardNorm, _x, _xn, n, d);
            BatchedMatMul.Compute(lw.Gate, _xn, n, _gate, _actScratch, _pool);   // gate [n, ffn]
            BatchedMatMul.Compute(lw.Up, _xn, n, _up, _actScratch, _pool);       // up   [n, ffn]
            for (int t = 0; t < n; t++)
            {
                Span<float> g = _gate.AsSpan(t * ffn, ffn);
                if (c.Activation == FeedForwardActivation.Silu) SwiGlu.Forward(g, _up.AsSpan(t * ffn, ffn), g);
                else GeGlu.Forward(g, _up.AsSpan(t * ffn, ffn), g);
            }
            BatchedMatMul.Compute(lw.Down, _gate, n, _proj, _actScratch, _pool);   // proj [n, dim]
            if (lw.PostFeedForwardNorm != null) NormRows(lw.PostFeedForwardNorm, _proj, _proj, n, d);
            AddRows(_x, _proj, n, d);
        }

        // logits [outRows, vocab] = norm(last row of each entry that asks)·Woutᵀ
        for (int s = 0, end = 0; s < ns; s++)
        {
            end += seqs[s].Tokens.Length;
            if (_row[s] >= 0) Norm(_w.OutputNorm, _x.AsSpan((end - 1) * d, d), _headIn.AsSpan(_row[s] * d, d));
        }
        if (outRows > 0)
        {
            BatchedMatMul.Compute(_w.Output, _headIn, outRows, _logits, _actScratch, _pool);
            if (c.FinalLogitSoftCap > 0f)
            {
                float cap = c.FinalLogitSoftCap, inv = 1f / cap;
                Span<float> dst = _logits.AsSpan(0, outRows * vocab);
                for (int i = 0; i < dst.Length; i++) dst[i] = cap * MathF.Tanh(dst[i] * inv);
            }
        }
        Array.Clear(_kvs, 0, ns);
        return new ExecutionResult(_logits, _row[..ns], vocab, Stopwatch.GetElapsedTime(t0));
    }

    private void NormRows(NormWeights w, float[] src, float[] dst, int rows, int dim)
    {
        for (int t = 0; t < rows; t++) Norm(w, src.AsSpan(t * dim, dim), dst.AsSpan(t * dim, dim));
    }

    private void Norm(NormWeights w, ReadOnlySpan<float> src, Span<float> dst)
    {
        if (_c.Norm == NormKind.Rms) RmsNorm.Forward(src, w.Weight, dst, _c.NormEps);
        else LayerNorm.Forward(src, w.Weight, w.Bias, dst, _c.NormEps);
    }

    private static void AddRows(float[] x, float[] y, int rows, int dim)
    {
        for (int t = 0; t < rows; t++) Add.Forward(x.AsSpan(t * dim, dim), y.AsSpan(t * dim, dim), x.AsSpan(t * dim, dim));
    }

    /// <summary>Attention rows [r0, r1) of part p: row r is (token r / Heads, head r % Heads) over that token's own sequence.</summary>
    private struct AttentionBody : IParallelBody
    {
        public IKvCacheView[] Kvs;   // [entries]
        public int[] TokenSeq;       // [n] entry of each token
        public int[] TokenPos;       // [n] position of each token
        public int[] SeqLength;      // [entries] positions attended (start + chunk length)
        public int Layer, Rows, Parts, Heads, HeadDim;
        public AttentionParameters Parameters;
        public float[] Q;            // [n, Heads, HeadDim]
        public float[] Out;          // [n, Heads, HeadDim]
        public float[] Scratch;      // [Parts, ScratchLength]
        public int ScratchLength;

        public readonly void Execute(int part)
        {
            int r0 = (int)((long)Rows * part / Parts), r1 = (int)((long)Rows * (part + 1) / Parts);
            Span<float> scratch = Scratch.AsSpan(part * ScratchLength, ScratchLength);
            for (int r = r0; r < r1; r++)
            {
                int t = r / Heads, h = r - t * Heads, s = TokenSeq[t];
                int off = r * HeadDim;
                Kvs[s].AttendRow(Layer, SeqLength[s], Q.AsSpan(off, HeadDim), TokenPos[t], h, Parameters, Out.AsSpan(off, HeadDim), scratch);
            }
        }
    }
}
