using System.Diagnostics;
using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Attention;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.Threading;
using Quanta.Engine.KvCache;
using Quanta.Models.KvCache;

namespace Quanta.Planner.Performance;

/// <summary>
/// The CPU twin's machine probes of the engine's own kernels, each on cache-resident data so that it measures the
/// arithmetic rate (memory traffic is the read-bandwidth probe's part):
/// <list type="bullet">
/// <item><see cref="GemmRates"/>: Core's parallel matrix product (the one every weight matrix of a step runs through,
/// with m = the step's tokens) at several m, on the model's quantization formats;</item>
/// <item><see cref="AttentionRate"/>: the causal attention row kernel over an F16 KV cache, as the serving engine's
/// paged cache and the benchmark's contiguous cache run it.</item>
/// </list>
/// Each probe first runs untimed (<see cref="WarmUp"/>: at least the given seconds and until the rate has settled, so
/// the JIT has promoted the kernels to optimized code, as in a long engine run; a first reading taken on tier-0 code
/// was 10x low), then times each point for about the given seconds.
/// </summary>
public static class CpuProbe
{
    /// <summary>Activation-row counts the twin measures by default: single decode, batched decodes, prefill chunks.</summary>
    public static IReadOnlyList<int> DefaultGemmM { get; } = [1, 4, 16, 64, 256, 512];

    /// <summary>Positions per block of the paged attention probe (the serving engine's default block size).</summary>
    public const int PagedBlockSize = 16;

    /// <summary>Bytes of the probe's weight matrix (kept in the cache hierarchy).</summary>
    public const int ProbeWeightBytes = 512 * 1024;

    /// <summary>
    /// Elements of the weight matrices a step multiplies, by format, from a GGUF file: every tensor of rank ≥ 2 whose
    /// format a dot kernel reads, except the token-embedding table when a separate output head exists.
    /// </summary>
    public static Dictionary<WeightFormat, double> MatrixElements(string ggufPath)
    {
        using var file = GgufFile.Open(ggufPath);
        bool tied = !file.TryGetTensor("output.weight", out _);
        var elements = new Dictionary<WeightFormat, double>();
        foreach (var t in file.Tensors)
        {
            if (t.Rank < 2 || (t.Name == "token_embd.weight" && !tied)) continue;
            if (!CodecRegistry.TryGetWeightFormat(t.Type, out var f)) continue;
            elements[f] = elements.GetValueOrDefault(f) + t.ElementCount;
        }
        if (elements.Count == 0) throw new InvalidDataException($"{ggufPath}: no weight matrices in a format the dot kernels read");
        return elements;
    }

    /// <summary>
    /// The output head's format and elements in a GGUF file: output.weight, or the token-embedding table when the output
    /// is tied to it; null when neither is in a format the dot kernels read.
    /// </summary>
    public static (WeightFormat Format, double Elements, double Bytes)? HeadMatrix(string ggufPath)
    {
        using var file = GgufFile.Open(ggufPath);
        string name = file.TryGetTensor("output.weight", out _) ? "output.weight" : "token_embd.weight";
        foreach (var t in file.Tensors)
            if (t.Name == name && t.Rank >= 2 && CodecRegistry.TryGetWeightFormat(t.Type, out var f))
                return (f, t.ElementCount, t.ByteCount);
        return null;
    }

