using System.Diagnostics;
using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.Threading;
using Quanta.Models.Weights;

namespace Quanta.Planner.Performance;

/// <summary>
/// The matrix-product rates of a model's own weights, as an engine step runs them (<see cref="Measure"/>).
/// </summary>
/// <param name="Layers">The layers' products at each probed m, ops/s (2 per multiply-add, rising m).</param>
/// <param name="Head">The output head's product at each probed m up to the head's limit, ops/s; empty: no head probed.</param>
public sealed record ModelGemmRates(IReadOnlyList<GemmRate> Layers, IReadOnlyList<GemmRate> Head);

/// <summary>
/// Probes the engine's matrix product on the model file's own weight matrices (memory-mapped from the GGUF, as the
/// engine maps them) in the groups and order a decoder layer runs them (Quanta.Models DecoderModel): Q, K and V as one
/// shared-activation call, the attention output, gate and up as one call, down; layer after layer, and the output head
/// after the last layer. So each product runs at its real shape (rows x cols, the activation conversion on the calling
/// thread amortized over the real rows, the pool's tiles over the real row count) and reads its weights from where a
/// step finds them: at small m streamed from memory behind the other layers' weights, at large m re-used from the
/// caches tile by tile. What it leaves out — attention, the per-token host work, the loop — the step model costs apart.
/// </summary>
public static class ModelGemmProbe
{
    /// <summary>Largest m at which the head is probed by default (a serving step computes one logits row per decode).</summary>
    public const int DefaultHeadMaxM = 16;

