using Quanta.Core.Threading;
using Quanta.Engine.Execution;
using Quanta.Engine.KvCache;
using Quanta.Engine.Tests.KvCache;
using Quanta.Models.KvCache;

namespace Quanta.Engine.Tests.Serving;

/// <summary>The engine's start-up warm-up: which steps it runs, that it leaves the cache as it found it, and that the
/// executor's results afterwards are those of a fresh executor.</summary>
public sealed class ExecutorWarmUpTests
{
    /// <summary>Passes steps to an inner executor and records each step's (sequences, tokens, start positions).</summary>
    private sealed class Recorder(IExecutor inner) : IExecutor
    {
        public List<(int Sequences, int Tokens, int[] Starts)> Steps { get; } = [];
        public int VocabSize => inner.VocabSize;
        public int MaxBatchTokens => inner.MaxBatchTokens;
        public int MaxBatchSequences => inner.MaxBatchSequences;

        public ExecutionResult Execute(ExecutionBatch batch)
        {
            Steps.Add((batch.Sequences.Count, batch.TotalTokens, batch.Sequences.Select(s => s.StartPosition).ToArray()));
            ExecutionResult r = inner.Execute(batch);
            for (int i = 0; i < batch.Sequences.Count; i++) Assert.True(r.HasLogits(i));
            return r;
        }
    }

    [Fact]
    public void Runs_every_decode_batch_size_each_round_then_one_prefill_chunk_and_returns_every_block()
    {
        int seed = Random.Shared.Next();
        var model = TinyModel.Create(seed);
        using var pool = new WorkerPool(2);
        var rec = new Recorder(new CpuExecutor(model, pool, maxBatchTokens: 48, maxBatchSequences: 6, maxPositions: 128));
        var cache = PagedKvCache.For(model.Config, 64, 4, 128);
        int free = cache.Pool.FreeBlocks;

        WarmUpResult r = ExecutorWarmUp.Run(rec, cache, maxSequences: 6, maxTokens: 48, maxPositions: 128, rounds: 2);

        (int, int)[] expected = [.. Enumerable.Range(1, 6).Select(b => (b, b)), .. Enumerable.Range(1, 6).Select(b => (b, b)), (1, 48)];
        Assert.Equal(expected, rec.Steps.Select(s => (s.Sequences, s.Tokens)).ToArray());
        Assert.All(rec.Steps.Take(12), s => Assert.All(s.Starts, p => Assert.Equal(ExecutorWarmUp.DecodePosition, p)));
        Assert.Equal(13, r.Steps);
        Assert.Equal(6, r.LargestBatch);
        Assert.True(r.SlowestStep > TimeSpan.Zero && r.SlowestStep <= r.Elapsed, $"seed {seed}: slowest {r.SlowestStep}, total {r.Elapsed}");
        Assert.True(r.FirstRound > TimeSpan.Zero && r.LastRound > TimeSpan.Zero && r.FirstRound + r.LastRound <= r.Elapsed, $"seed {seed}: rounds {r.FirstRound}, {r.LastRound}");
        Assert.Equal(free, cache.Pool.FreeBlocks);
        Assert.Equal(0, cache.Pool.CachedBlocks);   // nothing committed, so nothing reaches the prefix cache
    }

    [Fact]
    public void Stops_at_the_batch_size_the_pool_cannot_hold_without_failing()
    {
        int seed = Random.Shared.Next();
        var model = TinyModel.Create(seed);
        using var pool = new WorkerPool(1);
        var rec = new Recorder(new CpuExecutor(model, pool, maxBatchTokens: 64, maxBatchSequences: 16, maxPositions: 128));
        // 21 positions in blocks of 4 = 6 blocks per sequence; 20 usable blocks hold 3 sequences
        var cache = PagedKvCache.For(model.Config, 21, 4, 128);

        WarmUpResult r = ExecutorWarmUp.Run(rec, cache, maxSequences: 16, maxTokens: 64, maxPositions: 128);

        Assert.Equal(3, r.LargestBatch);
        Assert.Equal([(1, 1), (2, 2), (3, 3), (1, 64)], rec.Steps.Select(s => (s.Sequences, s.Tokens)).ToArray());
        Assert.Equal(20, cache.Pool.FreeBlocks);
    }

    [Fact]
    public void Executor_after_warm_up_gives_the_bits_of_a_fresh_executor()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var model = TinyModel.Create(seed);
        using var pool = new WorkerPool(2);
        int[] prompt = TinyModel.RandomTokens(rng, 13);

        float[] Generate(bool warm)
        {
            var ex = new CpuExecutor(model, pool, maxBatchTokens: 32, maxBatchSequences: 4, maxPositions: 64);
            var cache = PagedKvCache.For(model.Config, 40, 4, 64, KvCacheType.F32);
            if (warm) ExecutorWarmUp.Run(ex, cache, 4, 32, 64);
            SequenceKv s = cache.CreateSequence(prompt, usePrefixCache: true);
            var logits = new List<float>();
            int[] tokens = prompt;
            int start = 0;
            for (int step = 0; step < 4; step++)
            {
                ExecutionResult r = ex.Execute(new ExecutionBatch([new SequenceWork(1, tokens, start, s, true)]));
                float[] row = r.Logits(0).ToArray();
                logits.AddRange(row);
                s.Commit(tokens);
                start += tokens.Length;
                tokens = [Array.IndexOf(row, row.Max())];
            }
            s.Dispose();
            return [.. logits];
        }

        TinyModel.AssertBitEqual(Generate(warm: false), Generate(warm: true), $"seed {seed}");
    }
}
