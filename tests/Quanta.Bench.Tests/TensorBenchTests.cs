using System.Text.Json;
using Quanta.Bench.Tensor;
using Quanta.Core.ModelFiles.Onnx;
using Quanta.Engine.Tensor;
using Quanta.Models.Graph;
using Quanta.Models.Recommendation;

namespace Quanta.Bench.Tests;

/// <summary>`quanta bench tensor` parts: percentiles, the symbolic-batch rewrite, the bench DLRM, the three scenarios on a fake model, the command.</summary>
public sealed class TensorBenchTests
{
    /// <summary>Returns one zero per row; optionally sleeps per run; records the rows of every run.</summary>
    private sealed class FakeModel(int sleepMs = 0) : ITensorModel
    {
        public List<int> Runs { get; } = [];
        public string Name => "fake";
        public string Platform => "test";
        public IReadOnlyList<TensorSpec> Inputs { get; } = [new("x", TensorDataType.Fp32, [-1, 2])];
        public IReadOnlyList<TensorSpec> Outputs { get; } = [new("y", TensorDataType.Fp32, [-1])];
        public int MaxBatchSize => 64;
        public string BatchKey(InferenceRequest request) => "";
        public IReadOnlyList<IReadOnlyList<InferenceTensor>> Run(IReadOnlyList<InferenceRequest> batch)
        {
            lock (Runs) Runs.Add(batch.Count);
            if (sleepMs > 0) Thread.Sleep(sleepMs);
            return batch.Select(_ => (IReadOnlyList<InferenceTensor>)[InferenceTensor.FromFloats("y", [1], [0f])]).ToArray();
        }
    }

    private static TensorBenchTarget Fake(FakeModel m) =>
        new("fake", "samples", m, [new InferenceRequest([InferenceTensor.FromFloats("x", [1, 2], [1f, 2f])])], 10);

    [Fact]
    public void Percentiles_are_nearest_rank()
    {
        var values = Enumerable.Range(1, 100).Select(i => (double)i).Reverse().ToArray();
        var (mean, p50, p90, p99, max) = TensorScenarioResult.Stats(values);
        Assert.Equal((50.5, 50.0, 90.0, 99.0, 100.0), (mean, p50, p90, p99, max));
        Assert.Equal(7.0, TensorScenarioResult.Stats([7.0]).P99);
    }