    /// <summary>
    /// Measures, on <paramref name="threads"/> threads, for each m of <paramref name="ms"/> (rising): the layers' products
    /// (ops of the layer matrices run / their time) and, for m ≤ <paramref name="headMaxM"/>, the head's. Each m runs
    /// units — one layer's product groups, or the head — cycling through the layers and then the head, until at least
    /// <paramref name="seconds"/> have passed, at least one layer has run and, where the head is probed, the head twice.
    /// First, untimed, <see cref="CpuProbe.WarmUp"/> at m = 1, 4 and 64 (the JIT's tier-up of each kernel; every page of the mapping touched),
    /// then one layer (and the head) at every m.
    /// </summary>
    /// <exception cref="InvalidDataException">The file has no layer matrices in a format the kernels read.</exception>
    /// <remarks>
    /// <paramref name="hot"/>: the kernels' own rate, the weights' memory traffic left out (the roofline's second
    /// limit, <see cref="CpuMeasurements.GemmRatesStreamWeights"/> false): each product group runs twice back to back and
    /// only the second run is timed, so its weights come from the caches, and a group of more than
    /// <see cref="HotGroupBytes"/> (which would not stay there) runs on the first rows of each of its matrices that fit
    /// (same columns, same code path; the activation conversion per call is O(m x cols), negligible beside thousands of
    /// rows). Without it the rates are those of weights streamed from memory behind the other layers' (the bandwidth
    /// state of the moment inside them).
    /// </remarks>
    public static ModelGemmRates Measure(string ggufPath, IReadOnlyList<int> ms, int threads, double seconds, int headMaxM = DefaultHeadMaxM, bool hot = false)
    {
        ArgumentNullException.ThrowIfNull(ggufPath);
        ArgumentNullException.ThrowIfNull(ms);
        if (ms.Count == 0 || ms.Any(m => m < 1)) throw new ArgumentException("activation-row counts must be at least 1", nameof(ms));
        for (int i = 1; i < ms.Count; i++) if (ms[i] <= ms[i - 1]) throw new ArgumentException("activation-row counts must rise", nameof(ms));
        if (threads < 1) throw new ArgumentException($"threads must be at least 1, got {threads}", nameof(threads));
        if (!(seconds > 0) || double.IsInfinity(seconds)) throw new ArgumentException($"seconds must be positive, got {seconds}", nameof(seconds));
        if (headMaxM < 0) throw new ArgumentException($"the head's largest m must be >= 0, got {headMaxM}", nameof(headMaxM));
        using var file = GgufFile.Open(ggufPath);
        var layers = Layers(file);
        if (layers.Count == 0) throw new InvalidDataException($"{ggufPath}: no layer matrices (blk.N.*) in a format the kernels read");
        WeightMatrix? head = HeadMatrix(file);
        if (hot)
        {
            layers = layers.Select(l => l.Select(g => HotPart(g)).ToArray()).ToList();
            if (head is not null) head = HotPart([head])[0];
        }
        int maxM = ms[^1];
        int maxCols = 0, maxRows = 0;
        long scratchBytes = 0;
        foreach (var m in layers.SelectMany(g => g).SelectMany(g => g).Append(head).OfType<WeightMatrix>())
        {
            maxCols = Math.Max(maxCols, m.Cols);
            maxRows = Math.Max(maxRows, m.Rows);
            scratchBytes = Math.Max(scratchBytes, Quanta.Core.Kernels.MatMul.ScratchBytes(m.Kernel, maxM, m.Cols));
        }
        double[] layerElements = layers.Select(l => l.SelectMany(g => g).Sum(m => (double)m.Rows * m.Cols)).ToArray();
        var rng = new Random(12345);
        float[] x = new float[checked((long)maxM * maxCols)];      // [maxM, maxCols]: every product reads its first m x cols
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var y = new float[3][];                                    // [3][maxM, maxRows]: one output per matrix of a group
        for (int j = 0; j < 3; j++) y[j] = new float[checked((long)maxM * maxRows)];
        byte[] scratch = new byte[scratchBytes];
        using var pool = new WorkerPool(threads);

        void Group(WeightMatrix[] g, int m)
        {
            var xs = x.AsSpan(0, m * g[0].Cols);
            if (g.Length == 1) g[0].MatMul(xs, m, y[0].AsSpan(0, m * g[0].Rows), scratch, pool);
            else WeightMatrix.MatMulShared(xs, m, g[0], y[0].AsSpan(0, m * g[0].Rows), g[1], y[1].AsSpan(0, m * g[1].Rows),
                g.Length > 2 ? g[2] : null, g.Length > 2 ? y[2].AsSpan(0, m * g[2].Rows) : default, scratch, pool);
        }
        // seconds of the timed runs (hot: each group's second run)
        double Layer(int l, int m)
        {
            double t = 0;
            foreach (var g in layers[l])
            {
                if (hot) Group(g, m);
                long t0 = Stopwatch.GetTimestamp();
                Group(g, m);
                t += Stopwatch.GetElapsedTime(t0).TotalSeconds;
            }
            return t;
        }
        double RunHead(int m)
        {
            if (hot) Group([head!], m);
            long t0 = Stopwatch.GetTimestamp();
            Group([head!], m);
            return Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }

        int unit = 0;   // 0..L-1: a layer, L: the head
        int units = layers.Count + (head is null ? 0 : 1);
        // m = 1, 4 and 64 run three different kernels (one-token; few-token direct, which takes up to 16 tokens; tiles):
        // each must reach tier 1 here; the head is probed up to headMaxM only
        int warmM = Math.Min(4, maxM), warmTiles = Math.Min(64, maxM), warmHead = Math.Min(Math.Min(16, maxM), Math.Max(1, headMaxM));
        CpuProbe.WarmUp(() =>
        {
            if (unit < layers.Count) { Layer(unit, 1); Layer(unit, warmM); if (warmTiles > warmM) Layer(unit, warmTiles); }
            else { RunHead(1); RunHead(Math.Min(warmM, warmHead)); if (warmHead > warmM) RunHead(warmHead); }
            unit = (unit + 1) % units;
        }, seconds);
        // and one untimed layer (and head) at every m: the first reading of a run, taken before the engine has run any
        // step, otherwise met m >= 16 on colder code (a 160M reading of 17 GOP/s at m = 16 where later ones gave 58-63)
        foreach (int m in ms)
        {
            Layer(0, m);
            if (head is not null && m <= headMaxM) RunHead(m);
        }

        var layerRates = new List<GemmRate>(ms.Count);
        var headRates = new List<GemmRate>();
        foreach (int m in ms)
        {
            bool withHead = head is not null && m <= headMaxM;
            double layerOps = 0, layerTime = 0, headOps = 0, headTime = 0;
            int layerRuns = 0, headRuns = 0;
            var clock = Stopwatch.StartNew();
            while (layerRuns < 1 || (withHead && headRuns < 2) || clock.Elapsed.TotalSeconds < seconds)
            {
                if (unit < layers.Count)
                {
                    layerTime += Layer(unit, m);
                    layerOps += 2.0 * layerElements[unit] * m;
                    layerRuns++;
                }
                else if (withHead)
                {
                    headTime += RunHead(m);
                    headOps += 2.0 * head!.Rows * head.Cols * m;
                    headRuns++;
                }
                unit = (unit + 1) % units;
            }
            layerRates.Add(new GemmRate(m, layerOps / layerTime));
            if (withHead) headRates.Add(new GemmRate(m, headOps / headTime));
        }
        return new ModelGemmRates(layerRates, headRates);
    }

