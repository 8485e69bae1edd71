using Quanta.Models.Recommendation;

namespace Quanta.Bench.Tensor;

/// <summary>
/// Shape of the random-weight DLRM the tensor benchmark runs (MLPerf's DLRM layout, scaled to a CPU benchmark):
/// 13 dense features → log(1 + x) → bottom MLP; 26 embedding bags of <see cref="Bag"/> rows from tables of
/// <see cref="TableRows"/> rows × <see cref="Dim"/>, summed per bag; pairwise dot interaction of the 27 vectors (the
/// 351 upper-triangle entries); top MLP; sigmoid. Default 13-512-256-64 bottom, 64-dim tables of 4096 rows (27 MiB),
/// 415-512-256-1 top (MLPerf's DLRM uses 13-512-256-128 and 479-1024-1024-512-256-1 over much larger tables).
/// </summary>
public sealed record DlrmBenchShape
{
    /// <summary>Rows per categorical feature's table.</summary>
    public int TableRows { get; init; } = 4096;
    /// <summary>Embedding width (also the bottom MLP's output width).</summary>
    public int Dim { get; init; } = 64;
    /// <summary>Lookups per bag.</summary>
    public int Bag { get; init; } = 1;
    /// <summary>Hidden widths of the bottom MLP (its output is <see cref="Dim"/>).</summary>
    public IReadOnlyList<int> Bottom { get; init; } = [512, 256];
    /// <summary>Hidden widths of the top MLP (its output is 1).</summary>
    public IReadOnlyList<int> Top { get; init; } = [512, 256];
}

/// <summary>Writes the <see cref="DlrmBenchShape"/> model as ONNX with the <see cref="DlrmModel"/> contract (symbolic batch).</summary>
public static class DlrmBenchModel
{
    /// <summary>The ONNX bytes; weights are uniform Glorot-scaled random values from <paramref name="seed"/>.</summary>
    public static byte[] Build(DlrmBenchShape shape, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.TableRows < 1 || shape.Dim < 1 || shape.Bag < 1) throw new ArgumentOutOfRangeException(nameof(shape), "table rows, dim and bag must be positive");
        var r = new Random(seed);
        float[] Rand(int n, double scale)
        {
            var v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float)((r.NextDouble() * 2 - 1) * scale);
            return v;
        }
        var w = new OnnxModelWriter();
        w.Input("dense", OnnxModelWriter.Float, "batch", CriteoFeatures.DenseCount);
        w.Input("sparse", OnnxModelWriter.Int64, "batch", CriteoFeatures.SparseCount, shape.Bag);
        w.Output("probability", OnnxModelWriter.Float, "batch", 1);
        w.Floats("one", [], [1f]);
        w.Node("Relu", ["dense"], ["d0"]);
        w.Node("Add", ["d0", "one"], ["d1"]);
        w.Node("Log", ["d1"], ["x0"]);
        int layer = 0;
        string Mlp(string x, int inDim, IReadOnlyList<int> hidden, int outDim, bool reluLast)
        {
            int[] widths = [.. hidden, outDim];
            for (int k = 0; k < widths.Length; k++)
            {
                string y = $"fc{layer++}";
                int o = widths[k];
                w.Floats(y + "_w", [inDim, o], Rand(inDim * o, Math.Sqrt(6.0 / (inDim + o))));
                w.Floats(y + "_b", [o], Rand(o, 0.05));
                w.Node("MatMul", [x, y + "_w"], [y + "_mm"]);
                bool relu = k < widths.Length - 1 || reluLast;
                w.Node("Add", [y + "_mm", y + "_b"], [relu ? y + "_pre" : y]);
                if (relu) w.Node("Relu", [y + "_pre"], [y]);
                x = y;
                inDim = o;
            }
            return x;
        }
        string z = Mlp("x0", CriteoFeatures.DenseCount, shape.Bottom, shape.Dim, true);          // [B, D]
        long rows = (long)CriteoFeatures.SparseCount * shape.TableRows;
        w.Floats("table", [rows, shape.Dim], Rand((int)(rows * shape.Dim), 0.05));
        w.Node("Gather", ["table", "sparse"], ["emb"]);                                          // [B, 26, bag, D]
        w.Longs("bag_axis", [1], [2]);
        w.Node("ReduceSum", ["emb", "bag_axis"], ["bags"], OnnxModelWriter.AttrInt("keepdims", 0)); // [B, 26, D]
        w.Longs("ax1", [1], [1]);
        w.Node("Unsqueeze", [z, "ax1"], ["z3"]);                                                 // [B, 1, D]
        w.Node("Concat", ["z3", "bags"], ["t"], OnnxModelWriter.AttrInt("axis", 1));             // [B, 27, D]
        w.Node("Transpose", ["t"], ["tt"], OnnxModelWriter.AttrInts("perm", 0, 2, 1));          // [B, D, 27]
        w.Node("MatMul", ["t", "tt"], ["dots"]);                                                 // [B, 27, 27]
        const int vectors = CriteoFeatures.SparseCount + 1;
        w.Longs("flat", [2], [-1, vectors * vectors]);
        w.Node("Reshape", ["dots", "flat"], ["dots_flat"]);                                     // [B, 729]
        var triu = new List<long>();
        for (int i = 0; i < vectors; i++) for (int j = i + 1; j < vectors; j++) triu.Add(i * vectors + j);
        w.Longs("triu", [triu.Count], [.. triu]);
        w.Node("Gather", ["dots_flat", "triu"], ["inter"], OnnxModelWriter.AttrInt("axis", 1)); // [B, 351]
        w.Node("Concat", [z, "inter"], ["top_in"], OnnxModelWriter.AttrInt("axis", 1));         // [B, D + 351]
        string logit = Mlp("top_in", shape.Dim + triu.Count, shape.Top, 1, false);               // [B, 1]
        w.Node("Sigmoid", [logit], ["probability"]);
        return w.Model(13, "dlrm_bench");
    }

    /// <summary>Random inputs for <paramref name="rows"/> samples: dense counts 0..999 [rows, 13], sparse indices [rows, 26, bag] into each feature's table slice.</summary>
    public static (float[] Dense, long[] Sparse) Inputs(DlrmBenchShape shape, int rows, Random random)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(random);
        var dense = new float[rows * CriteoFeatures.DenseCount];
        for (int i = 0; i < dense.Length; i++) dense[i] = random.Next(1000);
        var sparse = new long[rows * CriteoFeatures.SparseCount * shape.Bag];
        for (int i = 0; i < sparse.Length; i++)
        {
            int feature = i / shape.Bag % CriteoFeatures.SparseCount;
            sparse[i] = (long)feature * shape.TableRows + random.Next(shape.TableRows);
        }
        return (dense, sparse);
    }
}
