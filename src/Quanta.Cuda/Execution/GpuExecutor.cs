using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using Quanta.Core.Kernels.Ops;
using Quanta.Cuda.Device;
using Quanta.Cuda.Kernels;
using Quanta.Engine.Energy;
using Quanta.Engine.Execution;
using Quanta.Engine.KvCache;
using Quanta.Models;

namespace Quanta.Cuda.Execution;

/// <summary>
/// <see cref="IExecutor"/> on a GPU (<see cref="GpuBackend"/>): the decoder forward pass for Llama-family models
/// (RMSNorm, RoPE normal/NeoX with Llama-3 factors, grouped-query attention, optional QKV biases, SwiGLU) with matrix
/// products in BF16 or FP8 E4M3 through the backend's matrix engine (cuBLASLt on the device) and every other step as an
/// ILGPU kernel. Activations are F32 between kernels and converted to the weight format (FP8: per-tensor scale from the
/// activation's absolute maximum) before each product.
/// <para>KV cache: device memory [layers, NumBlocks·BlockSize, KvHeads, HeadDim] in BF16, keys and values, mirroring the
/// engine's <see cref="PagedKvCache"/>: a sequence's <see cref="SequenceKv.BlockTable"/> (physical block ids) indexes
/// the device pages directly, so prefix-cache hits reuse device K/V the same way the engine's block pool shares host
/// blocks. The engine's cache is block bookkeeping only when made with <see cref="PagedKvCache.BlocksOnly"/> (what
/// serving does, <see cref="GpuServing.KvStorage"/>); a cache with host storage works too, its host copy unwritten.
/// Copy-on-write in <see cref="SequenceKv.TryReserve"/> is mirrored: the executor subscribes to
/// <see cref="PagedKvCache.BlockCopied"/> and copies the block's pages of every layer on the device.</para>
/// <para>Each step: block tables, slots and positions go up in one batch of small copies, the layers run on the
/// accelerator's default stream, and the rows that asked for logits come back [rows, vocab]. With a power source, the
/// step's energy is the source's reading after the step (synchronized) minus the one before.</para>
/// Not thread-safe: one engine thread calls <see cref="Execute"/>. All device buffers are allocated in the constructor.
/// </summary>
public sealed class GpuExecutor : IExecutor, IDisposable
{
    private const long ScoreBudgetFloats = 64L << 20;   // attention score scratch: at most 256 MiB

    private readonly GpuBackend _b;
    private readonly GpuKernels _k;
    private readonly GpuModelWeights _w;
    private readonly ModelConfig _c;
    private readonly PagedKvCache _cache;
    private readonly IPowerSource? _power;
    private readonly bool _ownsWeights;
    private bool _disposed;
    private readonly int _qkvDim, _maxBlocks, _attnChunk, _lpMax;
    private readonly long _layerElems;
    private readonly List<IDisposable> _owned = [];
    private const int MaxGraphs = 64;
    private readonly Dictionary<(int N, int Rows, int Splits), Interop.CudaGraph> _graphs = [];

    // host staging
    private readonly int[] _tokens, _positions, _slots, _tokenSeq;   // [MaxBatchTokens]
    private readonly int[] _tables;                                   // [MaxBatchSequences, maxBlocks]
    private readonly int[] _logitRows;                                // [MaxBatchSequences]
    private readonly int[] _seqFirst, _seqLen, _seqStart;             // [MaxBatchSequences]: first token row, tokens, first position
    private int _ns;                                                  // sequences in the current step
    private int _splits;                                              // decode-attention context splits of the current step
    private long _markTicks;                                          // profiling: time of the last op boundary
    private Interop.CudaEvent? _startEvent, _endEvent;                // MeasureDeviceTime
    private readonly float[] _logits;                                 // [MaxBatchSequences, vocab]

    // device buffers
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _dTokens, _dPositions, _dSlots, _dTokenSeq, _dTables, _dLogitRows, _dAmax;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _x, _xn, _qkv, _attn, _proj, _gu, _g, _dLogits, _scores, _xScale, _ropeC, _ropeS;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _xq;
    private readonly MemoryBuffer1D<ushort, Stride1D.Dense> _kCache, _vCache;
    // prefill attention: K [KvHeads, lpMax, HeadDim], Vᵀ [KvHeads, HeadDim, lpMax], grouped Q [chunk·Heads, HeadDim] (BF16),
    // probabilities [chunk·Heads, lpMax] (BF16, beside the F32 scores) and grouped output [chunk·Heads, HeadDim] (F32)
    private readonly MemoryBuffer1D<ushort, Stride1D.Dense> _keysG, _valuesT, _qG, _probs;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _oG, _invSum;   // _invSum [chunk·Heads]: softmax normalizers

