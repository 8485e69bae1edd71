using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Quanta.Models.Recommendation;
using Quanta.Models.Tests.Support;
using Xunit.Abstractions;
using OrtSession = Microsoft.ML.OnnxRuntime.InferenceSession;

namespace Quanta.Models.Tests.Recommendation;

/// <summary>
/// A tiny DLRM (13 dense → log(1+x) → bottom MLP 13-32-8; 26 hashed embedding bags of 2 rows, dim 8, summed; pairwise
/// dot interaction of the 27 vectors as MatMul + Gather of the 351 upper-triangle entries; top MLP 359-16-1; sigmoid)
/// with random weights, written as ONNX by the test with float32, float16 or int8 (per-row scale) embedding tables,
/// run by <see cref="DlrmModel"/> and by ONNX Runtime on the 200 rows of the shared Criteo sample.
/// </summary>
public sealed class DlrmTests(ITestOutputHelper output)
{
    internal const int TableRows = 64, Bag = 2, Dim = 8, Vectors = CriteoFeatures.SparseCount + 1;

    internal enum TableKind { F32, F16, I8 }

    private static float[] Rand(Random r, int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((r.NextDouble() * 2 - 1) * scale)).ToArray();

    internal static byte[] Build(int seed, TableKind kind, float[] table)
    {
        var r = new Random(seed);
        var w = new OnnxProtoWriter();
        w.Input("dense", OnnxProtoWriter.Float, "batch", CriteoFeatures.DenseCount);
        w.Input("sparse", OnnxProtoWriter.Int64, "batch", CriteoFeatures.SparseCount, Bag);
        w.Output("prob", OnnxProtoWriter.Float, "batch", 1);
        w.Floats("one", [], [1f]);
        w.Node("Relu", ["dense"], ["d0"]);
        w.Node("Add", ["d0", "one"], ["d1"]);
        w.Node("Log", ["d1"], ["x0"]);
        void Linear(string x, string y, int inDim, int outDim, bool relu)
        {
            w.Floats(y + "_w", [inDim, outDim], Rand(r, inDim * outDim, Math.Sqrt(6.0 / (inDim + outDim))));
            w.Floats(y + "_b", [outDim], Rand(r, outDim, 0.1));
            w.Node("MatMul", [x, y + "_w"], [y + "_mm"]);
            w.Node("Add", [y + "_mm", y + "_b"], [relu ? y + "_pre" : y]);
            if (relu) w.Node("Relu", [y + "_pre"], [y]);
        }
        Linear("x0", "h1", CriteoFeatures.DenseCount, 32, true);
        Linear("h1", "z", 32, Dim, true);
        long rows = CriteoFeatures.SparseCount * TableRows;
        switch (kind)
        {
            case TableKind.F32:
                w.Floats("table", [rows, Dim], table);
                w.Node("Gather", ["table", "sparse"], ["emb"]);
                break;
            case TableKind.F16:
                w.Initializer("table_h", OnnxProtoWriter.Float16, [rows, Dim], table.SelectMany(v => BitConverter.GetBytes((Half)v)).ToArray());
                w.Node("Gather", ["table_h", "sparse"], ["emb_h"]);
                w.Node("Cast", ["emb_h"], ["emb"], OnnxProtoWriter.AttrInt("to", OnnxProtoWriter.Float));
                break;
            default:
                var q = new byte[table.Length];
                var scale = new float[rows];
                for (int i = 0; i < rows; i++)
                {
                    float max = 0;
                    for (int j = 0; j < Dim; j++) max = Math.Max(max, Math.Abs(table[i * Dim + j]));
                    scale[i] = max > 0 ? max / 127 : 1;
                    for (int j = 0; j < Dim; j++) q[i * Dim + j] = (byte)(sbyte)Math.Clamp(Math.Round(table[i * Dim + j] / scale[i]), -127, 127);
                }
                w.Initializer("table_q", OnnxProtoWriter.Int8, [rows, Dim], q);
                w.Floats("table_scale", [rows], scale);
                w.Initializer("table_zp", OnnxProtoWriter.Int8, [rows], new byte[rows]);
                w.Node("DequantizeLinear", ["table_q", "table_scale", "table_zp"], ["table"], OnnxProtoWriter.AttrInt("axis", 0));
                w.Node("Gather", ["table", "sparse"], ["emb"]);
                break;
        }
        w.Longs("bag_axis", [1], [2]);
        w.Node("ReduceSum", ["emb", "bag_axis"], ["bags"], OnnxProtoWriter.AttrInt("keepdims", 0));     // [B, 26, 8]
        w.Longs("ax1", [1], [1]);
        w.Node("Unsqueeze", ["z", "ax1"], ["z3"]);                                                      // [B, 1, 8]
        w.Node("Concat", ["z3", "bags"], ["t"], OnnxProtoWriter.AttrInt("axis", 1));                    // [B, 27, 8]
        w.Node("Transpose", ["t"], ["tt"], OnnxProtoWriter.AttrInts("perm", 0, 2, 1));                 // [B, 8, 27]
        w.Node("MatMul", ["t", "tt"], ["dots"]);                                                        // [B, 27, 27]
        w.Longs("flat", [2], [-1, Vectors * Vectors]);
        w.Node("Reshape", ["dots", "flat"], ["dots_flat"]);
        var triu = new List<long>();
        for (int i = 0; i < Vectors; i++) for (int j = i + 1; j < Vectors; j++) triu.Add(i * Vectors + j);
        w.Longs("triu", [triu.Count], triu.ToArray());
        w.Node("Gather", ["dots_flat", "triu"], ["inter"], OnnxProtoWriter.AttrInt("axis", 1));        // [B, 351]
        w.Node("Concat", ["z", "inter"], ["top_in"], OnnxProtoWriter.AttrInt("axis", 1));              // [B, 359]
        Linear("top_in", "h3", Dim + triu.Count, 16, true);
        Linear("h3", "logit", 16, 1, false);
        w.Node("Sigmoid", ["logit"], ["prob"]);
        return w.Model(13);
    }

