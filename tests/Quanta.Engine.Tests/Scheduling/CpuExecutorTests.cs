using Quanta.Core.Threading;
using Quanta.Engine.Execution;
using Quanta.Engine.KvCache;
using Quanta.Engine.Scheduling;
using Quanta.Engine.Tests.KvCache;
using Quanta.Core.Kernels.Ops;
using Quanta.Models;
using Quanta.Models.KvCache;
using Quanta.Models.Runtime;
using Quanta.Models.Weights;

namespace Quanta.Engine.Tests.Scheduling;

/// <summary>Batch invariance of the CPU executor and the engine loop on a tiny random model.</summary>
public sealed class CpuExecutorTests
{
    /// <summary>
    /// The tiny model with Gemma/Phi-3-style features switched on: queries scaled before attention by a non-default
    /// scale, a sliding first layer with its own RoPE base, attention and final soft-caps, GELU, embedding scale,
    /// per-head Q/K norms and post-attention/post-FFN norms.
    /// </summary>
    private static DecoderModel GemmaLike(DecoderModel m, int seed)
    {
        var rng = new Random(seed ^ 0x5eed);
        NormWeights N(int d) => new(Enumerable.Range(0, d).Select(_ => 0.8f + 0.4f * (float)rng.NextDouble()).ToArray());
        ModelConfig c = m.Config with
        {
            ScaleQueryBeforeAttention = true,
            AttentionScale = 0.2f,
            SlidingWindows = [5, 0],
            SlidingRope = new RopeParameters(m.Config.HeadDim) { FreqBase = 1000f },
            AttentionLogitSoftCap = 4f,
            FinalLogitSoftCap = 10f,
            Activation = FeedForwardActivation.GeluTanh,
            EmbeddingScale = 2f,
            QkNorm = true,
            PostAttentionNorm = true,
            PostFeedForwardNorm = true,
        };
        var layers = m.Weights.Layers.Select(l => l with
        {
            QueryNorm = N(c.HeadDim),
            KeyNorm = N(c.HeadDim),
            PostAttentionNorm = N(c.EmbeddingLength),
            PostFeedForwardNorm = N(c.EmbeddingLength),
        }).ToList();
        var w = m.Weights;
        return new DecoderModel(c, new ModelWeights(w.TokenEmbedding, layers, w.OutputNorm, w.Output, w.RopeFrequencyFactors));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Batched_step_gives_each_sequence_the_bits_of_DecoderModel_alone(bool gemmaLike)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var model = TinyModel.Create(seed);
        if (gemmaLike) model = GemmaLike(model, seed);
        using var pool = new WorkerPool(2);
        var ex = new CpuExecutor(model, pool, maxBatchTokens: 64, maxBatchSequences: 8, maxPositions: 64);
        var cache = PagedKvCache.For(model.Config, 80, 4, 64);
        var ws = model.CreateWorkspace(32, 64, pool);
        int[][] prompts = [TinyModel.RandomTokens(rng, 11), TinyModel.RandomTokens(rng, 3), TinyModel.RandomTokens(rng, 17)];
        var seqs = prompts.Select(p => cache.CreateSequence(p, usePrefixCache: false)).ToArray();
        var refs = prompts.Select(_ => ContiguousKvCache.For(model.Config, 64)).ToArray();
        var expected = new float[TinyModel.Vocab];
        // step 1: mixed prefill chunks (one without logits); step 2..: decodes mixed with the rest
        int[] done = new int[3];
        int[][] chunks = [[7, 4, 1, 1], [3, 1, 1, 1], [5, 5, 7, 1]];
        for (int step = 0; step < 4; step++)
        {
            var work = new List<SequenceWork>();
            for (int i = 0; i < 3; i++)
            {
                int n = chunks[i][step];
                int[] t = done[i] + n <= prompts[i].Length ? prompts[i][done[i]..(done[i] + n)] : TinyModel.RandomTokens(rng, n);
                bool logits = (i + step) % 3 != 0;
                work.Add(new SequenceWork(i, t, done[i], seqs[i], logits));
            }
            var result = ex.Execute(new ExecutionBatch(work));
            for (int i = 0; i < 3; i++)
            {
                ReadOnlySpan<int> t = work[i].Tokens.Span;
                model.Forward(t, done[i], refs[i], expected, allPositions: false, ws);
                if (work[i].NeedsLogits) TinyModel.AssertBitEqual(expected, result.Logits(i), $"seed {seed} step {step} seq {i}");
                else Assert.False(result.HasLogits(i));
                seqs[i].Commit(t);
                done[i] += t.Length;
            }
        }
        foreach (var s in seqs) s.Dispose();
        Assert.Equal(0, cache.Pool.UsedBlocks);
    }