    /// <summary>
    /// Creates an executor over <paramref name="weights"/> for steps of up to <paramref name="maxBatchTokens"/> tokens and
    /// <paramref name="maxBatchSequences"/> sequences at positions below <paramref name="maxPositions"/>, with a device KV
    /// cache shaped like <paramref name="cache"/> (whose sequences the batches must use). <paramref name="power"/>
    /// (e.g. <see cref="Energy.NvmlPowerSource"/>) gives each step's energy; null leaves it unknown.
    /// </summary>
    public GpuExecutor(GpuBackend backend, GpuModelWeights weights, PagedKvCache cache, int maxBatchTokens, int maxBatchSequences,
        int maxPositions, IPowerSource? power = null)
        : this(backend, weights, cache, maxBatchTokens, maxBatchSequences, maxPositions, power, ownsWeights: false)
    {
    }

    /// <summary>As the other constructor; <paramref name="ownsWeights"/>: Dispose frees the weights too (serving).</summary>
    public GpuExecutor(GpuBackend backend, GpuModelWeights weights, PagedKvCache cache, int maxBatchTokens, int maxBatchSequences,
        int maxPositions, IPowerSource? power, bool ownsWeights)
    {
        _ownsWeights = ownsWeights;
        _b = backend ?? throw new ArgumentNullException(nameof(backend));
        _w = weights ?? throw new ArgumentNullException(nameof(weights));
        _cache = cache ?? throw new ArgumentNullException(nameof(cache));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchTokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchSequences);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPositions);
        _c = weights.Config;
        if (cache.Layers != _c.Layers || cache.KvHeads != _c.KvHeads || cache.HeadDim != _c.HeadDim)
            throw new ArgumentException("the KV cache's shape differs from the model's", nameof(cache));
        _k = backend.Kernels;
        _power = power;
        MaxBatchTokens = maxBatchTokens;
        MaxBatchSequences = maxBatchSequences;
        MaxPositions = Math.Min(maxPositions, cache.MaxSequenceLength);
        int d = _c.EmbeddingLength, qd = _c.QueryDim, kvd = _c.KvDim, ffn = _c.FeedForwardLength, vocab = _c.VocabSize;
        _qkvDim = qd + 2 * kvd;
        _maxBlocks = cache.MaxBlocksPerSequence;
        _layerElems = (long)cache.Pool.NumBlocks * cache.BlockSize * kvd;
        _lpMax = (MaxPositions + 15) / 16 * 16;
        _attnChunk = (int)Math.Clamp(ScoreBudgetFloats / ((long)_c.Heads * _lpMax), 1, maxBatchTokens);

        _tokens = new int[maxBatchTokens];
        _positions = new int[maxBatchTokens];
        _slots = new int[maxBatchTokens];
        _tokenSeq = new int[maxBatchTokens];
        _tables = new int[maxBatchSequences * _maxBlocks];
        _logitRows = new int[maxBatchSequences];
        _logits = new float[(long)maxBatchSequences * vocab];
        _seqFirst = new int[maxBatchSequences];
        _seqLen = new int[maxBatchSequences];
        _seqStart = new int[maxBatchSequences];

        Accelerator a = backend.Accelerator;
        try
        {
            _dTokens = Own(a.Allocate1D<int>(maxBatchTokens));
            _dPositions = Own(a.Allocate1D<int>(maxBatchTokens));
            _dSlots = Own(a.Allocate1D<int>(maxBatchTokens));
            _dTokenSeq = Own(a.Allocate1D<int>(maxBatchTokens));
            _dTables = Own(a.Allocate1D<int>(_tables.Length));
            _dLogitRows = Own(a.Allocate1D<int>(maxBatchSequences));
            _dAmax = Own(a.Allocate1D<int>(1));
            _x = Own(a.Allocate1D<float>((long)maxBatchTokens * d));
            _xn = Own(a.Allocate1D<float>((long)maxBatchTokens * d));
            _qkv = Own(a.Allocate1D<float>((long)maxBatchTokens * _qkvDim));
            _attn = Own(a.Allocate1D<float>((long)maxBatchTokens * qd));
            _proj = Own(a.Allocate1D<float>((long)maxBatchTokens * d));
            _gu = Own(a.Allocate1D<float>((long)maxBatchTokens * 2 * ffn));
            _g = Own(a.Allocate1D<float>((long)maxBatchTokens * ffn));
            _dLogits = Own(a.Allocate1D<float>((long)maxBatchSequences * vocab));
            // prefill scores [chunk·Heads, lpMax], or decode-attention records for at least one token at the most splits
            long decodeScratch = (long)_c.Heads * GpuKernels.AttentionSplits(_lpMax) * (_c.HeadDim + 2);
            _scores = Own(a.Allocate1D<float>(Math.Max((long)_attnChunk * _c.Heads * _lpMax, decodeScratch)));
            _probs = Own(a.Allocate1D<ushort>((long)_attnChunk * _c.Heads * _lpMax));
            _keysG = Own(a.Allocate1D<ushort>((long)_lpMax * kvd));
            _valuesT = Own(a.Allocate1D<ushort>((long)_lpMax * kvd));
            _qG = Own(a.Allocate1D<ushort>((long)_attnChunk * qd));
            _oG = Own(a.Allocate1D<float>((long)_attnChunk * qd));
            _invSum = Own(a.Allocate1D<float>((long)_attnChunk * _c.Heads));
            _xScale = Own(a.Allocate1D<float>(1));
            _xScale.View.CopyFromCPU([1f]);
            _xq = Own(a.Allocate1D<byte>((long)maxBatchTokens * Math.Max(Math.Max(d, qd), ffn) * 2));
            _kCache = Own(a.Allocate1D<ushort>(_c.Layers * _layerElems));
            _vCache = Own(a.Allocate1D<ushort>(_c.Layers * _layerElems));
            _kCache.MemSetToZero();
            _vCache.MemSetToZero();
            (float[] rc, float[] rs) = RopeTables.Build(_c.Rope, MaxPositions, weights.RopeFrequencyFactors);
            _ropeC = Own(a.Allocate1D<float>(rc.Length));
            _ropeS = Own(a.Allocate1D<float>(rs.Length));
            _ropeC.View.CopyFromCPU(rc);
            _ropeS.View.CopyFromCPU(rs);
            backend.Synchronize();
            if (cache.BlockCopied is not null) throw new ArgumentException("the KV cache already serves another executor's block copies", nameof(cache));
            cache.BlockCopied = CopyDeviceBlock;
            _ = Flash;   // compile the fused prefill attention now, not inside the first prompt
            // one-row FP8 products through the NVRTC GEMV where the device has it (it beats cuBLASLt there, see UseFp8Gemv)
            if (weights.Layers.Count > 0 && weights.Layers[0].GateUp.Format == DeviceFormat.Fp8E4M3) _useFp8Gemv = backend.Fp8GemvNative is not null;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public int VocabSize => _c.VocabSize;

    /// <inheritdoc/>
    public int MaxBatchTokens { get; }

    /// <inheritdoc/>
    public int MaxBatchSequences { get; }

    /// <summary>Positions covered by the RoPE tables and attention scratch.</summary>
    public int MaxPositions { get; }

    /// <summary>
    /// Replay pure decode steps (one token per sequence) from CUDA graphs captured once per batch size (CUDA only; the
    /// step's inputs live in device buffers refreshed before each replay). On by default; a capture that fails turns it
    /// off and leaves the reason in <see cref="CudaGraphFailure"/>.
    /// </summary>
    public bool UseCudaGraphs { get; set; } = true;

    /// <summary>
    /// Sequences with at least this many tokens in a step (prompt chunks) run attention as two strided batched matrix
    /// products per chunk on the tensor cores (scores Q·Kᵀ over the sequence's gathered keys, causal softmax, then P·V);
    /// shorter ones (decode) run the paged kernel, which reads the cache in place. Default 16.
    /// </summary>
    public int PrefillGemmMinTokens { get; set; } = 16;

    /// <summary>
    /// Products of one activation row (decode at batch 1) with FP8 weights run an FP8 GEMV (F32 activations, no
    /// per-tensor quantization pass) instead of the matrix engine: the NVRTC-compiled <see cref="Fp8GemvNativeKernel"/>
    /// where the device has it (compute capability 8.9+), else <see cref="GpuKernels.Fp8Gemv"/>. Default: on when the
    /// native kernel is available for an FP8 model, off otherwise (on an H100, Llama-3.1-8B shape, CUDA graphs, the
    /// ILGPU GEMV took 6.12 device ms per token against 5.00 for cuBLASLt with quantized activations; `quanta gpu bench`
    /// reports the path not taken). Changing it drops the captured CUDA graphs (they hold the other path's launches).
    /// </summary>
    public bool UseFp8Gemv
    {
        get => _useFp8Gemv;
        set
        {
            if (value == _useFp8Gemv) return;
            _useFp8Gemv = value;
            foreach (var g in _graphs.Values) g.Dispose();
            _graphs.Clear();
        }
    }

    private bool _useFp8Gemv;

    /// <summary>
    /// Whether prompts of at least <see cref="PrefillGemmMinTokens"/> tokens run their attention through the fused
    /// tensor-core kernel (<see cref="FlashAttentionKernel"/>: one pass over the keys, no score matrix) instead of the
    /// batched cuBLASLt products around a separate softmax. On by default where the kernel is available
    /// (<see cref="FlashAttentionAvailable"/>); `quanta gpu bench` measures the other path too. Setting it where the
    /// kernel is unavailable keeps the unfused path.
    /// </summary>
    public bool UseFlashAttention { get; set; } = true;

    /// <summary>True when the fused prefill attention can run for this model (see <see cref="GpuBackend.FlashAttentionUnavailable"/> when not).</summary>
    public bool FlashAttentionAvailable => Flash is not null;

    private FlashAttentionKernel? Flash => FlashAttentionKernel.Supports(_c.HeadDim) ? _b.FlashAttention : null;

    /// <summary>
    /// Query tokens per chunk of <see cref="PrefillAttention"/> (at most what the score scratch holds). Chunk c of a
    /// prompt only multiplies against the keys up to its last token, so smaller chunks skip more of the masked upper
    /// triangle of the scores (512 of 2048 tokens: 62.5 % of the full square instead of 75 % with two halves) at the
    /// price of more, smaller products (256 measured slower on an H100: the score products lost more than the masked
    /// work saved). Default 512.
    /// </summary>
    public int PrefillAttentionChunkTokens
    {
        get => _prefillChunk;
        set => _prefillChunk = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "at least one token per chunk");
    }

    private int _prefillChunk = 512;

    /// <summary>
    /// When set, every step synchronizes after each operation and adds its seconds here under the operation's name
    /// ("attention", "matmul-qkv", …): a profile for diagnostics, far slower than normal steps; CUDA graphs are not used.
    /// </summary>
    public Dictionary<string, double>? OpProfile { get; set; }

    /// <summary>
    /// When true on CUDA, each step's device time (events around the layers, excluding the host's staging and the
    /// logits copy) goes to <see cref="LastStepDeviceMilliseconds"/>.
    /// </summary>
    public bool MeasureDeviceTime { get; set; }

    /// <summary>Device time of the last step in milliseconds (NaN unless <see cref="MeasureDeviceTime"/>).</summary>
    public double LastStepDeviceMilliseconds { get; private set; } = double.NaN;

    /// <summary>Why graph capture was turned off, or null.</summary>
    public string? CudaGraphFailure { get; private set; }

    /// <summary>Graphs captured so far.</summary>
    public int CudaGraphCount => _graphs.Count;

    /// <summary>Device bytes of the KV cache (keys and values).</summary>
    public long KvCacheBytes => 2 * _kCache.LengthInBytes;

    /// <inheritdoc/>
    public ExecutionResult Execute(ExecutionBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed, this);
        long t0 = Stopwatch.GetTimestamp();
        double? e0 = _power?.ReadEnergyJoules();
        _b.Accelerator.Bind();   // the engine loop calls from its own thread
        IReadOnlyList<SequenceWork> seqs = batch.Sequences;
        int ns = seqs.Count, vocab = _c.VocabSize, bs = _cache.BlockSize;
        if (ns > MaxBatchSequences) throw new ArgumentException($"{ns} sequences exceed the executor's {MaxBatchSequences}", nameof(batch));
        if (batch.TotalTokens > MaxBatchTokens) throw new ArgumentException($"{batch.TotalTokens} tokens exceed the executor's {MaxBatchTokens}", nameof(batch));
        var row = new int[ns];
        int n = 0, rows = 0;
        for (int s = 0; s < ns; s++)
        {
            SequenceWork w = seqs[s];
            if (w.Kv is not SequenceKv kv || !ReferenceEquals(kv.Cache, _cache))
                throw new ArgumentException($"sequence {w.SequenceId}: the GPU executor needs a SequenceKv of the cache it was created with", nameof(batch));
            ReadOnlySpan<int> toks = w.Tokens.Span;
            int end = w.StartPosition + toks.Length;
            if (w.StartPosition < 0 || end > MaxPositions)
                throw new ArgumentOutOfRangeException(nameof(batch), $"sequence {w.SequenceId}: positions [{w.StartPosition}, {end}) exceed {MaxPositions}");
            if (!kv.TryReserve(end)) throw new KvCacheFullException($"no free KV block for positions [{w.StartPosition}, {end}) of sequence {w.SequenceId}");
            ReadOnlySpan<int> table = kv.BlockTable;
            table.CopyTo(_tables.AsSpan(s * _maxBlocks, _maxBlocks));
            for (int i = 0; i < toks.Length; i++, n++)
            {
                int token = toks[i], p = w.StartPosition + i;
                if ((uint)token >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(batch), token, $"sequence {w.SequenceId}: token id outside [0, {vocab})");
                _tokens[n] = token;
                _positions[n] = p;
                _slots[n] = table[p / bs] * bs + p % bs;
                _tokenSeq[n] = s;
            }
            _seqFirst[s] = n - toks.Length;
            _seqLen[s] = toks.Length;
            _seqStart[s] = w.StartPosition;
            if (w.NeedsLogits) _logitRows[rows] = n - 1;
            row[s] = w.NeedsLogits ? rows++ : -1;
        }
        _ns = ns;
        int maxEnd = 0;
        for (int s = 0; s < ns; s++) maxEnd = Math.Max(maxEnd, _seqStart[s] + _seqLen[s]);
        _splits = GpuKernels.AttentionSplits(maxEnd);
        if (n > 0)
        {
            Upload(_dTokens, _tokens, n);
            Upload(_dPositions, _positions, n);
            Upload(_dSlots, _slots, n);
            Upload(_dTokenSeq, _tokenSeq, n);
            Upload(_dTables, _tables, ns * _maxBlocks);
            if (rows > 0) Upload(_dLogitRows, _logitRows, rows);
            bool timed = MeasureDeviceTime && _b.IsCuda;
            if (timed)
            {
                _startEvent ??= new Interop.CudaEvent();
                _startEvent.Record(_b.StreamPointer);
            }
            if (UseCudaGraphs && OpProfile is null && _b.IsCuda && CudaGraphFailure is null && n == ns && rows == ns) ForwardGraph(n, rows);
            else Forward(n, rows);
            if (timed)
            {
                _endEvent ??= new Interop.CudaEvent();
                _endEvent.Record(_b.StreamPointer);
            }
            if (rows > 0) V(_dLogits).SubView(0, (long)rows * vocab).CopyToCPU(_b.Stream, _logits.AsSpan(0, rows * vocab));
        }
        _b.Synchronize();
        LastStepDeviceMilliseconds = MeasureDeviceTime && _b.IsCuda && n > 0 ? _endEvent!.ElapsedSince(_startEvent!) : double.NaN;
        double? energy = _power is null ? null : Math.Max(0, _power.ReadEnergyJoules() - e0!.Value);
        return new ExecutionResult(_logits, row, vocab, Stopwatch.GetElapsedTime(t0), energy);
    }

    /// <summary>
    /// Replays the graph of <see cref="Forward"/> for (n, rows, splits); a shape seen for the first time runs
    /// <see cref="Forward"/> directly and then records its graph for the next step.
    /// </summary>
    private void ForwardGraph(int n, int rows)
    {
        nint stream = _b.StreamPointer;
        if (!_graphs.TryGetValue((n, rows, _splits), out Interop.CudaGraph? graph))
        {
            if (_graphs.Count >= MaxGraphs)
            {
                // contexts grow through many split counts: start over rather than keep every graph
                foreach (var old in _graphs.Values) old.Dispose();
                _graphs.Clear();
            }
            // this step runs uncaptured (its matrix-product plans get made and timed outside capture); the graph recorded
            // after it only records, and serves the next step of this shape
            Forward(n, rows);
            try
            {
                Interop.CudaDriver.BeginCapture(stream);
                try
                {
                    Forward(n, rows);
                }
                finally
                {
                    graph = Interop.CudaDriver.EndCapture(stream);
                }
            }
#pragma warning disable CA1031 // any failure of capture (ours, ILGPU's or cuBLASLt's) falls back to plain launches
            catch (Exception e)
#pragma warning restore CA1031
            {
                CudaGraphFailure = $"{e.GetType().Name}: {e.Message}";
                graph?.Dispose();
                return;
            }
            _graphs[(n, rows, _splits)] = graph;
            return;
        }
        graph.Launch(stream);
    }

    /// <summary>Runs embedding, layers and the logits of <paramref name="rows"/> gathered rows over n staged tokens.</summary>
    private void Forward(int n, int rows)
    {
        ModelConfig c = _c;
        int d = c.EmbeddingLength, qd = c.QueryDim, kvd = c.KvDim, ffn = c.FeedForwardLength, hd = c.HeadDim;
        if (OpProfile != null)
        {
            _b.Synchronize();
            _markTicks = Stopwatch.GetTimestamp();
        }
        _k.Embedding(_w.Embedding.View, _dTokens.View, _x.View, n, d, c.EmbeddingScale);
        Mark("embedding");
        bool neox = c.Rope.Layout == RopeLayout.NeoX;
        for (int l = 0; l < c.Layers; l++)
        {
            GpuLayerWeights w = _w.Layers[l];
            // the previous layer's down projection is added to the residual inside this norm
            ProductInput ready = Norm(w.AttentionNorm, n, w.Qkv, null, addProjection: l > 0);
            Mark(l > 0 ? "add+rmsnorm" : "rmsnorm");
            Project(_xn, n, w.Qkv, _qkv, "qkv", ready);
            if (w.QkvBias != null) _k.BiasAdd(_qkv.View, w.QkvBias.View, n, _qkvDim, _qkvDim, 0);
            long layerOffset = l * _layerElems;
            _k.RopeKvWrite(_qkv.View, _dPositions.View, _dSlots.View, _ropeC.View, _ropeS.View, _kCache.View, _vCache.View, n, new RopeKvArgs
            {
                Heads = c.Heads, HeadDim = hd, Rot = c.Rope.RotaryDims, Neox = neox ? 1 : 0, QkvStride = _qkvDim, KOffset = qd, VOffset = qd + kvd,
                KvDim = kvd, LayerOffset = layerOffset,
            });
            Mark("bias+rope+kv-write");
            Attention(l, layerOffset);
            Project(_attn, n, w.Output, _proj, "attn-out", ProductInput.Raw);
            ready = Norm(w.FeedForwardNorm, n, w.GateUp, null, addProjection: true);
            Mark("add+rmsnorm");
            Project(_xn, n, w.GateUp, _gu, "gate-up", ready);
            if (w.Down.Format == DeviceFormat.BF16)
            {
                _k.SwiGluToBf16(_gu.View, Bf16Input, n, ffn);
                ready = ProductInput.Ready;
            }
            else if (FusedAmax(w.Down, n))
            {
                _k.SwiGluWithAmax(_gu.View, _g.View, _dAmax.View, n, ffn);
                ready = ProductInput.AmaxKnown;
            }
            else
            {
                _k.SwiGlu(_gu.View, _g.View, n, ffn);
                ready = ProductInput.Raw;
            }
            Mark("swiglu");
            Project(_g, n, w.Down, _proj, "down", ready);
        }
        if (c.Layers > 0)
        {
            _k.Add(_x.View, _proj.View, n * d);   // the last down projection (the output norm gathers rows: no fused add)
            Mark("add");
        }
        if (rows == 0) return;
        ProductInput logitsReady = Norm(_w.OutputNorm, rows, _w.Output, _dLogitRows.View);
        Mark("rmsnorm");
        Project(_xn, rows, _w.Output, _dLogits, "logits", logitsReady);
    }

    /// <summary>What a product's input buffer holds when <see cref="Project"/> runs.</summary>
    private enum ProductInput
    {
        /// <summary>F32 activations only: convert or quantize them first.</summary>
        Raw,

        /// <summary>The matrix engine's input (BF16, or FP8 codes and scale) is written.</summary>
        Ready,

        /// <summary>F32 activations with their absolute maximum already in _dAmax: quantize without the amax pass.</summary>
        AmaxKnown,
    }

    /// <summary>
    /// Whether the producer of an FP8 product's input folds the absolute maximum into its own pass (prompt-sized
    /// inputs; small ones go through the one-group quantizer, which needs no separate amax launch anyway).
    /// </summary>
    private bool FusedAmax(DeviceMatrix next, int rows) =>
        next.Format == DeviceFormat.Fp8E4M3 && !Gemv(next, rows) && (long)rows * next.Cols > FusedAmaxMinElements;

    /// <summary>Inputs above this many elements take <see cref="FusedAmax"/> (tests lower it to reach tiny models).</summary>
    internal long FusedAmaxMinElements { get; set; } = GpuKernels.SmallQuantizeCount;

    /// <summary>Whether the product of <paramref name="rows"/> rows with <paramref name="w"/> goes through the FP8 GEMV.</summary>
    private bool Gemv(DeviceMatrix w, int rows) => rows == 1 && UseFp8Gemv && GpuKernels.Fp8GemvFits(w);

    /// <summary>The staged activations as BF16, the matrix engine's input buffer.</summary>
    private ArrayView<ushort> Bf16Input => ((ArrayView<byte>)_xq.View).Cast<ushort>();

    /// <summary>
    /// RMSNorm of _x (after adding _proj into it when <paramref name="addProjection"/>) into the next product's input:
    /// BF16 into the engine's input buffer when <paramref name="next"/> is BF16, FP8 codes and scale when it is FP8 and
    /// there is one row (both Ready: nothing left to convert), else F32 into _xn, with the absolute maximum in _dAmax
    /// when the next product is FP8 and prompt-sized (AmaxKnown).
    /// </summary>
    private ProductInput Norm(MemoryBuffer1D<float, Stride1D.Dense> weight, int rows, DeviceMatrix next, ArrayView<int>? rowMap, bool addProjection = false)
    {
        int d = _c.EmbeddingLength;
        ArrayView<float>? residual = addProjection ? _proj.View : null;
        // BF16 weights: BF16 input; FP8 through the GEMV: F32; FP8 with one row otherwise: codes and the per-tensor scale
        // from the same group; else F32 to quantize
        int mode = next.Format == DeviceFormat.BF16 ? 1 : Gemv(next, rows) ? 0 : rows == 1 ? 2 : 0;
        bool amax = mode == 0 && FusedAmax(next, rows);
        _k.Norm(_x.View, weight.View, residual, mode, _xn.View, Bf16Input, _xq.View, _xScale.View, rows, d, _c.NormEps, rowMap,
            amax ? _dAmax.View : null);
        return mode != 0 ? ProductInput.Ready : amax ? ProductInput.AmaxKnown : ProductInput.Raw;
    }

    /// <summary>
    /// Attention of every staged token for layer <paramref name="layer"/>: prompt chunks of at least
    /// <see cref="PrefillGemmMinTokens"/> tokens through <see cref="PrefillAttention"/>, runs of shorter sequences
    /// (decode) through the paged kernel.
    /// </summary>
    private void Attention(int layer, long layerOffset)
    {
        ModelConfig c = _c;
        var args = new AttentionArgs
        {
            Heads = c.Heads, KvHeads = c.KvHeads, HeadDim = c.HeadDim, QkvStride = _qkvDim, BlockSize = _cache.BlockSize, MaxBlocks = _maxBlocks,
            MaxPositions = MaxPositions, SlidingWindow = c.SlidingWindow(layer), LayerOffset = layerOffset,
            Scale = c.EffectiveAttentionScale, SoftCap = c.AttentionLogitSoftCap, Splits = _splits,
        };
        int perChunk = (int)Math.Max(1, Math.Min(_attnChunk, _scores.Length / GpuKernels.AttentionScratchFloats(1, args)));
        int s = 0;
        while (s < _ns)
        {
            if (_seqLen[s] >= PrefillGemmMinTokens)
            {
                PrefillAttention(s, layer, layerOffset);
                s++;
                continue;
            }
            int first = _seqFirst[s], count = 0;
            while (s < _ns && _seqLen[s] < PrefillGemmMinTokens) count += _seqLen[s++];
            for (int t0 = 0; t0 < count; t0 += perChunk)
            {
                int m = Math.Min(perChunk, count - t0);
                long t = first + t0;
                _k.Attention(V(_qkv).SubView(t * _qkvDim), _kCache.View, _vCache.View, _dTables.View, V(_dTokenSeq).SubView(t),
                    V(_dPositions).SubView(t), _scores.View, V(_attn).SubView(t * c.QueryDim), m, args);
            }
            Mark("attention-decode");
        }
    }

    /// <summary>
    /// Attention of sequence <paramref name="s"/>'s tokens on the tensor cores: its keys and values for every position
    /// it can see are gathered from the paged cache once (K and Vᵀ per KV head, BF16). With <see cref="UseFlashAttention"/>
    /// and the kernel available, one fused launch (<see cref="FlashAttentionKernel"/>) does the rest. Otherwise, per chunk of query tokens
    /// the queries are grouped per KV head, S = Q·Kᵀ (strided batched over KV heads), a causal softmax gives unnormalized
    /// BF16 P̃ and each row's 1/Σ, and O = P̃·V, scaled by 1/Σ, goes back to the token rows. The masked half of S is computed and discarded, which the tensor cores'
    /// speed pays for many times over against a scalar kernel.
    /// </summary>
    private void PrefillAttention(int s, int layer, long layerOffset)
    {
        ModelConfig c = _c;
        int hd = c.HeadDim, g = c.Heads / c.KvHeads, first = _seqFirst[s], len = _seqLen[s], start = _seqStart[s];
        var a = new PrefillArgs
        {
            Heads = c.Heads, KvHeads = c.KvHeads, HeadDim = hd, QkvStride = _qkvDim, KeyRows = _lpMax, BlockSize = _cache.BlockSize,
            TableOffset = s * _maxBlocks, LayerOffset = layerOffset, SlidingWindow = c.SlidingWindow(layer),
            Scale = c.EffectiveAttentionScale, SoftCap = c.AttentionLogitSoftCap,
            Length = start + len, Padded = (start + len + 15) / 16 * 16,
        };
        _k.GatherKv(_kCache.View, _vCache.View, _dTables.View, _keysG.View, _valuesT.View, a);
        Mark("attention-prefill-gather");
        if (UseFlashAttention && Flash is FlashAttentionKernel flash)
        {
            a.Tokens = len;
            a.FirstPosition = start;
            flash.Run((ulong)_qkv.NativePtr + (ulong)first * (ulong)_qkvDim * sizeof(float), (ulong)_keysG.NativePtr, (ulong)_valuesT.NativePtr,
                (ulong)_attn.NativePtr + (ulong)first * (ulong)c.QueryDim * sizeof(float), a, _b.StreamPointer);
            Mark("attention-prefill-flash");
            return;
        }
        int chunk = Math.Min(_attnChunk, _prefillChunk);
        for (int t0 = 0; t0 < len; t0 += chunk)
        {
            int tc = Math.Min(chunk, len - t0), rows = tc * g;
            a.Tokens = tc;
            a.FirstPosition = start + t0;
            a.Length = start + t0 + tc;
            a.Padded = (a.Length + 15) / 16 * 16;
            _k.GroupQueries(V(_qkv).SubView((long)(first + t0) * _qkvDim), _qG.View, a);
            _b.MatMul.BatchedMatMulBf16(_qG, 0, hd, (long)rows * hd, _keysG, 0, hd, (long)_lpMax * hd,
                _scores, 0, a.Padded, (long)rows * a.Padded, rows, a.Padded, hd, c.KvHeads);
            Mark("attention-prefill-qk");
            _k.CausalSoftmax(_scores.View, _probs.View, _invSum.View, a);
            Mark("attention-prefill-softmax");
            _b.MatMul.BatchedMatMulBf16(_probs, 0, a.Padded, (long)rows * a.Padded, _valuesT, 0, _lpMax, (long)hd * _lpMax,
                _oG, 0, hd, (long)rows * hd, rows, hd, a.Padded, c.KvHeads);
            _k.UngroupOutput(_oG.View, _invSum.View, V(_attn).SubView((long)(first + t0) * c.QueryDim), a);
            Mark("attention-prefill-pv");
        }
    }

    /// <summary>Profiling: adds the time since the last boundary to <paramref name="op"/> (no-op unless <see cref="OpProfile"/> is set).</summary>
    private void Mark(string op)
    {
        if (OpProfile is null) return;
        _b.Synchronize();
        long now = Stopwatch.GetTimestamp();
        OpProfile[op] = OpProfile.GetValueOrDefault(op) + Stopwatch.GetElapsedTime(_markTicks, now).TotalSeconds;
        _markTicks = now;
    }

    /// <summary>
    /// y [m, w.Rows] = x [m, w.Cols] · wᵀ: converts x to the weight format (unless <paramref name="input"/> is Ready:
    /// the producer already wrote the engine's input; AmaxKnown: only the quantization pass is left), runs the product,
    /// applies channel scales. One FP8 row goes through the GEMV instead, on x as it is.
    /// </summary>
    private void Project(MemoryBuffer1D<float, Stride1D.Dense> x, int m, DeviceMatrix w, MemoryBuffer1D<float, Stride1D.Dense> y, string name,
        ProductInput input)
    {
        if (Gemv(w, m))
        {
            // one F32 row against FP8 weights: no quantization pass, the GEMV streams the weights
            if (_b.Fp8GemvNative is Fp8GemvNativeKernel native && Fp8GemvNativeKernel.Fits(w))
                native.Run(w, (ulong)x.NativePtr, (ulong)y.NativePtr, _b.StreamPointer);
            else
                _k.Fp8Gemv(w, x.View, y.View);
            if (w.ChannelScales != null) _k.ChannelScale(y.View, w.ChannelScales.View, m, w.Rows);
            Mark(name);
            return;
        }
        int count = m * w.Cols;
        if (input != ProductInput.Ready)
        {
            if (w.Format == DeviceFormat.BF16) _k.ToBf16(x.View, Bf16Input, count);
            else if (input == ProductInput.AmaxKnown) _k.QuantizeE4M3Raw(x.View, _dAmax.View, _xq.View, _xScale.View, count);
            else _k.QuantizeE4M3(x.View, _xq.View, _dAmax.View, _xScale.View, count);
            Mark("quantize-activations");
        }
        _b.MatMul.MatMul(w, _xq, _xScale, m, y);
        if (w.ChannelScales != null) _k.ChannelScale(y.View, w.ChannelScales.View, m, w.Rows);
        Mark(name);
    }

    private void Upload(MemoryBuffer1D<int, Stride1D.Dense> dst, int[] src, int count) =>
        V(dst).SubView(0, count).CopyFromCPU(_b.Stream, (ReadOnlySpan<int>)src.AsSpan(0, count));

    private static ArrayView<T> V<T>(MemoryBuffer1D<T, Stride1D.Dense> b) where T : unmanaged => b.View;

    private T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    /// <summary>Copy-on-write on the device: block <paramref name="src"/>'s keys and values, every layer, into <paramref name="dst"/>.</summary>
    private void CopyDeviceBlock(int src, int dst)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long e = (long)_cache.BlockSize * _c.KvDim;
        for (int l = 0; l < _c.Layers; l++)
        {
            long layer = l * _layerElems;
            // on the executor's stream (non-blocking on CUDA), so the copies are ordered before the step's kernels
            _kCache.View.SubView(layer + src * e, e).CopyTo(_b.Stream, _kCache.View.SubView(layer + dst * e, e));
            _vCache.View.SubView(layer + src * e, e).CopyTo(_b.Stream, _vCache.View.SubView(layer + dst * e, e));
        }
    }

    /// <summary>Frees the executor's device buffers (not the weights or the backend, unless it owns the weights).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_cache?.BlockCopied == CopyDeviceBlock) _cache.BlockCopied = null;
        foreach (var g in _graphs.Values) g.Dispose();
        _graphs.Clear();
        _startEvent?.Dispose();
        _endEvent?.Dispose();
        foreach (var d in _owned) d.Dispose();
        _owned.Clear();
        if (_ownsWeights) _w.Dispose();
    }
}
