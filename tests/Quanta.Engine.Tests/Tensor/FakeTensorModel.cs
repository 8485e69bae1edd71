using Quanta.Engine.Tensor;

namespace Quanta.Engine.Tests.Tensor;

/// <summary>
/// A tensor model "x" FP32 [n, 2] → "y" FP32 [n, 2] = 2·x + 1 computed per element (so each row's result is known from
/// first principles); records every batch's row counts, tracks concurrent runs, and can hold runs at a gate.
/// </summary>
internal sealed class FakeTensorModel(int maxBatchSize, int width = 2) : ITensorModel
{
    private int _running;

    public ManualResetEventSlim Gate { get; } = new(true);
    public List<int[]> Batches { get; } = [];
    public List<int[]> Widths { get; } = [];
    public int MaxRunning;
    public int Started;

    public string Name => "fake";
    public string Platform => "test";
    public IReadOnlyList<TensorSpec> Inputs { get; } = [new("x", TensorDataType.Fp32, [-1, width])];
    public IReadOnlyList<TensorSpec> Outputs { get; } = [new("y", TensorDataType.Fp32, [-1, width])];
    public int MaxBatchSize { get; } = maxBatchSize;

    public string BatchKey(InferenceRequest request) => TensorBatching.ShapeKey(request);

    public IReadOnlyList<IReadOnlyList<InferenceTensor>> Run(IReadOnlyList<InferenceRequest> batch)
    {
        int now = Interlocked.Increment(ref _running);
        lock (Batches)
        {
            MaxRunning = Math.Max(MaxRunning, now);
            Batches.Add(batch.Select(r => r.Inputs["x"].Shape[0]).ToArray());
            Widths.Add(batch.Select(r => r.Inputs["x"].Shape[1]).ToArray());
        }
        Interlocked.Increment(ref Started);
        try
        {
            Assert.True(Gate.Wait(TimeSpan.FromSeconds(20)), "gate never opened");
            var x = TensorBatching.ConcatInputs(batch)["x"];
            var y = x.Floats!.Select(v => 2 * v + 1).ToArray();
            return TensorBatching.SplitOutputs(batch, this, [InferenceTensor.FromFloats("y", x.Shape, y)]);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    public int[][] BatchesSnapshot() { lock (Batches) return Batches.ToArray(); }

    public static InferenceRequest Request(params float[][] rows) =>
        new([InferenceTensor.FromFloats("x", [rows.Length, rows[0].Length], rows.SelectMany(r => r).ToArray())]);

    public static InferenceRequest Request(float id) => Request([id, -id]);
}
