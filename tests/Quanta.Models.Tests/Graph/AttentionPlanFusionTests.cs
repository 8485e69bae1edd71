using System.Buffers.Binary;
using Quanta.Core.ModelFiles.Onnx;
using Quanta.Models.Graph;

namespace Quanta.Models.Tests.Graph;

/// <summary>
/// The plan-time attention fusion against the unfused graph (Reshape, Transpose, MatMul, MaskedSoftmax from the standard
/// operators, themselves checked against ONNX Runtime by the node tests): BERT-style heads fuse into one Attention node
/// whose products read the heads in place, with the same result; odd head sizes, broadcast masks and a size that runs
/// on the graph pool; Q/K/V projections of one input merged into one product; a chain that is not attention (wrong key
/// permutation) is left alone. In the Kernels category: the heads are read in place by SGEMM's strided micro-kernels,
/// which CI reruns on every SIMD path.
/// </summary>
[Trait("Category", "Kernels")]
public class AttentionPlanFusionTests
{
    private static OnnxTensor F(string name, int[] dims, float[] v)
    {
        var b = new byte[v.Length * 4];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), v[i]);
        return new OnnxTensor(name, OnnxDataType.Float, dims.Select(d => (long)d).ToArray(), b);
    }

    private static OnnxTensor L(string name, long[] v)
    {
        var b = new byte[v.Length * 8];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(i * 8), v[i]);
        return new OnnxTensor(name, OnnxDataType.Int64, [v.Length], b);
    }

    private static OnnxAttribute Perm(params long[] p) => new() { Name = "perm", Type = OnnxAttributeType.Ints, Ints = p };

    private static OnnxNode N(string op, string[] ins, string[] outs, params OnnxAttribute[] attrs) =>
        new() { Name = "n_" + outs[0], OpType = op, Inputs = ins, Outputs = outs, Attributes = attrs };

    // The MiniLM export's attention block: heads [0, 0, H, D] (0 copies B and T), scores / √D + mask, softmax, context.
    private static OnnxModel Model(int heads, int d, long[] keyPerm) => new()
    {
        OpsetImports = [new OnnxOpsetImport("", 11)],
        Graph = new OnnxGraph
        {
            Nodes =
            [
                N("Reshape", ["q", "heads"], ["q4"]), N("Transpose", ["q4"], ["qt"], Perm(0, 2, 1, 3)),
                N("Reshape", ["k", "heads"], ["k4"]), N("Transpose", ["k4"], ["kt"], Perm(keyPerm)),
                N("Reshape", ["v", "heads"], ["v4"]), N("Transpose", ["v4"], ["vt"], Perm(0, 2, 1, 3)),
                N("MatMul", ["qt", "kt"], ["s"]), N("Div", ["s", "c"], ["scaled"]), N("Add", ["scaled", "mask"], ["masked"]),
                N("Softmax", ["masked"], ["p"], new OnnxAttribute { Name = "axis", Type = OnnxAttributeType.Int, I = -1 }),
                N("MatMul", ["p", "vt"], ["ctx4"]), N("Transpose", ["ctx4"], ["ctxt"], Perm(0, 2, 1, 3)), N("Reshape", ["ctxt", "flat"], ["y"]),
            ],
            Initializers = [L("heads", [0, 0, heads, d]), L("flat", [0, 0, heads * d]), F("c", [], [MathF.Sqrt(d)])],
            Inputs = new[] { "q", "k", "v", "mask" }.Select(i => new OnnxValueInfo { Name = i, ElementType = OnnxDataType.Float }).ToArray(),
            Outputs = [new OnnxValueInfo { Name = "y", ElementType = OnnxDataType.Float }],
        },
    };

    private static float[] Rand(Random r, int n, float lo = -1, float hi = 1) => Enumerable.Range(0, n).Select(_ => lo + (float)r.NextDouble() * (hi - lo)).ToArray();

    [Theory]
    [InlineData(2, 7, 3, 5, new[] { 2, 1, 1, 7 })]    // BERT: mask [B, 1, 1, T]
    [InlineData(1, 16, 12, 32, new[] { 1, 1, 1, 16 })] // MiniLM, one 16-token sentence
    [InlineData(3, 9, 2, 8, new[] { 9 })]              // one mask row for every head and query
    [InlineData(2, 5, 4, 3, new[] { 2, 4, 5, 5 })]     // a full mask
    [InlineData(2, 70, 4, 24, new[] { 2, 1, 1, 70 })]  // enough work for the graph pool
    [InlineData(1, 1, 2, 4, new[] { 1, 1, 1, 1 })]     // one token
    public void Attention_fuses_at_plan_time_and_matches_the_unfused_graph(int b, int t, int heads, int d, int[] maskShape)
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        var m = Model(heads, d, [0, 2, 3, 1]);
        int n = b * t * heads * d, mn = maskShape.Aggregate(1, (x, y) => x * y);
        var inputs = new Dictionary<string, GraphTensor>
        {
            ["q"] = GraphTensor.FromFloats([b, t, heads * d], Rand(r, n, -2, 2)),
            ["k"] = GraphTensor.FromFloats([b, t, heads * d], Rand(r, n, -2, 2)),
            ["v"] = GraphTensor.FromFloats([b, t, heads * d], Rand(r, n, -2, 2)),
            ["mask"] = GraphTensor.FromFloats(maskShape, Rand(r, mn).Select(x => x < -0.6f ? -10000f : 0f).ToArray()),
        };
        var fused = new GraphSession(m);
        var plain = new GraphSession(m, new GraphOptions { Fuse = false });
        var shapes = inputs.ToDictionary(kv => kv.Key, kv => kv.Value.Shape);
        Assert.Equal(["Attention"], fused.PlanOpTypes(shapes));
        Assert.Contains("Transpose", plain.PlanOpTypes(shapes));
        var want = plain.Run(inputs)["y"];
        var got = fused.Run(inputs)["y"];
        Assert.Equal(want.Shape, got.Shape);
        // the same products and row kernel as the unfused chain: equal up to float rounding of identical operations
        OnnxNodeTests.Compare($"y (seed {seed})", want, got, 1e-6, 1e-6);
    }

    [Theory]
    [InlineData(2, 7, 3, 5, 11)]
    [InlineData(1, 16, 12, 32, 384)]  // MiniLM, one 16-token sentence
    [InlineData(2, 40, 4, 16, 33)]    // enough work for the graph pool
    public void Q_K_V_projections_of_one_input_merge_into_one_product_and_match_the_unfused_graph(int b, int t, int heads, int d, int hidden)
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        int hd = heads * d;
        var attention = Model(heads, d, [0, 2, 3, 1]);
        var nodes = new List<OnnxNode>();
        var inits = new List<OnnxTensor>(attention.Graph.Initializers);
        foreach (var p in new[] { "q", "k", "v" })
        {
            // the export's order: bias first in the Add
            nodes.Add(N("MatMul", ["x", "w" + p], [p + "_mm"]));
            nodes.Add(N("Add", ["b" + p, p + "_mm"], [p]));
            // weights of a trained layer's size (±1/√hidden): scores of a few units, a softmax that is not one-hot
            float scale = 1 / MathF.Sqrt(hidden);
            inits.Add(F("w" + p, [hidden, hd], Rand(r, hidden * hd, -scale, scale)));
            inits.Add(F("b" + p, [hd], Rand(r, hd)));
        }
        nodes.AddRange(attention.Graph.Nodes);
        var m = new OnnxModel
        {
            OpsetImports = attention.OpsetImports,
            Graph = new OnnxGraph
            {
                Nodes = nodes.ToArray(), Initializers = inits.ToArray(),
                Inputs = new[] { "x", "mask" }.Select(i => new OnnxValueInfo { Name = i, ElementType = OnnxDataType.Float }).ToArray(),
                Outputs = attention.Graph.Outputs,
            },
        };
        var inputs = new Dictionary<string, GraphTensor>
        {
            ["x"] = GraphTensor.FromFloats([b, t, hidden], Rand(r, b * t * hidden)),
            ["mask"] = GraphTensor.FromFloats([b, 1, 1, t], Rand(r, b * t).Select(x => x < -0.6f ? -10000f : 0f).ToArray()),
        };
        var fused = new GraphSession(m);
        var plain = new GraphSession(m, new GraphOptions { Fuse = false });
        var shapes = inputs.ToDictionary(kv => kv.Key, kv => kv.Value.Shape);
        Assert.Equal(["MatMulAdd", "Attention"], fused.PlanOpTypes(shapes));
        var want = plain.Run(inputs)["y"];
        var got = fused.Run(inputs)["y"];
        Assert.Equal(want.Shape, got.Shape);
        OnnxNodeTests.Compare($"y (seed {seed})", want, got, 1e-5, 1e-5);
        // a second shape set gets its own plan and reuses the merged projection
        inputs["x"] = GraphTensor.FromFloats([b, t + 1, hidden], Rand(r, b * (t + 1) * hidden));
        inputs["mask"] = GraphTensor.FromFloats([b, 1, 1, t + 1], new float[b * (t + 1)]);
        OnnxNodeTests.Compare($"y, T + 1 (seed {seed})", plain.Run(inputs)["y"], fused.Run(inputs)["y"], 1e-5, 1e-5);
    }

    [Fact]
    public void A_chain_with_another_key_permutation_is_not_fused()
    {
        // keys transposed as [B, H, T, D] (perm 0,2,1,3) make Q·K a [T, D]·[T, D] product: not attention, and invalid when T ≠ D
        var m = Model(2, 4, [0, 2, 1, 3]);
        var fused = new GraphSession(m);
        var shapes = new Dictionary<string, int[]> { ["q"] = [1, 4, 8], ["k"] = [1, 4, 8], ["v"] = [1, 4, 8], ["mask"] = [1, 1, 1, 4] };
        Assert.DoesNotContain("Attention", fused.PlanOpTypes(shapes));
    }
}