    [Fact]
    public void Symbolic_batch_rewrite_frees_the_batch_dimension_of_inputs_and_outputs_only()
    {
        // y[1, 4] = x[1, 4] + c[4]; c is an initializer that is also listed as a graph input (IR < 4 style)
        var w = new OnnxModelWriter();
        w.Input("x", OnnxModelWriter.Float, 1L, 4L);
        w.Input("c", OnnxModelWriter.Float, 4L);
        w.Output("y", OnnxModelWriter.Float, 1L, 4L);
        w.Floats("c", [4], [10f, 20f, 30f, 40f]);
        w.Node("Add", ["x", "c"], ["y"]);
        var model = OnnxModel.Parse(OnnxSymbolicBatch.Rewrite(w.Model(13)), "rewritten");
        var inputs = model.Graph.Inputs.ToDictionary(i => i.Name);
        Assert.Equal("N", inputs["x"].Shape![0].Param);
        Assert.Equal(4, inputs["x"].Shape![1].Value);
        Assert.Equal(4, inputs["c"].Shape![0].Value);
        Assert.Equal("N", model.Graph.Outputs[0].Shape![0].Param);
        var session = new GraphSession(model);
        var y = session.Run(new Dictionary<string, GraphTensor> { ["x"] = GraphTensor.FromFloats([3, 4], Enumerable.Range(0, 12).Select(i => (float)i).ToArray()) })["y"];
        Assert.Equal([3, 4], y.Shape);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i + 10f * (i % 4 + 1)).ToArray(), y.Floats.ToArray());
        Assert.Throws<InvalidDataException>(() => OnnxSymbolicBatch.Rewrite([0x3A, 0x7F, 1]));
    }

    [Fact]
    public void Bench_dlrm_gives_probabilities_and_batches_consistently()
    {
        var shape = new DlrmBenchShape { TableRows = 50, Dim = 8, Bottom = [16], Top = [16] };
        var model = DlrmModel.FromBytes(DlrmBenchModel.Build(shape, 3));
        int seed = Environment.TickCount;
        var (dense, sparse) = DlrmBenchModel.Inputs(shape, 5, new Random(seed));
        Assert.All(sparse.Select((v, i) => (v, i)), p => Assert.InRange(p.v, p.i % 26 * 50L, p.i % 26 * 50L + 49));
        var all = model.Predict(dense, sparse, 5);
        Assert.Equal(5, all.Length);
        for (int i = 0; i < 5; i++)
        {
            Assert.InRange(all[i], 0f, 1f);
            var one = model.Predict(dense[(i * 13)..((i + 1) * 13)], sparse[(i * 26)..((i + 1) * 26)], 1);
            Assert.True(Math.Abs(one[0] - all[i]) < 1e-5, $"seed {seed}: row {i}: batch {all[i]} vs alone {one[0]}");
        }
    }

    [Fact]
    public void SingleStream_and_Offline_run_the_requested_batch_sizes()
    {
        var m = new FakeModel();
        var s = TensorLoadGen.SingleStream(Fake(m), 0.05, 20, 1);
        Assert.True(s.Queries >= 20 && s.P90Ms >= s.P50Ms && s.MaxMs >= s.P99Ms);
        Assert.All(m.Runs, r => Assert.Equal(1, r));
        m.Runs.Clear();
        var o = TensorLoadGen.Offline(Fake(m), 7, 0.05, 30, 1);
        Assert.All(m.Runs, r => Assert.Equal(7, r));
        Assert.Equal(7L * (m.Runs.Count - 1), o.Samples); // the first run is the warm-up
        Assert.True(o.SamplesPerSecond > 0);
    }

    [Fact]
    public async Task Server_is_valid_when_fast_and_invalid_past_its_bound()
    {
        // other test classes block pool threads on child processes; on 2 cores the pool then injects threads about
        // twice a second, which would delay the batcher's completions by that much
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), io);
        var fast = await TensorLoadGen.ServerAsync(Fake(new FakeModel()), 400, 500, 0.25, 10, [4, 8], 1000, 5, 1);
        Assert.Equal(100, fast.Queries);
        Assert.True(fast.Valid, fast.ToString());
        var slow = await TensorLoadGen.ServerAsync(Fake(new FakeModel(sleepMs: 20)), 100, 5, 0.2, 10, [], 0, 5, 1);
        Assert.Equal(20, slow.Queries);
        Assert.False(slow.Valid, $"p99 {slow.P99Ms} ms with 20 ms runs against a 5 ms bound");
        Assert.True(slow.P99Ms >= 20);
    }

    [Fact]
    public void Command_runs_dlrm_and_reports_json_and_refuses_unknown_names()
    {
        var bad = CliHarness.Run("bench", "tensor", "-m", "nope");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("nope", bad.Stderr, StringComparison.Ordinal);
        var r = CliHarness.Run("bench", "tensor", "-m", "dlrm", "--duration", "0.2", "--min-queries", "2", "--batch", "1,4", "-t", "1", "--server-qps", "200", "-o", "json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = JsonDocument.Parse(r.Stdout).RootElement.EnumerateArray().ToArray();
        Assert.Equal(["SingleStream", "Offline", "Offline", "Server"], rows.Select(x => x.GetProperty("scenario").GetString()));
        Assert.Equal([1, 1, 4, 4], rows.Select(x => x.GetProperty("batch").GetInt32()));
        Assert.Equal(200, rows[3].GetProperty("target_qps").GetDouble());
        Assert.All(rows, x => Assert.True(x.GetProperty("samples_per_second").GetDouble() > 0));
    }
}
