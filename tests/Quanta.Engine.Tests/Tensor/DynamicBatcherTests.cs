using Quanta.Engine.Tensor;

namespace Quanta.Engine.Tests.Tensor;

/// <summary>The dynamic batcher against a fake model whose outputs are known per row (y = 2x + 1) and a manual clock.</summary>
public sealed class DynamicBatcherTests
{
    // InferAsync refuses synchronously: the call itself must throw
    private static void Submitted(Task _) { }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(5);
        }
    }

    private static void AssertOwnOutputs(InferenceRequest request, IReadOnlyList<InferenceTensor> result)
    {
        var x = request.Inputs["x"];
        var y = Assert.Single(result);
        Assert.Equal("y", y.Name);
        Assert.Equal(x.Shape, y.Shape);
        for (int i = 0; i < x.ElementCount; i++) Assert.Equal(2 * x.Floats![i] + 1, y.Floats![i]);
    }

    [Fact]
    public async Task Batches_are_formed_at_the_largest_preferred_size_and_the_rest_waits_for_the_delay()
    {
        var clock = new ManualTimeProvider();
        var model = new FakeTensorModel(8);
        model.Gate.Reset();
        await using var b = new DynamicBatcher(model, new DynamicBatcherOptions { PreferredBatchSizes = [2, 4], MaxQueueDelayMicroseconds = 1_000_000, TimeProvider = clock });
        // a 4-row request is a full (largest preferred) batch: it starts at once and holds the only slot
        var blocker = FakeTensorModel.Request([9, 9], [9, 9], [9, 9], [9, 9]);
        var t0 = b.InferAsync(blocker);
        await WaitUntil(() => model.Started == 1, "the 4-row batch to start");
        var reqs = Enumerable.Range(0, 7).Select(i => FakeTensorModel.Request(i)).ToArray();
        var tasks = reqs.Select(r => b.InferAsync(r)).ToArray();
        Assert.Equal(7, b.QueueLength);
        model.Gate.Set();
        await WaitUntil(() => model.Started == 3, "the 4 and 2 batches");
        await Task.Delay(150);
        Assert.Equal(3, model.Started);            // one request left: not a preferred size, waits for the delay
        Assert.Equal(1, b.QueueLength);
        clock.AdvanceMicroseconds(999_999);
        await Task.Delay(100);
        Assert.Equal(3, model.Started);
        clock.AdvanceMicroseconds(1);
        await Task.WhenAll(tasks);
        Assert.Equal([[4], [1, 1, 1, 1], [1, 1], [1]], model.BatchesSnapshot());
        AssertOwnOutputs(blocker, await t0);
        for (int i = 0; i < reqs.Length; i++) AssertOwnOutputs(reqs[i], await tasks[i]);
    }

    [Fact]
    public async Task Without_preferred_sizes_a_batch_waits_the_max_queue_delay_unless_it_fills()
    {
        var clock = new ManualTimeProvider();
        var model = new FakeTensorModel(4);
        await using var b = new DynamicBatcher(model, new DynamicBatcherOptions { MaxQueueDelayMicroseconds = 500, TimeProvider = clock });
        var tasks = Enumerable.Range(0, 3).Select(i => b.InferAsync(FakeTensorModel.Request(i))).ToArray();
        await Task.Delay(150);
        Assert.Equal(0, model.Started);
        clock.AdvanceMicroseconds(499);
        await Task.Delay(100);
        Assert.Equal(0, model.Started);
        clock.AdvanceMicroseconds(1);
        await Task.WhenAll(tasks);
        Assert.Equal([[1, 1, 1]], model.BatchesSnapshot());
        // four rows fill the model's max batch: they run without waiting (the clock does not move)
        var full = Enumerable.Range(0, 4).Select(i => b.InferAsync(FakeTensorModel.Request(i))).ToArray();
        await Task.WhenAll(full);
        Assert.Equal([1, 1, 1, 1], model.BatchesSnapshot()[1]);
    }

    [Fact]
    public async Task At_most_max_concurrency_batches_run_at_once()
    {
        var model = new FakeTensorModel(0);
        model.Gate.Reset();
        await using var b = new DynamicBatcher(model, new DynamicBatcherOptions { MaxConcurrency = 2 });
        var reqs = Enumerable.Range(0, 5).Select(i => FakeTensorModel.Request(i)).ToArray();
        var tasks = reqs.Select(r => b.InferAsync(r)).ToArray();
        await WaitUntil(() => model.Started == 2, "two batches to start");
        await Task.Delay(150);
        Assert.Equal(2, model.Started);
        Assert.Equal(2, b.InFlightBatches);
        Assert.Equal(3, b.QueueLength);
        model.Gate.Set();
        await Task.WhenAll(tasks);
        Assert.Equal(2, model.MaxRunning);
        Assert.Equal(5, model.BatchesSnapshot().Length);   // max batch size 0: one request per run
        for (int i = 0; i < reqs.Length; i++) AssertOwnOutputs(reqs[i], await tasks[i]);
    }

    [Fact]
    public async Task A_full_queue_rejects_at_once()
    {
        var model = new FakeTensorModel(0);
        model.Gate.Reset();
        await using var b = new DynamicBatcher(model, new DynamicBatcherOptions { MaxQueueSize = 2 });
        var running = b.InferAsync(FakeTensorModel.Request(0));
        await WaitUntil(() => model.Started == 1, "the first run");
        var q1 = b.InferAsync(FakeTensorModel.Request(1));
        var q2 = b.InferAsync(FakeTensorModel.Request(2));
        Assert.Throws<TensorQueueFullException>(() => Submitted(b.InferAsync(FakeTensorModel.Request(3))));
        Assert.Equal(2, b.QueueLength);
        model.Gate.Set();
        await Task.WhenAll(running, q1, q2);
        Assert.Equal(3, model.BatchesSnapshot().Length);
        await b.InferAsync(FakeTensorModel.Request(4));   // room again
    }

    [Fact]
    public async Task Requests_of_several_rows_get_their_own_rows_and_different_shapes_are_not_mixed()
    {
        var clock = new ManualTimeProvider();
        var model = new FakeTensorModel(16, width: -1);
        model.Gate.Reset();
        await using var b = new DynamicBatcher(model, new DynamicBatcherOptions { PreferredBatchSizes = [6], MaxQueueDelayMicroseconds = 10_000_000, TimeProvider = clock });
        var blocker = b.InferAsync(FakeTensorModel.Request(Enumerable.Range(0, 6).Select(i => new float[] { i, i }).ToArray()));
        await WaitUntil(() => model.Started == 1, "the blocker");
        var rnd = new Random();
        InferenceRequest Rows(int n, int w) => FakeTensorModel.Request(Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, w).Select(_ => (float)rnd.NextDouble()).ToArray()).ToArray());
        var reqs = new[] { Rows(1, 2), Rows(2, 3), Rows(2, 2), Rows(4, 3), Rows(3, 2) };
        var tasks = reqs.Select(r => b.InferAsync(r)).ToArray();
        model.Gate.Set();
        await Task.WhenAll(tasks);
        var batches = model.BatchesSnapshot();
        Assert.Equal([[6], [1, 2, 3], [2, 4]], batches);
        Assert.Equal([[2], [2, 2, 2], [3, 3]], model.Widths.ToArray());
        for (int i = 0; i < reqs.Length; i++) AssertOwnOutputs(reqs[i], await tasks[i]);
        await blocker;
    }

    [Fact]
    public async Task Cancelling_a_queued_request_removes_it()
    {
        var model = new FakeTensorModel(0);
        model.Gate.Reset();
        await using var b = new DynamicBatcher(model);
        var running = b.InferAsync(FakeTensorModel.Request(0));
        await WaitUntil(() => model.Started == 1, "the first run");
        using var cts = new CancellationTokenSource();
        var cancelled = b.InferAsync(FakeTensorModel.Request(1), cts.Token);
        var kept = b.InferAsync(FakeTensorModel.Request(2));
        Assert.Equal(2, b.QueueLength);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(1, b.QueueLength);
        model.Gate.Set();
        await Task.WhenAll(running, kept);
        Assert.Equal(2, model.BatchesSnapshot().Length);   // the cancelled request never ran
    }

    [Fact]
    public async Task Invalid_requests_are_refused_before_queueing()
    {
        var model = new FakeTensorModel(4);
        await using var b = new DynamicBatcher(model);
        Assert.Throws<TensorRequestException>(() => Submitted(b.InferAsync(new InferenceRequest([InferenceTensor.FromFloats("x", [1, 3], new float[3])]))));
        Assert.Throws<TensorRequestException>(() => Submitted(b.InferAsync(new InferenceRequest([InferenceTensor.FromDoubles("x", [1, 2], new double[2])]))));
        Assert.Throws<TensorRequestException>(() => Submitted(b.InferAsync(new InferenceRequest([InferenceTensor.FromFloats("z", [1, 2], new float[2])]))));
        Assert.Throws<TensorRequestException>(() => Submitted(b.InferAsync(FakeTensorModel.Request([1, 1], [1, 1], [1, 1], [1, 1], [1, 1]))));  // 5 rows > max 4
        Assert.Equal(0, b.QueueLength);
    }
}
