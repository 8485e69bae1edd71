using Quanta.Engine.Tensor;

namespace Quanta.Engine.Tests.Tensor;

/// <summary><see cref="IPreparingTensorModel"/>: requests are rewritten on the caller's thread before queueing; a refused one fails alone.</summary>
public sealed class PreparingModelTests
{
    /// <summary>Takes "text" BYTES [n] of decimal numbers, prepares them into "x" FP32 [n] and answers y = x + 1.</summary>
    private sealed class ParsingModel : IPreparingTensorModel
    {
        public List<int> PreparedOnThreads { get; } = [];
        public List<int> Batches { get; } = [];
        public string Name => "parse";
        public string Platform => "test";
        public IReadOnlyList<TensorSpec> Inputs { get; } = [new("text", TensorDataType.Bytes, [-1], Optional: true), new("x", TensorDataType.Fp32, [-1], Optional: true)];
        public IReadOnlyList<TensorSpec> Outputs { get; } = [new("y", TensorDataType.Fp32, [-1])];
        public int MaxBatchSize => 16;
        public string BatchKey(InferenceRequest request) => "";

        public InferenceRequest Prepare(InferenceRequest request)
        {
            lock (PreparedOnThreads) PreparedOnThreads.Add(Environment.CurrentManagedThreadId);
            var text = request.Inputs["text"].Bytes!;
            var x = text.Select(b => float.TryParse(System.Text.Encoding.UTF8.GetString(b), System.Globalization.CultureInfo.InvariantCulture, out float v) ? v
                : throw new TensorRequestException("not a number")).ToArray();
            return new InferenceRequest([InferenceTensor.FromFloats("x", [x.Length], x)], request.Outputs, request.Parameters);
        }

        public IReadOnlyList<IReadOnlyList<InferenceTensor>> Run(IReadOnlyList<InferenceRequest> batch)
        {
            Assert.All(batch, r => Assert.False(r.Inputs.ContainsKey("text"), "Run got an unprepared request"));
            lock (Batches) Batches.Add(batch.Count);
            var x = TensorBatching.ConcatInputs(batch)["x"];
            return TensorBatching.SplitOutputs(batch, this, [InferenceTensor.FromFloats("y", [x.Shape[0]], x.Floats!.Select(v => v + 1).ToArray())]);
        }
    }

    [Fact]
    public async Task Requests_are_prepared_on_the_callers_thread_and_a_refused_one_fails_alone()
    {
        var model = new ParsingModel();
        await using var batcher = new DynamicBatcher(model, new DynamicBatcherOptions { MaxQueueDelayMicroseconds = 20_000, PreferredBatchSizes = [4] });
        var seed = Environment.TickCount;
        var r = new Random(seed);
        var values = Enumerable.Range(0, 3).Select(_ => (float)r.Next(-1000, 1000)).ToArray();
        var tasks = values.Select(v => batcher.InferAsync(new InferenceRequest([InferenceTensor.FromStrings("text", [v.ToString(System.Globalization.CultureInfo.InvariantCulture)])]))).ToArray();
        Assert.Equal(3, model.PreparedOnThreads.Count);
        Assert.All(model.PreparedOnThreads, t => Assert.Equal(Environment.CurrentManagedThreadId, t));
        // refused synchronously, never queued: the queue still holds the three good requests
        TensorRequestException? refused = null;
        try
        {
            _ = batcher.InferAsync(new InferenceRequest([InferenceTensor.FromStrings("text", ["abc"])]));
        }
        catch (TensorRequestException x)
        {
            refused = x;
        }
        Assert.Equal("not a number", refused?.Message);
        Assert.True(batcher.QueueLength <= 3);
        var results = await Task.WhenAll(tasks);
        for (int i = 0; i < 3; i++) Assert.True(results[i][0].Floats![0] == values[i] + 1, $"seed {seed}: request {i}");
        Assert.Equal(3, model.Batches.Sum());
    }
}