    internal static (int[] Labels, float[] Dense, long[] Sparse) Sample()
    {
        var f = new CriteoFeatures(TableRows, Bag);
        var rows = File.ReadAllLines(SharedData.Get("testdata/recsys/criteo_sample.txt")).Skip(1).Where(l => l.Length > 0).Select(f.Parse).ToArray();
        Assert.Equal(200, rows.Length);
        return (rows.Select(r => r.Label).ToArray(), rows.SelectMany(r => r.Dense).ToArray(), rows.SelectMany(r => r.Sparse).ToArray());
    }

    private static float[] Ort(byte[] model, float[] dense, long[] sparse, int batch)
    {
        using var s = new OrtSession(model);
        using var r = s.Run([
            NamedOnnxValue.CreateFromTensor("dense", new DenseTensor<float>(dense, [batch, CriteoFeatures.DenseCount])),
            NamedOnnxValue.CreateFromTensor("sparse", new DenseTensor<long>(sparse, [batch, CriteoFeatures.SparseCount, Bag])),
        ]);
        return r.First().AsTensor<float>().ToArray();
    }

    internal static double LogLoss(int[] y, float[] p) =>
        -y.Select((l, i) => l == 1 ? Math.Log(Math.Max(p[i], 1e-7)) : Math.Log(Math.Max(1 - p[i], 1e-7))).Average();

    // AUC = probability that a random positive scores above a random negative (ties count half).
    internal static double Auc(int[] y, float[] p)
    {
        double wins = 0; long pairs = 0;
        for (int i = 0; i < y.Length; i++) if (y[i] == 1)
            for (int j = 0; j < y.Length; j++) if (y[j] == 0) { pairs++; wins += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0; }
        return wins / pairs;
    }

    [Fact]
    public void Dlrm_with_float32_float16_and_int8_tables_matches_onnx_runtime_on_the_criteo_sample()
    {
        int seed = Environment.TickCount;
        var (labels, dense, sparse) = Sample();
        var table = Rand(new Random(seed + 1), CriteoFeatures.SparseCount * TableRows * Dim, 0.5);
        var probs = new Dictionary<TableKind, float[]>();
        foreach (var kind in new[] { TableKind.F32, TableKind.F16, TableKind.I8 })
        {
            var bytes = Build(seed, kind, table);
            var ours = DlrmModel.FromBytes(bytes).Predict(dense, sparse, labels.Length);
            var reference = Ort(bytes, dense, sparse, labels.Length);
            double maxAbs = ours.Zip(reference, (a, b) => Math.Abs(a - b)).Max();
            // Tolerance: probabilities within 1e-5 absolute (float32 sums of a few hundred terms in another order).
            Assert.True(maxAbs <= 1e-5, $"{kind} (seed {seed}): max |p_ours − p_ort| = {maxAbs:E2}");
            // Single rows give the same values as the batch (no cross-row leakage).
            for (int i = 0; i < 200; i += 67)
            {
                var one = DlrmModel.FromBytes(bytes).Predict(dense[(i * 13)..((i + 1) * 13)], sparse[(i * 26 * Bag)..((i + 1) * 26 * Bag)], 1);
                Assert.True(Math.Abs(one[0] - ours[i]) <= 1e-6, $"{kind} row {i} (seed {seed}): {one[0]} vs {ours[i]}");
            }
            probs[kind] = ours;
            output.WriteLine($"{kind}: max |ours − ORT| {maxAbs:E2}, log-loss {LogLoss(labels, ours):F5}, AUC {Auc(labels, ours):F4}");
        }
        double q8 = probs[TableKind.I8].Zip(probs[TableKind.F32], (a, b) => Math.Abs(a - b)).Max();
        double h16 = probs[TableKind.F16].Zip(probs[TableKind.F32], (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"max |p − p_f32|: int8 {q8:E2}, float16 {h16:E2} (seed {seed})");
        // Quantized tables change predictions, but only a little (per-row int8 error ≤ scale/2 per weight).
        Assert.True(q8 > 0 && q8 < 0.05, $"int8 vs f32 (seed {seed}): {q8:E2}");
        Assert.True(h16 > 0 && h16 < 0.01, $"f16 vs f32 (seed {seed}): {h16:E2}");
    }

    [Fact]
    public void Criteo_rows_hash_into_each_features_own_table()
    {
        var f = new CriteoFeatures(TableRows, Bag);
        var (label, dense, sparse) = f.Parse("1,,-1,19.0,35.0,30251.0,247.0,1.0,35.0,160.0,,1.0,,35.0,68fd1e64,04e09220,95e13fd4,a1e6a194,25c83c98,fe6b92e5,f819e175,062b5529,a73ee510,ab9456b4,6153cf57,8882c6cd,769a1844,b28479f6,69f825dd,23056e4f,d4bb7bd8,6fc84bfb,,,5155d8a3,,be7c41b4,ded4aac9,,");
        Assert.Equal(1, label);
        Assert.Equal([0f, -1, 19, 35, 30251, 247, 1, 35, 160, 0, 1, 0, 35], dense);
        Assert.Equal(26 * Bag, sparse.Length);
        for (int j = 0; j < 26; j++) for (int s = 0; s < Bag; s++)
            Assert.InRange(sparse[j * Bag + s], j * TableRows, (j + 1) * TableRows - 1);
        Assert.Throws<FormatException>(() => f.Parse("1,2,3"));
    }
}