    /// <summary>
    /// Per layer (blk.0, blk.1, … while present), its product groups in the order a decoder layer runs them: [Q, K, V]
    /// (one group when they share format and columns, else one group each), [attention output], [gate, up] (likewise),
    /// [down]; then any other matrix of the layer alone. Matrices in formats without a kernel are left out.
    /// </summary>
    private static List<WeightMatrix[][]> Layers(GgufFile file)
    {
        var result = new List<WeightMatrix[][]>();
        for (int l = 0; ; l++)
        {
            string prefix = $"blk.{l}.";
            var mats = new Dictionary<string, WeightMatrix>(StringComparer.Ordinal);
            foreach (var t in file.Tensors)
            {
                if (!t.Name.StartsWith(prefix, StringComparison.Ordinal) || !t.Name.EndsWith(".weight", StringComparison.Ordinal) || t.Rank < 2) continue;
                if (!CodecRegistry.TryGetWeightFormat(t.Type, out _)) continue;
                bool matrix = true;
                for (int d = 2; d < t.Rank; d++) matrix &= t.Shape[d] == 1;
                if (!matrix) continue;
                string role = t.Name[prefix.Length..^".weight".Length];
                mats[role] = GgufTensorLoader.Matrix(file, t.Name, checked((int)t.Shape[1]), checked((int)t.Shape[0]));
            }
            if (mats.Count == 0 && !file.Tensors.Any(t => t.Name.StartsWith(prefix, StringComparison.Ordinal))) break;
            var groups = new List<WeightMatrix[]>();
            void Group(params string[] roles)
            {
                var present = roles.Where(mats.ContainsKey).Select(r => mats[r]).ToArray();
                foreach (string r in roles) mats.Remove(r);
                if (present.Length == 0) return;
                bool fuse = present.All(m => m.Format == present[0].Format && m.Cols == present[0].Cols);
                if (fuse) groups.Add(present);
                else groups.AddRange(present.Select(m => new[] { m }));
            }
            Group("attn_q", "attn_k", "attn_v");
            Group("attn_qkv");
            Group("attn_output");
            Group("ffn_gate", "ffn_up");
            Group("ffn_down");
            foreach (var rest in mats.OrderBy(kv => kv.Key, StringComparer.Ordinal)) groups.Add([rest.Value]);
            if (groups.Count > 0) result.Add([.. groups]);
        }
        return result;
    }

    /// <summary>Bytes of a product group above which the hot probe runs it on a row prefix (an eighth of this machine
    /// type's 32 MiB L3, so a group stays cached between its two runs beside the other tenants' data).</summary>
    public const long HotGroupBytes = 4L << 20;

    /// <summary>The group itself when its matrices hold at most <paramref name="budget"/> bytes, else the first rows of
    /// each (the same fraction of each matrix's rows, a multiple of 16, at least 16) that do.</summary>
    internal static WeightMatrix[] HotPart(WeightMatrix[] g, long budget = HotGroupBytes)
    {
        long bytes = g.Sum(m => m.ByteCount);
        if (bytes <= budget) return g;
        double f = (double)budget / bytes;
        return g.Select(m => m.RowsView(0, Math.Min(m.Rows, Math.Max(16, (int)(m.Rows * f) / 16 * 16)))).ToArray();
    }

    /// <summary>The output head: output.weight, else the token-embedding table (tied); null when neither has a kernel.</summary>
    private static WeightMatrix? HeadMatrix(GgufFile file)
    {
        string name = file.TryGetTensor("output.weight", out _) ? "output.weight" : "token_embd.weight";
        if (!file.TryGetTensor(name, out var t) || t.Rank < 2 || !CodecRegistry.TryGetWeightFormat(t.Type, out _)) return null;
        return GgufTensorLoader.Matrix(file, name, checked((int)t.Shape[1]), checked((int)t.Shape[0]));
    }
}