    /// <summary>
    /// The matrix-product rate at each of <paramref name="ms"/> (rising) for a model whose matrices hold
    /// <paramref name="elements"/> weights per format: per format, the rate is measured at each input width of
    /// <paramref name="widths"/> (a width's activation rows of m x width are what a tile's weights meet: at m = 512
    /// and the FFN width they no longer sit in a core's cache) and combined by the widths' shares of the weights; the
    /// formats are then combined as total ops / Σ (ops of the format's matrices / its rate). Ops are 2 per multiply-add.
    /// </summary>
    public static IReadOnlyList<GemmRate> GemmRates(IReadOnlyDictionary<WeightFormat, double> elements, IReadOnlyList<(int Cols, double Share)> widths,
        IReadOnlyList<int> ms, int threads, double seconds)
    {
        ArgumentNullException.ThrowIfNull(elements);
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentNullException.ThrowIfNull(ms);
        if (elements.Count == 0) throw new ArgumentException("no weight formats to probe", nameof(elements));
        if (widths.Count == 0 || widths.Any(w => !(w.Share > 0))) throw new ArgumentException("need input widths with positive shares", nameof(widths));
        CheckMs(ms);
        double shares = widths.Sum(w => w.Share);
        var rates = new List<GemmRate>(ms.Count);
        var perFormat = new Dictionary<WeightFormat, double[]>();   // format -> [ms] time per op
        foreach (var (f, n) in elements)
        {
            if (!(n > 0)) continue;
            var perOp = new double[ms.Count];
            foreach (var (cols, share) in widths)
            {
                var r = GemmRates(KernelRegistry.VecDot(f), cols, ms, threads, seconds);
                for (int i = 0; i < ms.Count; i++) perOp[i] += share / shares / r[i].OpsPerSecond;
            }
            perFormat[f] = perOp;
        }
        for (int i = 0; i < ms.Count; i++)
        {
            double ops = 0, time = 0;
            foreach (var (f, n) in elements)
            {
                if (!(n > 0)) continue;
                ops += n;
                time += n * perFormat[f][i];
            }
            rates.Add(new GemmRate(ms[i], ops / time));
        }
        return rates;
    }

    /// <summary>
    /// As the overload with widths, every matrix having <paramref name="cols"/> inputs.
    /// </summary>
    public static IReadOnlyList<GemmRate> GemmRates(IReadOnlyDictionary<WeightFormat, double> elements, int cols, IReadOnlyList<int> ms, int threads, double seconds) =>
        GemmRates(elements, [(cols, 1.0)], ms, threads, seconds);

    /// <summary>
    /// Ops/s of Core's parallel matrix product with <paramref name="kernel"/>'s format on <paramref name="threads"/>
    /// threads at each m of <paramref name="ms"/>: a zero weight matrix (a valid row in every format) of
    /// <paramref name="cols"/> inputs and about <see cref="ProbeWeightBytes"/> bytes, random activations.
    /// </summary>
    public static IReadOnlyList<GemmRate> GemmRates(IVecDotKernel kernel, int cols, IReadOnlyList<int> ms, int threads, double seconds) =>
        GemmRates(kernel, cols, ms, threads, seconds, ProbeWeightBytes, maxRows: 4096);

    /// <summary>
    /// As the overload without <paramref name="weightBytes"/>, on a weight matrix of about that many bytes (at least 4 row
    /// tiles): beyond the caches, the weights stream from memory as a model's do.
    /// </summary>
    public static IReadOnlyList<GemmRate> GemmRates(IVecDotKernel kernel, int cols, IReadOnlyList<int> ms, int threads, double seconds, long weightBytes) =>
        GemmRates(kernel, cols, ms, threads, seconds, weightBytes, maxRows: int.MaxValue);

