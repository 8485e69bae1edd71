using System.Buffers.Binary;
using Quanta.Core.ModelFiles.Onnx;
using Quanta.Models.Graph;

namespace Quanta.Models.Tests.Graph;

/// <summary>
/// The transformer fusions against the unfused graph (the standard Div, Add, Softmax and LayerNormalization operators,
/// themselves checked against ONNX Runtime by the node tests): attention scores Div → Add(mask) → Softmax become one
/// MaskedSoftmax, residual Add → LayerNormalization one AddLayerNormalization; broadcast masks and broadcast residuals
/// take the general paths.
/// </summary>
public class AttentionFusionTests
{
    private static OnnxTensor F(string name, int[] dims, float[] v)
    {
        var b = new byte[v.Length * 4];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), v[i]);
        return new OnnxTensor(name, OnnxDataType.Float, dims.Select(d => (long)d).ToArray(), b);
    }

    private static OnnxNode N(string op, string[] ins, string[] outs, params OnnxAttribute[] attrs) =>
        new() { Name = "n_" + outs[0], OpType = op, Inputs = ins, Outputs = outs, Attributes = attrs };

    private static OnnxModel Model(OnnxNode[] nodes, OnnxTensor[] inits, string[] inputs, string output, long opset = 17) => new()
    {
        OpsetImports = [new OnnxOpsetImport("", opset)],
        Graph = new OnnxGraph
        {
            Nodes = nodes, Initializers = inits,
            Inputs = inputs.Select(i => new OnnxValueInfo { Name = i, ElementType = OnnxDataType.Float }).ToArray(),
            Outputs = [new OnnxValueInfo { Name = output, ElementType = OnnxDataType.Float }],
        },
    };

    private static float[] Rand(Random r, int n, float lo = -1, float hi = 1) => Enumerable.Range(0, n).Select(_ => lo + (float)r.NextDouble() * (hi - lo)).ToArray();

    private static (GraphTensor Fused, GraphTensor Plain, GraphSession Session) Both(OnnxModel m, Dictionary<string, GraphTensor> inputs)
    {
        var fused = new GraphSession(m);
        var plain = new GraphSession(m, new GraphOptions { Fuse = false });
        return (fused.Run(inputs)[m.Graph.Outputs[0].Name], plain.Run(inputs)[m.Graph.Outputs[0].Name], fused);
    }

    [Theory]
    [InlineData("Div", new[] { 2, 3, 5, 7 }, new[] { 2, 1, 1, 7 })]  // BERT: mask [b, 1, 1, t]
    [InlineData("Mul", new[] { 2, 3, 5, 40 }, new[] { 40 })]         // one mask row for all
    [InlineData("Div", new[] { 1, 3, 4, 33 }, new[] { 2, 3, 4, 1 })]  // mask widens the batch, one value per row
    public void Scaled_masked_softmax_fuses_and_matches_the_unfused_graph(string scaleOp, int[] scoreShape, int[] maskShape)
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        float c = scaleOp == "Div" ? MathF.Sqrt(32) : 1 / MathF.Sqrt(32);
        var m = Model([
                N(scaleOp, ["s", "c"], ["scaled"]),
                N("Add", ["scaled", "mask"], ["masked"]),
                N("Softmax", ["masked"], ["p"], new OnnxAttribute { Name = "axis", Type = OnnxAttributeType.Int, I = -1 })],
            [F("c", [], [c])], ["s", "mask"], "p", opset: 11);
        int sn = scoreShape.Aggregate(1, (a, b) => a * b), mn = maskShape.Aggregate(1, (a, b) => a * b);
        var mask = Rand(r, mn, -1, 1).Select(v => v < -0.5f ? -10000f : v).ToArray();
        var (fused, plain, s) = Both(m, new Dictionary<string, GraphTensor>
        {
            ["s"] = GraphTensor.FromFloats(scoreShape, Rand(r, sn, -20, 20)),
            ["mask"] = GraphTensor.FromFloats(maskShape, mask),
        });
        Assert.Equal(["MaskedSoftmax"], s.OpTypes);
        Assert.Equal(plain.Shape, fused.Shape);
        OnnxNodeTests.Compare($"p (seed {seed})", plain, fused, 1e-5, 1e-6);
    }

    [Fact]
    public void Softmax_without_an_explicit_last_axis_is_not_fused()
    {
        var m = Model([N("Div", ["s", "c"], ["scaled"]), N("Add", ["scaled", "mask"], ["masked"]), N("Softmax", ["masked"], ["p"])],
            [F("c", [], [2f])], ["s", "mask"], "p", opset: 11);
        Assert.DoesNotContain("MaskedSoftmax", new GraphSession(m).OpTypes);
    }

    [Theory]
    [InlineData(new[] { 3, 5, 24 }, new[] { 3, 5, 24 }, true)]
    [InlineData(new[] { 3, 5, 24 }, new[] { 24 }, true)]        // broadcast residual: the general path
    [InlineData(new[] { 2, 17 }, new[] { 2, 17 }, false)]        // no bias
    public void Residual_add_and_layer_norm_fuse_and_match_the_unfused_graph(int[] aShape, int[] bShape, bool withBias)
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        int n = aShape[^1];
        string[] lnInputs = withBias ? ["sum", "g", "beta"] : ["sum", "g"];
        var inits = withBias ? new[] { F("g", [n], Rand(r, n, 0.5f, 2)), F("beta", [n], Rand(r, n)) } : [F("g", [n], Rand(r, n, 0.5f, 2))];
        var m = Model([
                N("Add", ["a", "b"], ["sum"]),
                N("LayerNormalization", lnInputs, ["y"],
                    new OnnxAttribute { Name = "axis", Type = OnnxAttributeType.Int, I = -1 }, new OnnxAttribute { Name = "epsilon", Type = OnnxAttributeType.Float, F = 1e-3f })],
            inits, ["a", "b"], "y");
        var (fused, plain, s) = Both(m, new Dictionary<string, GraphTensor>
        {
            ["a"] = GraphTensor.FromFloats(aShape, Rand(r, aShape.Aggregate(1, (x, y) => x * y), -3, 3)),
            ["b"] = GraphTensor.FromFloats(bShape, Rand(r, bShape.Aggregate(1, (x, y) => x * y), -3, 3)),
        });
        Assert.Equal(["AddLayerNormalization"], s.OpTypes);
        OnnxNodeTests.Compare($"y (seed {seed})", plain, fused, 1e-5, 1e-5);
    }

    [Fact]
    public void A_bias_add_before_layer_norm_is_left_to_the_matmul_fusion()
    {
        var r = new Random(1);
        var m = Model([
                N("MatMul", ["x", "w"], ["t"]), N("Add", ["t", "bias"], ["sum"]),
                N("LayerNormalization", ["sum", "g"], ["y"], new OnnxAttribute { Name = "axis", Type = OnnxAttributeType.Int, I = -1 })],
            [F("w", [8, 8], Rand(r, 64)), F("bias", [8], Rand(r, 8)), F("g", [8], Rand(r, 8))], ["x"], "y");
        Assert.Equal(["MatMulAdd", "LayerNormalization"], new GraphSession(m).OpTypes);
    }

    [Theory]
    [InlineData(new[] { 3, 7, 24 }, 40)]
    [InlineData(new[] { 70, 16 }, 96)]
    public void MatMul_bias_and_gelu_fuse_into_one_product_and_match_the_unfused_graph(int[] xShape, int n)
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        int k = xShape[^1];
        var m = Model([N("MatMul", ["x", "w"], ["t"]), N("Add", ["t", "b"], ["u"]), N("Gelu", ["u"], ["y"])],
            [F("w", [k, n], Rand(r, k * n)), F("b", [n], Rand(r, n))], ["x"], "y", opset: 20);
        var (fused, plain, s) = Both(m, new Dictionary<string, GraphTensor> { ["x"] = GraphTensor.FromFloats(xShape, Rand(r, xShape.Aggregate(1, (a, b) => a * b), -2, 2)) });
        Assert.Equal(["MatMulAdd"], s.OpTypes);
        Assert.Contains(plain.Floats.ToArray(), v => v < -0.01f); // GELU's negative lobe was reached
        OnnxNodeTests.Compare($"y (seed {seed})", plain, fused, 1e-5, 1e-5);
    }

    [Fact]
    public void A_tanh_gelu_is_not_folded_into_the_product()
    {
        var r = new Random(2);
        var m = Model([N("MatMul", ["x", "w"], ["t"]), N("Add", ["t", "b"], ["u"]),
                N("Gelu", ["u"], ["y"], new OnnxAttribute { Name = "approximate", Type = OnnxAttributeType.String, S = "tanh"u8.ToArray() })],
            [F("w", [4, 4], Rand(r, 16)), F("b", [4], Rand(r, 4))], ["x"], "y", opset: 20);
        Assert.Equal(["MatMulAdd", "Gelu"], new GraphSession(m).OpTypes);
    }
}