    [Fact]
    public async Task Sixteen_concurrent_greedy_requests_match_each_request_run_alone()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var model = TinyModel.Create(seed);
        using var pool = new WorkerPool(2);
        // prompts share prefixes so the prefix cache is exercised too
        int[] common = TinyModel.RandomTokens(rng, 9);
        var requests = Enumerable.Range(0, 16).Select(i => new GenerationRequest
        {
            Prompt = (i % 2 == 0 ? common : []).Concat(TinyModel.RandomTokens(rng, 1 + rng.Next(12))).ToArray(),
            MaxNewTokens = 6 + rng.Next(10),
            Sampler = TokenSamplers.Greedy,
        }).ToArray();

        async Task<GenerationResult[]> Run(IEnumerable<GenerationRequest> reqs, int budget, int blocks)
        {
            var ex = new CpuExecutor(model, pool, maxBatchTokens: budget, maxBatchSequences: 16, maxPositions: 64);
            var sched = new Scheduler(PagedKvCache.For(model.Config, blocks, 4, 64), new SchedulerOptions { MaxBatchTokens = budget, MaxRunning = 16 });
            using var loop = new EngineLoop(sched, ex);
            var handles = reqs.Select(r => loop.Submit(r)).ToArray();
            var streamed = await Task.WhenAll(handles.Select(async h =>
            {
                var l = new List<int>();
                await foreach (int t in h.Tokens()) l.Add(t);
                return l;
            }));
            var results = await Task.WhenAll(handles.Select(h => h.Completion));
            for (int i = 0; i < results.Length; i++) Assert.Equal(results[i].Tokens, streamed[i]);
            Assert.Equal(0, sched.Cache.Pool.UsedBlocks);
            return results;
        }

        var alone = new List<GenerationResult>();
        foreach (var r in requests) alone.Add((await Run([r], 64, 40))[0]);
        var together = await Run(requests, 24, 70);   // small budget and pool: chunking, batching, maybe preemption
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(FinishReason.Length, together[i].Finish);
            Assert.True(alone[i].Tokens.SequenceEqual(together[i].Tokens),
                $"seed {seed}: request {i}: [{string.Join(",", alone[i].Tokens)}] alone vs [{string.Join(",", together[i].Tokens)}] batched");
        }
    }

    [Fact]
    public async Task Engine_loop_cancellation_and_many_requests_leave_no_block_held()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var ex = new FakeExecutor();
        var sched = new Scheduler(new PagedKvCache(1, 1, 4, 40, 4, 64), new SchedulerOptions { MaxBatchTokens = 32, MaxRunning = 6 });
        var handles = new List<RequestHandle>();
        using (var loop = new EngineLoop(sched, ex))
        {
            using var cts = new CancellationTokenSource();
            for (int i = 0; i < 200; i++)
            {
                var h = loop.Submit(new GenerationRequest
                {
                    Prompt = Enumerable.Range(0, 1 + rng.Next(20)).Select(_ => rng.Next(50)).ToArray(),
                    MaxNewTokens = 1 + rng.Next(30),
                    Sampler = TokenSamplers.Greedy,
                }, i % 10 == 0 ? cts.Token : default);
                handles.Add(h);
                if (rng.Next(5) == 0) handles[rng.Next(handles.Count)].Cancel();
            }
            await cts.CancelAsync();
            var results = await Task.WhenAll(handles.Select(h => h.Completion)).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Contains(results, r => r.Finish == FinishReason.Cancelled);
            Assert.Contains(results, r => r.Finish == FinishReason.Length);
            Assert.All(results.Where(r => r.Finish == FinishReason.Length), r => Assert.NotEmpty(r.Tokens));
        }
        Assert.False(sched.HasUnfinished, $"seed {seed}");
        Assert.Equal(0, sched.Cache.Pool.UsedBlocks);
    }
}
