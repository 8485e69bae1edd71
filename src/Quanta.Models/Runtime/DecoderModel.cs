using Quanta.Core.Kernels.Attention;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.Threading;
using Quanta.Models.KvCache;
using Quanta.Models.Weights;

namespace Quanta.Models.Runtime;

/// <summary>
/// The one decoder-only transformer forward pass, configured by a <see cref="ModelConfig"/> (Llama and relatives).
/// A batch of segments (sequences; <see cref="ForwardSegment"/>), each a chunk of tokens at its own positions over its
/// own KV cache view, is processed as matrices over all N tokens at once: each projection is one matrix product
/// (<see cref="WeightMatrix.MatMul"/>) with m = N on the workspace's pool, per-token ops work row by row, and attention
/// runs (token, head) rows in parallel, each over its own segment's KV view. <see cref="Forward"/> is the one-segment
/// case. Per layer:
/// <code>
/// h   = norm(x)                      (+ q/k/v bias, per-head q/k norm when configured)
/// q,k,v = h·Wqᵀ, h·Wkᵀ, h·Wvᵀ;  rope(q, k) (sliding layers with their own RoPE settings when configured);
///           q ·= scale when the scale is applied to queries;  cache.Write(k, v)
/// o   = attention(q, cache)·Woᵀ;     x += postAttnNorm?(o)
/// h   = norm(x);  g = act(h·Wgᵀ) ⊙ (h·Wuᵀ);  x += postFfnNorm?(g·Wdᵀ)
/// </code>
/// then logits = norm(x)·Woutᵀ (soft-capped when configured). Thanks to batch-invariant matrix products, per-row
/// element-wise ops and per-row attention, a position's logits are bit-identical whether it was computed in a long chunk,
/// alone, or batched with other sequences.
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

    /// <summary>Creates a workspace for batches of up to <paramref name="maxTokens"/> tokens over up to
    /// <paramref name="maxSegments"/> segments at positions below <paramref name="maxPositions"/>.</summary>
    public DecoderWorkspace CreateWorkspace(int maxTokens, int maxSegments, int maxPositions, WorkerPool pool) =>
        new(Config, Weights, maxTokens, maxSegments, maxPositions, pool);

    /// <summary>
    /// Runs <paramref name="tokens"/> (n ≤ workspace.MaxChunk) at positions [startPos, startPos + n), writing their K/V
    /// into <paramref name="kv"/> (positions below startPos must already be there) and the logits into
    /// <paramref name="logits"/>: [n, vocab] when <paramref name="allPositions"/>, else [vocab] for the last token only.
    /// A one-segment <see cref="ForwardBatch(ReadOnlySpan{ForwardSegment}, Span{float}, bool, DecoderWorkspace)"/>.
    /// Never allocates.
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, int startPos, IKvCacheView kv, Span<float> logits, bool allPositions, DecoderWorkspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        if (tokens.Length > workspace.MaxChunk)
            throw new ArgumentException($"{tokens.Length} tokens exceed the workspace chunk size {workspace.MaxChunk}", nameof(tokens));
        tokens.CopyTo(workspace.Tokens);
        var segment = new ForwardSegment(new ReadOnlyMemory<int>(workspace.Tokens, 0, tokens.Length), startPos, kv, NeedsLogits: true);
        ForwardBatch(new ReadOnlySpan<ForwardSegment>(in segment), logits, allPositions, workspace);
    }

    /// <summary>
    /// Runs every segment's tokens in one pass and writes the last token's logits of each segment that
    /// <see cref="ForwardSegment.NeedsLogits"/> into <paramref name="logits"/> ([segments needing logits, vocab], in
    /// segment order). See <see cref="ForwardBatch(ReadOnlySpan{ForwardSegment}, Span{float}, bool, DecoderWorkspace)"/>.
    /// </summary>
    public void ForwardBatch(ReadOnlySpan<ForwardSegment> segments, Span<float> logits, DecoderWorkspace workspace) =>
        ForwardBatch(segments, logits, allPositions: false, workspace);

    /// <summary>
    /// The forward pass. All segments' tokens (N in total ≤ workspace.MaxChunk, segments ≤ workspace.MaxSegments) are
    /// concatenated into one activation matrix X [N, dim] so each weight matrix is read once (one
    /// <see cref="WeightMatrix.MatMul"/> with m = N); per-token ops work row by row (RoPE at each token's own position),
    /// K/V go to each segment's own view and attention runs each (token, head) row over that segment's positions
    /// [0, start + count). Logits: for the segments with <see cref="ForwardSegment.NeedsLogits"/>, in segment order, the
    /// last token's row, or every token's row when <paramref name="allPositions"/>: [rows, vocab]. Every output element
    /// comes from the same kernel calls on the same inputs whatever the company, so a segment's logits are
    /// bit-identical alone or batched. Never allocates.
    /// </summary>
    public void ForwardBatch(ReadOnlySpan<ForwardSegment> segments, Span<float> logits, bool allPositions, DecoderWorkspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ModelConfig c = Config;
        var ws = workspace;
        int ns = segments.Length, d = c.EmbeddingLength, vocab = c.VocabSize;
        if (ns == 0) throw new ArgumentException("no segments", nameof(segments));
        if (ns > ws.MaxSegments) throw new ArgumentException($"{ns} segments exceed the workspace's {ws.MaxSegments}", nameof(segments));

        // row layout: segment s owns rows [first_s, first_s + count_s) of every activation matrix
        int n = 0, outRows = 0;
        long attentionWork = 0;   // Σ over rows of the positions attended (× Heads·HeadDim below)
        for (int s = 0; s < ns; s++)
        {
            ForwardSegment seg = segments[s];
            IKvCacheView kv = seg.Kv ?? throw new ArgumentException($"segment {s} has no KV view", nameof(segments));
            if (kv.Layers != c.Layers || kv.KvHeads != c.KvHeads || kv.HeadDim != c.HeadDim)
                throw new ArgumentException($"segment {s}: KV cache shape differs from the model", nameof(segments));
            int count = seg.Tokens.Length, start = seg.StartPosition, end = start + count;
            if (count == 0) throw new ArgumentException($"segment {s} has no tokens", nameof(segments));
            if (count > ws.MaxChunk - n) throw new ArgumentException($"the segments' tokens exceed the workspace chunk size {ws.MaxChunk}", nameof(segments));
            if (start < 0 || end > Math.Min(kv.Capacity, ws.MaxPositions))
                throw new ArgumentOutOfRangeException(nameof(segments), $"segment {s}: positions [{start}, {end}) exceed the cache ({kv.Capacity}) or workspace ({ws.MaxPositions}) capacity");
            ReadOnlySpan<int> toks = seg.Tokens.Span;
            for (int i = 0; i < count; i++)
            {
                int token = toks[i];
                if ((uint)token >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(segments), token, $"segment {s}: token id outside [0, {vocab})");
                ws.TokenSegment[n + i] = s;
                ws.TokenPosition[n + i] = start + i;
            }
            ws.SegmentKv[s] = kv;
            ws.SegmentLength[s] = end;
            attentionWork += (long)count * end;
            if (seg.NeedsLogits) outRows += allPositions ? count : 1;
            n += count;
        }
        if (logits.Length < (long)outRows * vocab) throw new ArgumentException($"logits must hold {outRows}·{vocab} floats", nameof(logits));

        try
        {
            Run(segments, n, attentionWork, ws);
            // logits [outRows, vocab] = norm(x[rows that need them])·Woutᵀ, straight into the caller's buffer
            if (outRows == 0) return;
            float[] x = ws.X, xn = ws.Xn;
            for (int s = 0, first = 0, o = 0; s < ns; s++)
            {
                int count = segments[s].Tokens.Length;
                if (segments[s].NeedsLogits)
                    for (int t = allPositions ? first : first + count - 1; t < first + count; t++, o++)
                        Norm(Weights.OutputNorm, x.AsSpan(t * d, d), xn.AsSpan(o * d, d));
                first += count;
            }
            Span<float> dst = logits[..(outRows * vocab)];
            Weights.Output.MatMul(xn.AsSpan(0, outRows * d), outRows, dst, ws.MatMulScratch, ws.Pool);
            if (c.FinalLogitSoftCap > 0f)
            {
                float cap = c.FinalLogitSoftCap, inv = 1f / cap;
                for (int i = 0; i < dst.Length; i++) dst[i] = cap * MathF.Tanh(dst[i] * inv);
            }
        }
        finally
        {
            Array.Clear(ws.SegmentKv, 0, ns);   // hold no caller's view past the call
        }
    }

    /// <summary>Embedding and every layer over the n rows laid out in the workspace; leaves the residual stream in X.</summary>
    private void Run(ReadOnlySpan<ForwardSegment> segments, int n, long attentionWork, DecoderWorkspace ws)
    {
        ModelConfig c = Config;
        int d = c.EmbeddingLength, kvd = c.KvDim, hd = c.HeadDim;
        float[] x = ws.X, xn = ws.Xn, q = ws.Q, k = ws.K, v = ws.V, attn = ws.Attn, proj = ws.Proj, gate = ws.Gate, up = ws.Up;
        int[] tokPos = ws.TokenPosition;
        float scoreScale = c.EffectiveAttentionScale;

        // x [n, dim] = embedding rows (· scale)
        for (int s = 0, t = 0; s < segments.Length; s++)
        {
            ReadOnlySpan<int> toks = segments[s].Tokens.Span;
            for (int i = 0; i < toks.Length; i++, t++)
            {
                Span<float> row = x.AsSpan(t * d, d);
                Weights.TokenEmbedding.DequantizeRow(toks[i], row);
                if (c.EmbeddingScale != 1f) Scale.InPlace(row, c.EmbeddingScale);
            }
        }

        // attention items: (block of up to RowBlock consecutive tokens of one segment, head group), in token order; part p
        // takes a contiguous run of them holding about 1/parts of the causal cost (positions attended), so the rows a
        // thread attends are mostly the rows it ran in the row loops around attention (their q, new K/V and output
        // stay in that core's caches instead of crossing to the other core: with the cores on different L3s every such
        // line is a cross-complex transfer)
        int blocks = 0;
        for (int s = 0, first = 0; s < segments.Length; s++)
        {
            int count = segments[s].Tokens.Length;
            for (int t = 0; t < count; t += CausalAttention.RowBlock, blocks++)
            {
                ws.AttentionBlocks[blocks] = first + t;
                ws.AttentionBlockEnds[blocks] = first + Math.Min(count, t + CausalAttention.RowBlock);
            }
            first += count;
        }
        // a decode block (one token) runs the query heads of one KV head together (each K/V row read once for all of
        // them): an item holds a group of `headGroup` heads, the largest divisor of Heads/KvHeads up to RowBlock
        int headGroup = CausalAttention.HeadGroup(c.Heads, c.KvHeads);
        int items = blocks * (c.Heads / headGroup);
        // tiny attention (few heads, short context) runs on this thread: waking the pool costs more than it saves. The
        // threshold is far below the matrix products' (MatMul.InlineWork): a (position, head-dim) step of attention costs
        // several times a weight multiply-add (two F16 KV widenings, softmax), and at decode the worker is spinning anyway
        int parts = attentionWork * c.Heads * hd < AttentionInlineWork ? 1 : Math.Min(ws.Pool.ThreadCount, items);
        byte[] scratch = ws.MatMulScratch;
        for (int l = 0; l < c.Layers; l++)
        {
            LayerWeights w = Weights.Layers[l];
            GgmlRopeTables rope = ws.RopeFor(c, l);
            // the products' activation rows (Q8_0 rows and GEMM panels) are converted by the row loops that produce their
            // inputs, row by row on the thread that wrote the row, while it is in cache: the same bytes as the products'
            // own conversion loop (a row's conversion depends only on the row), one pool loop fewer per product, and no
            // thread converts rows the other wrote (but for an attention block split between two parts). Where a product
            // converts per matrix (formats that do not share a conversion) it converts itself, as before.
            WeightMatrix? qkvConvert = QueryKeyValueConversion(w, n);
            bool gated = Quanta.Core.Kernels.MatMul.PrefersGated(n, w.Gate.Rows, ws.Pool.ThreadCount)
                && WeightMatrix.SupportsFeedForward(w.Gate, w.Up, w.Down, n);
            WeightMatrix? ffnConvert = gated || WeightMatrix.SharesConversion(w.Gate, w.Up, null, n) ? w.Gate : null;
            // attention sub-layer (the first layer's norm; later layers' comes with the previous layer's last residual add)
            if (l == 0)
                RunRows(new RowBody { Model = this, Op = RowOp.AddNorm, X = x, Xn = xn, NextNorm = w.AttentionNorm, Convert = qkvConvert, Scratch = scratch, Rows = n }, n, ws.Pool);
            // q [n, Heads·HeadDim], k and v [n, KvHeads·HeadDim]: one activation conversion and one pool loop when the formats agree
            WeightMatrix.MatMulShared(xn, n, w.Query, q, w.Key, k, w.Value, v, scratch, ws.Pool, converted: qkvConvert != null);
            // the first layer's K/V writes run here, segment by segment: they make room (reserve blocks, copy shared
            // ones) for the step's positions; later layers' writes of those positions only store, so each row writes its
            // own at the end of the parallel row loop (the same bytes: a row's conversion does not depend on the call)
            RunRows(new RowBody
            {
                Model = this, Op = RowOp.QueryKey, Layer = w, Rope = rope, Q = q, K = k, V = v, Positions = tokPos, ScoreScale = scoreScale,
                Kvs = l == 0 ? null : ws.SegmentKv, TokenSegment = ws.TokenSegment, KvLayer = l,
            }, n, ws.Pool);
            if (l == 0)
                for (int s = 0, first = 0; s < segments.Length; s++)
                {
                    int count = segments[s].Tokens.Length;
                    ws.SegmentKv[s]!.Write(l, segments[s].StartPosition, count, k.AsSpan(first * kvd, count * kvd), v.AsSpan(first * kvd, count * kvd));
                    first += count;
                }
            var ap = new AttentionParameters(c.Heads, c.KvHeads, hd)
            {
                Scale = c.ScaleQueryBeforeAttention ? 1f : scoreScale,
                SlidingWindow = c.SlidingWindow(l),
                SoftCap = c.AttentionLogitSoftCap,
            };
            // each part converts the O product's activation rows of the blocks it attended whole; the caller those of
            // the blocks split between two parts (at most one per part boundary)
            var attention = new AttentionBody
            {
                Kvs = ws.SegmentKv, TokenSegment = ws.TokenSegment, TokenPosition = tokPos, SegmentLength = ws.SegmentLength,
                Blocks = ws.AttentionBlocks, BlockEnds = ws.AttentionBlockEnds, Layer = l, Items = items, Parts = parts, Heads = c.Heads, HeadGroup = headGroup,
                HeadDim = hd, Parameters = ap, Q = q, Out = attn, Scratch = ws.AttentionScratch, ScratchLength = ws.AttentionScratchLength,
                Convert = w.Output, ConvertScratch = scratch, Rows = n,
            };
            ws.Pool.For(parts, attention);
            attention.ConvertSplitBlocks();
            w.Output.MatMul(attn, n, proj, scratch, ws.Pool, converted: true);   // proj [n, dim]
            // x += postAttnNorm?(proj); then the feed-forward sub-layer's h = norm(x)
            RunRows(new RowBody
            {
                Model = this, Op = RowOp.AddNorm, X = x, Xn = xn, Proj = proj, ProjNorm = w.PostAttentionNorm, NextNorm = w.FeedForwardNorm,
                Convert = ffnConvert, Scratch = scratch, Rows = n,
            }, n, ws.Pool);

            // feed-forward sub-layer
            if (gated)
            {
                // one token, or up to 16 (Q4_0/Q8_0) when the hidden tiles split evenly over the threads: each thread runs
                // the activation and the down input's Q8_0 (K-quants: Q8_K) conversion of the hidden columns it computed,
                // so only those blocks cross between the threads and no row loop runs between the products (the same bits
                // as the three steps below)
                WeightMatrix.FeedForwardRows(xn.AsSpan(0, n * d), n, w.Gate, w.Up, w.Down, c.Activation != FeedForwardActivation.Silu,
                    proj.AsSpan(0, n * d), scratch, ws.Pool, converted: ffnConvert != null);
            }
            else
            {
                WeightMatrix.MatMulShared(xn, n, w.Gate, gate, w.Up, up, null, default, scratch, ws.Pool, converted: ffnConvert != null);   // gate, up [n, ffn]
                RunRows(new RowBody { Model = this, Op = RowOp.Glu, Gate = gate, Up = up }, n, ws.Pool);
                w.Down.MatMul(gate, n, proj, scratch, ws.Pool);   // proj [n, dim]
            }
            // x += postFfnNorm?(proj); then the next layer's h = norm(x) (the output norm runs on the logits rows only),
            // converted for its Q/K/V products
            LayerWeights? next = l + 1 < c.Layers ? Weights.Layers[l + 1] : null;
            RunRows(new RowBody
            {
                Model = this, Op = RowOp.AddNorm, X = x, Xn = xn, Proj = proj, ProjNorm = w.PostFeedForwardNorm, NextNorm = next?.AttentionNorm,
                Convert = next == null ? null : QueryKeyValueConversion(next, n),
                Scratch = scratch, Rows = n,
            }, n, ws.Pool);
        }
    }

    /// <summary>Fewer rows than this run their row-wise ops on the calling thread (a pool loop's hand-off costs about as
    /// much as a few rows' norms); results are identical either way, each row's arithmetic being its own.</summary>
    private const int RowOpsInlineRows = 4;

    private static void RunRows(RowBody body, int n, WorkerPool pool)
    {
        if (n < RowOpsInlineRows)
            for (int t = 0; t < n; t++) body.Execute(t);
        else pool.For(n, body);
    }

    private enum RowOp { AddNorm, QueryKey, Glu }

    /// <summary>The element-wise work between the matrix products, one token row per index, so both threads share it
    /// (each row's arithmetic is the same as a sequential loop's: a row's bits never depend on the split).</summary>
    private struct RowBody : IParallelBody
    {
        public DecoderModel Model;
        public RowOp Op;
        // AddNorm: x += projNorm?(proj) when Proj is set, then xn = nextNorm(x) when NextNorm is set, and the xn row
        // converted into Scratch as row t of Rows for Convert's product when Convert is set
        public float[] X, Xn;
        public float[]? Proj;
        public NormWeights? ProjNorm, NextNorm;
        public WeightMatrix? Convert;
        public byte[] Scratch;
        public int Rows;
        // QueryKey: q/k/v biases, per-head q/k norms, RoPE at each row's position, query scaling; then, when Kvs is
        // set, the row's K/V written to its segment's cache at layer KvLayer (room already made by the first layer)
        public LayerWeights Layer;
        public GgmlRopeTables Rope;
        public float[] Q, K, V;
        public int[] Positions;
        public float ScoreScale;
        public IKvCacheView?[]? Kvs;
        public int[] TokenSegment;
        public int KvLayer;
        // Glu: gate = act(gate) ⊙ up
        public float[] Gate, Up;

        public readonly void Execute(int t)
        {
            DecoderModel m = Model;
            ModelConfig c = m.Config;
            switch (Op)
            {
                case RowOp.AddNorm:
                {
                    int d = c.EmbeddingLength;
                    Span<float> xRow = X.AsSpan(t * d, d);
                    if (Proj != null)
                    {
                        Span<float> p = Proj.AsSpan(t * d, d);
                        if (ProjNorm != null) m.Norm(ProjNorm, p, p);
                        Add.Forward(xRow, p, xRow);
                    }
                    if (NextNorm != null)
                    {
                        Span<float> xnRow = Xn.AsSpan(t * d, d);
                        m.Norm(NextNorm, xRow, xnRow);
                        Convert?.ConvertActivationRow(xnRow, t, Rows, Scratch);
                    }
                    break;
                }
                case RowOp.QueryKey:
                {
                    int qd = c.QueryDim, kvd = c.KvDim, hd = c.HeadDim;
                    LayerWeights w = Layer;
                    Span<float> qRow = Q.AsSpan(t * qd, qd), kRow = K.AsSpan(t * kvd, kvd), vRow = V.AsSpan(t * kvd, kvd);
                    if (w.QueryBias != null) Add.Forward(qRow, w.QueryBias, qRow);
                    if (w.KeyBias != null) Add.Forward(kRow, w.KeyBias, kRow);
                    if (w.ValueBias != null) Add.Forward(vRow, w.ValueBias, vRow);
                    if (w.QueryNorm != null)
                        for (int h = 0; h < c.Heads; h++) m.Norm(w.QueryNorm, qRow.Slice(h * hd, hd), qRow.Slice(h * hd, hd));
                    if (w.KeyNorm != null)
                        for (int h = 0; h < c.KvHeads; h++) m.Norm(w.KeyNorm, kRow.Slice(h * hd, hd), kRow.Slice(h * hd, hd));
                    Rope.Apply(qRow, c.Heads, hd, Positions[t]);
                    Rope.Apply(kRow, c.KvHeads, hd, Positions[t]);
                    if (c.ScaleQueryBeforeAttention) Scale.InPlace(qRow, ScoreScale);
                    if (Kvs != null) Kvs[TokenSegment[t]]!.Write(KvLayer, Positions[t], 1, kRow, vRow);
                    break;
                }
                default:
                {
                    int ffn = c.FeedForwardLength;
                    Span<float> g = Gate.AsSpan(t * ffn, ffn);
                    if (c.Activation == FeedForwardActivation.Silu) SwiGlu.Forward(g, Up.AsSpan(t * ffn, ffn), g);
                    else GeGlu.Forward(g, Up.AsSpan(t * ffn, ffn), g);
                    break;
                }
            }
        }
    }

    /// <summary>Attention with fewer (positions attended × heads × head dim) than this, summed over the rows, runs on the
    /// calling thread. Results are identical either way (each row's arithmetic does not depend on the split).</summary>
    private const long AttentionInlineWork = 1L << 13;

    /// <summary>The matrix whose <see cref="WeightMatrix.ConvertActivationRow"/> prepares the Q/K/V products' input of
    /// <paramref name="n"/> rows, or null when they convert per matrix (formats that do not share a conversion).</summary>
    private static WeightMatrix? QueryKeyValueConversion(LayerWeights w, int n) =>
        WeightMatrix.SharesConversion(w.Query, w.Key, w.Value, n) ? w.Query : null;

    private void Norm(NormWeights w, ReadOnlySpan<float> src, Span<float> dst)
    {
        if (Config.Norm == NormKind.Rms) RmsNorm.Forward(src, w.Weight, dst, Config.NormEps);
        else LayerNorm.Forward(src, w.Weight, w.Bias, dst, Config.NormEps);
    }

    /// <summary>Attention items [PartStart(p), PartStart(p + 1)) of part p: item i is (token block i / G, heads
    /// HeadGroup · (i % G) .. + HeadGroup − 1), G = Heads / HeadGroup, over the block's own segment, with scratch slice p.
    /// A one-token block runs its heads in one AttendHeads call, a longer one head by head (AttendRows). Which part runs
    /// an item never changes its result.</summary>
    private struct AttentionBody : IParallelBody
    {
        public IKvCacheView?[] Kvs;  // [segments]
        public int[] TokenSegment;   // [n] segment of each token
        public int[] TokenPosition;  // [n] position of each token
        public int[] SegmentLength;  // [segments] positions attended (start + count)
        public int[] Blocks;         // [blocks] first token of each block (blocks never straddle segments)
        public int[] BlockEnds;      // [blocks] one past the last token of each block
        public int Layer, Items, Parts, Heads, HeadGroup, HeadDim;
        public AttentionParameters Parameters;
        public float[] Q;            // [n, Heads, HeadDim]
        public float[] Out;          // [n, Heads, HeadDim]
        public float[] Scratch;      // [Parts, ScratchLength]
        public int ScratchLength;
        public WeightMatrix Convert;  // each block's Out rows are converted into ConvertScratch (rows of Rows) for Convert's product
        public byte[] ConvertScratch;
        public int Rows;

        public readonly void Execute(int part)
        {
            Span<float> scratch = Scratch.AsSpan(part * ScratchLength, ScratchLength);
            int rowLen = Heads * HeadDim;
            int groups = Heads / HeadGroup;
            int first = PartStart(part);
            for (int i = first, last = PartStart(part + 1); i < last; i++)
            {
                int b = i / groups, h0 = (i - b * groups) * HeadGroup;
                int t = Blocks[b], s = TokenSegment[t];
                int end = BlockEnds[b];
                IKvCacheView kv = Kvs[s]!;
                if (end - t == 1)
                {
                    int off = t * rowLen + h0 * HeadDim;
                    kv.AttendHeads(Layer, SegmentLength[s], Q.AsSpan(off, HeadGroup * HeadDim), HeadGroup, TokenPosition[t], h0, Parameters,
                        Out.AsSpan(off, HeadGroup * HeadDim), scratch, Next(i + 1 < last ? i + 1 : Items, groups));
                }
                else
                    for (int h = h0; h < h0 + HeadGroup; h++)
                    {
                        int off = t * rowLen + h * HeadDim;
                        kv.AttendRows(Layer, SegmentLength[s], Q.AsSpan(off), rowLen, end - t, TokenPosition[t], h, Parameters,
                            Out.AsSpan(off), rowLen, scratch);
                    }
                // the block's last item, and its first one was this part's too: its output rows are complete here
                if (i - b * groups == groups - 1 && b * groups >= first) ConvertBlock(b);
            }
        }

        /// <summary>After the loop: converts the blocks whose items two parts shared (split at a part boundary).</summary>
        public readonly void ConvertSplitBlocks()
        {
            int groups = Heads / HeadGroup;
            for (int p = 1; p < Parts; p++)
            {
                int start = PartStart(p);
                if (start % groups != 0 && start < Items) ConvertBlock(start / groups);
            }
        }

        private readonly void ConvertBlock(int b)
        {
            int rowLen = Heads * HeadDim;
            for (int t = Blocks[b]; t < BlockEnds[b]; t++) Convert.ConvertActivationRow(Out.AsSpan(t * rowLen, rowLen), t, Rows, ConvertScratch);
        }

        /// <summary>Item i as a prefetch hint when it is a one-token call (the calls this part makes next), else none.</summary>
        private readonly NextAttention Next(int i, int groups)
        {
            if (i >= Items) return default;
            int b = i / groups, t = Blocks[b];
            if (BlockEnds[b] - t != 1) return default;
            int s = TokenSegment[t];
            return new NextAttention(Kvs[s], Layer, SegmentLength[s], TokenPosition[t], (i - b * groups) * HeadGroup);
        }

        /// <summary>First item of part p: the first item whose preceding items' cost (positions attended by their rows)
        /// reaches p/Parts of the total. Pool loop shares are contiguous too (participant p starts with the p-th share),
        /// so with equal contexts part p attends the rows the row loops gave participant p.</summary>
        private readonly int PartStart(int p)
        {
            if (p == 0) return 0;
            if (p >= Parts) return Items;
            int groups = Heads / HeadGroup, blocks = Items / groups;
            long total = 0;
            for (int b = 0; b < blocks; b++) total += BlockCost(b);
            // items of a block all cost the block's cost; part p starts at the first item whose preceding cost reaches p/Parts of the total
            long target = total * groups * p / Parts, acc = 0;
            for (int b = 0; b < blocks; b++)
            {
                long cb = BlockCost(b);
                for (int g = 0; g < groups; g++, acc += cb)
                    if (acc >= target) return b * groups + g;
            }
            return Items;
        }

        private readonly long BlockCost(int b)
        {
            long cost = 0;
            for (int t = Blocks[b]; t < BlockEnds[b]; t++) cost += TokenPosition[t] + 1;
            return cost;
        }
    }
}