    private static IReadOnlyList<GemmRate> GemmRates(IVecDotKernel kernel, int cols, IReadOnlyList<int> ms, int threads, double seconds, long weightBytes, int maxRows)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(ms);
        if (cols < 32 || cols % 32 != 0) throw new ArgumentException($"columns must be a positive multiple of 32, got {cols}", nameof(cols));
        CheckMs(ms);
        if (threads < 1) throw new ArgumentException($"threads must be at least 1, got {threads}", nameof(threads));
        if (!(seconds > 0) || double.IsInfinity(seconds)) throw new ArgumentException($"seconds must be positive, got {seconds}", nameof(seconds));
        long rowBytes = kernel.WeightRowBytes(cols);
        if (weightBytes < 1 || weightBytes > 1L << 31) throw new ArgumentException($"probe weight bytes must be in [1, 2 GiB], got {weightBytes}", nameof(weightBytes));
        int rows = (int)Math.Min(Math.Max(weightBytes / rowBytes / MatMul.RowTile * MatMul.RowTile, 4L * MatMul.RowTile), maxRows);
        byte[] weights = new byte[checked(rows * rowBytes)];   // [rows, rowBytes] zero: scale 0, no subnormals
        weights.AsSpan().Fill(0);   // written, so every page is the process's own (an untouched one may map the kernel's shared zero page)
        int maxM = ms.Max();
        var rng = new Random(12345);
        float[] x = new float[(long)maxM * cols];     // [maxM, cols]
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        float[] y = new float[(long)maxM * rows];     // [maxM, rows]
        byte[] scratch = new byte[MatMul.ScratchBytes(kernel, maxM, cols)];
        using var pool = new WorkerPool(threads);
        void Product(int m) => MatMul.Compute(kernel, weights, rows, cols, x.AsSpan(0, m * cols), m, y.AsSpan(0, m * rows), scratch, pool);
        WarmUp(() => { Product(ms[0]); Product(maxM); }, seconds);
        var rates = new List<GemmRate>(ms.Count);
        foreach (int m in ms)
        {
            long calls = 0;
            var sw = Stopwatch.StartNew();
            while (calls < 3 || sw.Elapsed.TotalSeconds < seconds)
            {
                Product(m);
                calls++;
            }
            rates.Add(new GemmRate(m, calls * 2.0 * rows * cols * m / sw.Elapsed.TotalSeconds));
        }
        return rates;
    }

    /// <summary>
    /// Runs <paramref name="step"/> for at least <paramref name="seconds"/> and then until two successive windows (of
    /// seconds / 2, between 5 ms and 0.1 s) ran within 5% of the same number of steps (the JIT's tier-up has happened),
    /// at most 4 x seconds + 10 windows.
    /// </summary>
    public static void WarmUp(Action step, double seconds)
    {
        ArgumentNullException.ThrowIfNull(step);
        double window = Math.Clamp(seconds / 2, 0.005, 0.1);
        double limit = 4 * seconds + 10 * window;
        var total = Stopwatch.StartNew();
        long previous = -1;
        while (total.Elapsed.TotalSeconds < limit)
        {
            long n = 0;
            var w = Stopwatch.StartNew();
            while (w.Elapsed.TotalSeconds < window) { step(); n++; }
            if (total.Elapsed.TotalSeconds >= seconds && previous > 0 && Math.Abs(n - previous) <= 0.05 * Math.Max(n, previous)) return;
            previous = n;
        }
    }

    private static void CheckMs(IReadOnlyList<int> ms)
    {
        if (ms.Count == 0 || ms.Any(m => m < 1)) throw new ArgumentException("activation-row counts must be at least 1", nameof(ms));
        for (int i = 1; i < ms.Count; i++) if (ms[i] <= ms[i - 1]) throw new ArgumentException("activation-row counts must rise", nameof(ms));
    }

    /// <summary>
    /// Ops/s (4 per attended position per head dimension: q·k and the weighted sum of v) of the causal attention kernel
    /// on <paramref name="threads"/> threads, each over its own F16 caches: <paramref name="sequences"/> sequences of
    /// <paramref name="length"/> positions in <paramref name="layers"/> layers, <paramref name="kvHeads"/> KV heads of
    /// <paramref name="headDim"/> (query heads = <paramref name="heads"/>). Calls go head by head, then sequence by
    /// sequence, then layer by layer, as a step of the engine visits them, so the kernel reads its keys and values from
    /// wherever a working set of that size lives (the caches, or memory for a serve wave's many sequences).
    /// <paramref name="rows"/> = 1 computes the row of a query at the last position (a decode, as the cache's AttendRow);
    /// more computes that many consecutive queries ending at the last position in one AttendRows call (a prefill
    /// chunk's block: the kernel shares each key and value load between them). <paramref name="paged"/>: the caches are
    /// the serving engine's paged one (a <see cref="SequenceKv"/> per sequence over blocks of
    /// <see cref="PagedBlockSize"/> positions), else the benchmark session's contiguous one. Decode calls tell the cache
    /// the thread's next call of the same layer (<see cref="NextAttention"/>), as DecoderModel's attention parts do (each
    /// part a contiguous run of (token, head group) items): the paged cache prefetches that call's K/V rows while the
    /// current one computes (the contiguous cache ignores the hint, as it does in the engine); the last call of a layer
    /// has no hint, like a part's last item. <paramref name="nextHint"/> false: no hints (the engine before 2026-11-27 17:30).
    /// </summary>
    public static double AttentionRate(int heads, int kvHeads, int headDim, int length, int threads, double seconds, int rows = 1, bool paged = false,
        int sequences = 1, int layers = 1, bool nextHint = true)
    {
        if (heads < 1 || kvHeads < 1 || heads % kvHeads != 0 || headDim < 1 || length < 1)
            throw new ArgumentException($"invalid attention shape: {heads} heads, {kvHeads} KV heads, head size {headDim}, {length} positions");
        if (rows < 1 || rows > length) throw new ArgumentException($"rows must be in [1, {length}], got {rows}", nameof(rows));
        if (sequences < 1 || layers < 1 || (long)sequences * layers * length * kvHeads * headDim > 1L << 28)
            throw new ArgumentException($"{sequences} sequences x {layers} layers x {length} positions: out of the probe's range", nameof(sequences));
        if (threads < 1) throw new ArgumentException($"threads must be at least 1, got {threads}", nameof(threads));
        if (!(seconds > 0) || double.IsInfinity(seconds)) throw new ArgumentException($"seconds must be positive, got {seconds}", nameof(seconds));
        long[] calls = new long[threads];
        double[] elapsed = new double[threads];
        var start = new Barrier(threads);
        var workers = new Thread[threads];
        int first = length - rows;
        double pairsPerCall = rows * (first + (rows + 1) / 2.0);   // query i (0-based) at position first + i attends first + i + 1 positions
        if (rows == 1) pairsPerCall *= CausalAttention.HeadGroup(heads, kvHeads);   // a decode call covers a group of heads
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                var rng = new Random(id + 1);
                var caches = new IKvCacheView[sequences];
                PagedKvCache? pool = paged
                    ? new PagedKvCache(layers, kvHeads, headDim, sequences * ((length + PagedBlockSize - 1) / PagedBlockSize) + 1, PagedBlockSize, length, KvCacheType.F16)
                    : null;
                float[] kv = new float[length * kvHeads * headDim];   // [length, kvHeads, headDim]
                for (int s = 0; s < sequences; s++)
                {
                    if (pool is not null)
                    {
                        var seq = pool.CreateSequence([], usePrefixCache: false);
                        if (!seq.TryReserve(length)) throw new InvalidOperationException("the probe's paged cache has too few blocks");
                        caches[s] = seq;
                    }
                    else caches[s] = new ContiguousKvCache(layers, kvHeads, headDim, length, KvCacheType.F16);
                    for (int l = 0; l < layers; l++)
                    {
                        for (int i = 0; i < kv.Length; i++) kv[i] = (float)(rng.NextDouble() * 2 - 1);
                        caches[s].Write(l, 0, length, kv, kv);
                    }
                }
                int stride = heads * headDim;
                float[] q = new float[rows * stride];                 // [rows, heads, headDim]
                for (int i = 0; i < q.Length; i++) q[i] = (float)(rng.NextDouble() * 2 - 1);
                float[] o = new float[rows * stride];                 // [rows, heads, headDim]
                float[] scratch = new float[CausalAttention.ScratchLength(length, headDim)];
                var p = new AttentionParameters(heads, kvHeads, headDim);
                int h = 0, sq = 0, layer = 0, headGroup = CausalAttention.HeadGroup(heads, kvHeads);
                void Call()
                {
                    var cache = caches[sq];
                    if (rows == 1)
                    {
                        // a decode row: the engine runs the query heads of a KV head together, told its next call in the layer
                        int nh = h + headGroup, ns = sq;
                        if (nh >= heads) { nh = 0; ns++; }
                        var next = nextHint && ns < sequences ? new NextAttention(caches[ns], layer, length, first, nh) : default;
                        cache.AttendHeads(layer, length, q.AsSpan(h * headDim, headGroup * headDim), headGroup, first, h, p, o.AsSpan(h * headDim, headGroup * headDim), scratch, next);
                        h += headGroup - 1;
                    }
                    else cache.AttendRows(layer, length, q.AsSpan(h * headDim), stride, rows, first, h, p, o.AsSpan(h * headDim), stride, scratch);
                    if (++h < heads) return;
                    h = 0;
                    if (++sq < sequences) return;
                    sq = 0;
                    layer = (layer + 1) % layers;
                }
                WarmUp(Call, seconds);
                start.SignalAndWait();
                long n = 0;
                var sw = Stopwatch.StartNew();
                while (n < 8 || sw.Elapsed.TotalSeconds < seconds)
                {
                    Call();
                    n++;
                }
                elapsed[id] = sw.Elapsed.TotalSeconds;
                calls[id] = n + (o[0] == 123.456f ? 1 : 0);
            }) { IsBackground = true };
            workers[t].Start();
        }
        foreach (var w in workers) w.Join();
        double rate = 0;
        for (int t = 0; t < threads; t++) rate += calls[t] * 4.0 * pairsPerCall * headDim / elapsed[t];
        return rate;
    }
}
