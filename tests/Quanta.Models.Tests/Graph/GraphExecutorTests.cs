using System.Buffers.Binary;
using Quanta.Core.ModelFiles.Onnx;
using Quanta.Models.Graph;

namespace Quanta.Models.Tests.Graph;

/// <summary>Fusions against the unfused graph, liveness buffer reuse, shape inference with a dynamic batch, errors.</summary>
public class GraphExecutorTests
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

    private static OnnxNode N(string op, string[] ins, string[] outs, params OnnxAttribute[] attrs) =>
        new() { Name = "n_" + outs[0], OpType = op, Inputs = ins, Outputs = outs, Attributes = attrs };

    private static OnnxAttribute Ints(string name, params long[] v) => new() { Name = name, Type = OnnxAttributeType.Ints, Ints = v };

    private static OnnxModel Model(OnnxNode[] nodes, OnnxTensor[] inits, string[] inputs, string output, IReadOnlyList<OnnxDim>? inputShape = null) => new()
    {
        OpsetImports = [new OnnxOpsetImport("", 17)],
        Graph = new OnnxGraph
        {
            Nodes = nodes, Initializers = inits,
            Inputs = inputs.Select(i => new OnnxValueInfo { Name = i, ElementType = OnnxDataType.Float, Shape = inputShape }).ToArray(),
            Outputs = [new OnnxValueInfo { Name = output, ElementType = OnnxDataType.Float }],
        },
    };

    private static float[] Rand(Random r, int n, float lo = -1, float hi = 1) => Enumerable.Range(0, n).Select(_ => lo + (float)r.NextDouble() * (hi - lo)).ToArray();

    private static (GraphTensor Fused, GraphTensor Plain, GraphSession Session) Both(OnnxModel m, string input, GraphTensor x)
    {
        var fused = new GraphSession(m);
        var plain = new GraphSession(m, new GraphOptions { Fuse = false });
        var inputs = new Dictionary<string, GraphTensor> { [input] = x };
        return (fused.Run(inputs)[m.Graph.Outputs[0].Name], plain.Run(inputs)[m.Graph.Outputs[0].Name], fused);
    }

    [Fact]
    public void MatMul_Add_fuses_and_matches_the_unfused_graph()
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        var m = Model([N("MatMul", ["x", "w"], ["t"]), N("Add", ["t", "b"], ["y"])],
            [F("w", [24, 40], Rand(r, 960)), F("b", [40], Rand(r, 40))], ["x"], "y");
        var (fused, plain, s) = Both(m, "x", GraphTensor.FromFloats([3, 5, 24], Rand(r, 360)));
        Assert.Equal(["MatMulAdd"], s.OpTypes);
        OnnxNodeTests.Compare($"y (seed {seed})", plain, fused, 1e-5, 1e-5);
    }

    [Fact]
    public void Conv_BatchNormalization_Relu_fold_into_one_conv_within_tolerance()
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        var m = Model([
                N("Conv", ["x", "w", "cb"], ["c"], Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2)),
                N("BatchNormalization", ["c", "g", "be", "mu", "var"], ["bn"]),
                N("Relu", ["bn"], ["y"])],
            [F("w", [6, 3, 3, 3], Rand(r, 162)), F("cb", [6], Rand(r, 6)), F("g", [6], Rand(r, 6, 0.5f, 2)), F("be", [6], Rand(r, 6)),
             F("mu", [6], Rand(r, 6)), F("var", [6], Rand(r, 6, 0.1f, 3))], ["x"], "y");
        var (fused, plain, s) = Both(m, "x", GraphTensor.FromFloats([2, 3, 11, 11], Rand(r, 726)));
        Assert.Equal(["Conv"], s.OpTypes);
        Assert.Contains(plain.Floats.ToArray(), v => v == 0); // the ReLU clipped something
        OnnxNodeTests.Compare($"y (seed {seed})", plain, fused, 1e-4, 1e-5);
    }

    [Fact]
    public void LayerNorm_pattern_becomes_LayerNormalization_within_tolerance()
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        var m = Model([
                N("ReduceMean", ["x"], ["mean"], Ints("axes", -1)), N("Sub", ["x", "mean"], ["d"]), N("Pow", ["d", "two"], ["sq"]),
                N("ReduceMean", ["sq"], ["var"], Ints("axes", -1)), N("Add", ["var", "eps"], ["ve"]), N("Sqrt", ["ve"], ["sd"]),
                N("Div", ["d", "sd"], ["norm"]), N("Mul", ["norm", "gamma"], ["scaled"]), N("Add", ["scaled", "beta"], ["y"])],
            [F("two", [], [2f]), F("eps", [], [1e-5f]), F("gamma", [32], Rand(r, 32)), F("beta", [32], Rand(r, 32))], ["x"], "y");
        var (fused, plain, s) = Both(m, "x", GraphTensor.FromFloats([4, 7, 32], Rand(r, 896, -3, 3)));
        Assert.Equal(["LayerNormalization"], s.OpTypes);
        OnnxNodeTests.Compare($"y (seed {seed})", plain, fused, 1e-4, 1e-5);
    }

    [Fact]
    public void Gelu_erf_pattern_becomes_Gelu_within_tolerance()
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        var m = Model([
                N("Div", ["x", "sqrt2"], ["s"]), N("Erf", ["s"], ["e"]), N("Add", ["e", "one"], ["e1"]),
                N("Mul", ["x", "e1"], ["xm"]), N("Mul", ["xm", "half"], ["y"])],
            [F("sqrt2", [], [1.4142135f]), F("one", [], [1f]), F("half", [], [0.5f])], ["x"], "y");
        var (fused, plain, s) = Both(m, "x", GraphTensor.FromFloats([3, 50], Rand(r, 150, -5, 5)));
        Assert.Equal(["Gelu"], s.OpTypes);
        OnnxNodeTests.Compare($"y (seed {seed})", plain, fused, 1e-5, 1e-6);
        // First principles: GELU(1) = 0.5·(1 + erf(1/√2)) = 0.8413447
        var one = s.Run(new Dictionary<string, GraphTensor> { ["x"] = GraphTensor.FromFloats([1], [1f]) })["y"];
        Assert.True(Math.Abs(one.Floats[0] - 0.8413447f) < 1e-6, $"GELU(1) = {one.Floats[0]}");
    }

    [Fact]
    public void Tensor_with_scalar_ops_split_into_parallel_chunks_equal_elementwise_float_arithmetic()
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        // 100 003 elements: several 8192-element chunks over the pool and a ragged last one.
        const int n = 100_003;
        float s1 = 0.5f + (float)r.NextDouble(), s2 = (float)r.NextDouble();
        var m = Model([N("Div", ["x", "s1"], ["d"]), N("Sub", ["d", "s2"], ["y"])], [F("s1", [], [s1]), F("s2", [], [s2])], ["x"], "y");
        var x = Rand(r, n, -100, 100);
        foreach (bool fuse in new[] { true, false })
        {
            var y = new GraphSession(m, new GraphOptions { Fuse = fuse }).Run(new Dictionary<string, GraphTensor> { ["x"] = GraphTensor.FromFloats([n], x) })["y"].Floats;
            Assert.Equal(n, y.Length);
            for (int i = 0; i < n; i++)
                Assert.True(y[i] == x[i] / s1 - s2, $"seed {seed} fuse {fuse}: y[{i}] {y[i]} vs {x[i] / s1 - s2}");
        }
    }

    [Fact]
    public void Liveness_pool_keeps_peak_memory_below_the_sum_of_intermediates_on_a_chain()
    {
        var ops = new[] { "Relu", "Neg", "Exp", "Sigmoid", "Tanh", "Relu", "Neg", "Sigmoid", "Tanh", "Abs" };
        var nodes = ops.Select((op, i) => N(op, [i == 0 ? "x" : $"v{i - 1}"], [i == ops.Length - 1 ? "y" : $"v{i}"])).ToArray();
        var m = Model(nodes, [], ["x"], "y");
        var s = new GraphSession(m, new GraphOptions { Fuse = false });
        var x = GraphTensor.FromFloats([1000], Rand(new Random(1), 1000));
        var y = s.Run(new Dictionary<string, GraphTensor> { ["x"] = x })["y"];
        Assert.Equal(9 * 4000, s.IntermediateBytes);
        Assert.True(s.PooledBytes <= 2 * 4000, $"pool holds {s.PooledBytes} bytes for a chain (two buffers of 4000 suffice)");
        Assert.True(s.PooledBytes < s.IntermediateBytes);
        // The reused buffers must not corrupt values: check against a direct evaluation.
        for (int i = 0; i < 1000; i++)
        {
            double v = x.Floats[i];
            v = Math.Max(v, 0); v = -v; v = Math.Exp(v); v = 1 / (1 + Math.Exp(-v)); v = Math.Tanh(v);
            v = Math.Max(v, 0); v = -v; v = 1 / (1 + Math.Exp(-v)); v = Math.Tanh(v); v = Math.Abs(v);
            Assert.True(Math.Abs(y.Floats[i] - v) < 1e-5, $"element {i}: {y.Floats[i]} vs {v}");
        }
    }

    [Fact]
    public void Shapes_are_static_once_the_dynamic_batch_is_known_and_shape_subgraphs_fold()
    {
        var r = new Random(2);
        var m = Model([
                N("Conv", ["x", "w"], ["c"], Ints("pads", 1, 1, 1, 1)), N("Relu", ["c"], ["a"]),
                N("Shape", ["a"], ["sh"]), N("Gather", ["sh", "zero"], ["batch"]),                 N("Concat", ["batch", "minus1"], ["target"], new OnnxAttribute { Name = "axis", Type = OnnxAttributeType.Int, I = 0 }),
                N("Reshape", ["a", "target"], ["flat"]), N("MatMul", ["flat", "w2"], ["y"])],
            [F("w", [4, 3, 3, 3], Rand(r, 108)), L("zero", [0]), L("minus1", [-1]), F("w2", [256, 10], Rand(r, 2560))],
            ["x"], "y", [new OnnxDim(null, "batch"), new OnnxDim(3, null), new OnnxDim(8, null), new OnnxDim(8, null)]);
        var s = new GraphSession(m);
        Assert.Equal("batch", s.InputInfos[0].Shape![0].Param);
        foreach (int batch in new[] { 1, 5 })
        {
            var shapes = s.InferShapes(new Dictionary<string, int[]> { ["x"] = [batch, 3, 8, 8] });
            Assert.Equal([batch, 4, 8, 8], shapes["a"]!);
            Assert.Equal([batch, 256], shapes["flat"]!);
            Assert.Equal([batch, 10], shapes["y"]!);
            var y = s.Run(new Dictionary<string, GraphTensor> { ["x"] = GraphTensor.FromFloats([batch, 3, 8, 8], Rand(r, batch * 192)) })["y"];
            Assert.Equal([batch, 10], y.Shape);
        }
    }

    [Fact]
    public void Unsupported_operator_error_names_op_type_and_node()
    {
        var m = Model([new OnnxNode { Name = "my_node", OpType = "FancyOp", Inputs = ["x"], Outputs = ["y"] }], [], ["x"], "y");
        var e = Assert.Throws<GraphException>(() => new GraphSession(m));
        Assert.Contains("FancyOp", e.Message);
        Assert.Contains("my_node", e.Message);
    }
}
