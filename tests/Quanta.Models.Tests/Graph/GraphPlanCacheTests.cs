using System.Buffers.Binary;
using Quanta.Core.ModelFiles.Onnx;
using Quanta.Models.Graph;

namespace Quanta.Models.Tests.Graph;

/// <summary>The per-input-shape plan cache of <see cref="GraphSession"/> is bounded (least recently used dropped first).</summary>
public class GraphPlanCacheTests
{
    // y = x · w + b over a dynamic batch: every distinct batch size is a distinct input shape and so a distinct plan.
    private static OnnxModel Linear(float[] w, float[] b)
    {
        static OnnxTensor F(string name, int[] dims, float[] v)
        {
            var bytes = new byte[v.Length * 4];
            for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), v[i]);
            return new OnnxTensor(name, OnnxDataType.Float, dims.Select(d => (long)d).ToArray(), bytes);
        }
        return new OnnxModel
        {
            OpsetImports = [new OnnxOpsetImport("", 17)],
            Graph = new OnnxGraph
            {
                Nodes =
                [
                    new OnnxNode { Name = "mm", OpType = "MatMul", Inputs = ["x", "w"], Outputs = ["t"] },
                    new OnnxNode { Name = "add", OpType = "Add", Inputs = ["t", "b"], Outputs = ["y"] },
                ],
                Initializers = [F("w", [3, 2], w), F("b", [2], b)],
                Inputs = [new OnnxValueInfo { Name = "x", ElementType = OnnxDataType.Float }],
                Outputs = [new OnnxValueInfo { Name = "y", ElementType = OnnxDataType.Float }],
            },
        };
    }

    private static float[] Expected(float[] x, float[] w, float[] b, int rows)
    {
        var y = new float[rows * 2];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < 2; j++)
            {
                double s = b[j];
                for (int p = 0; p < 3; p++) s += (double)x[i * 3 + p] * w[p * 2 + j];
                y[i * 2 + j] = (float)s;
            }
        return y;
    }

    [Fact]
    public void Plan_cache_never_holds_more_than_MaxPlans_and_evicted_shapes_still_run_correctly()
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        float[] w = Enumerable.Range(0, 6).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
        float[] b = [(float)r.NextDouble(), (float)r.NextDouble()];
        var session = new GraphSession(Linear(w, b), new GraphOptions { MaxPlans = 3 });
        void RunAndCheck(int rows)
        {
            var x = Enumerable.Range(0, rows * 3).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
            var y = session.Run(new Dictionary<string, GraphTensor> { ["x"] = GraphTensor.FromFloats([rows, 3], x) })["y"];
            Assert.Equal([rows, 2], y.Shape);
            var want = Expected(x, w, b, rows);
            for (int i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(want[i] - y.Floats[i]) <= 1e-5f, $"rows {rows}, element {i}: {y.Floats[i]} vs {want[i]} (seed {seed})");
        }
        // 40 distinct shapes (a server seeing many sequence lengths): the cache stays at its bound.
        for (int rows = 1; rows <= 40; rows++)
        {
            RunAndCheck(rows);
            Assert.True(session.PlanCount <= 3, $"{session.PlanCount} plans cached after {rows} shapes");
        }
        Assert.Equal(3, session.PlanCount);
        // Recency, not insertion order: touch 38 (the oldest of 38..40), add 41; 39 is dropped, 38 stays.
        RunAndCheck(38);
        RunAndCheck(41);
        Assert.Equal(3, session.PlanCount);
        // Shapes that were dropped come back with a fresh plan and the right answer.
        RunAndCheck(1);
        RunAndCheck(39);
        Assert.Equal(3, session.PlanCount);
    }

    [Fact]
    public void Least_recently_used_plan_is_the_one_dropped()
    {
        var session = new GraphSession(Linear([1, 0, 0, 1, 1, 1], [0, 0]), new GraphOptions { MaxPlans = 2 });
        var shapes = new Func<int, IReadOnlyDictionary<string, int[]>>(rows => new Dictionary<string, int[]> { ["x"] = [rows, 3] });
        var a = session.InferShapes(shapes(1));
        var two = session.InferShapes(shapes(2));
        // 1 is used again, so adding 3 must drop 2, and 1's plan (its shape dictionary) must be the same object.
        Assert.Same(a, session.InferShapes(shapes(1)));
        _ = session.InferShapes(shapes(3));
        Assert.Equal(2, session.PlanCount);
        Assert.Same(a, session.InferShapes(shapes(1)));
        Assert.Equal(2, session.PlanCount);
        Assert.NotSame(two, session.InferShapes(shapes(2))); // 2 was dropped: a fresh plan
    }

    [Fact]
    public void MaxPlans_below_one_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GraphOptions { MaxPlans = 0 });
        Assert.Equal(GraphOptions.DefaultMaxPlans, new GraphOptions().MaxPlans);
    }
}
