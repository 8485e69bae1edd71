using Quanta.Core.Formats;
using Quanta.Core.Threading;
using Quanta.Models.KvCache;
using Quanta.Models.Runtime;
using Quanta.Models.Tests.Support;

namespace Quanta.Models.Tests.ForwardPass;

/// <summary>
/// <see cref="DecoderModel.ForwardBatch(ReadOnlySpan{ForwardSegment}, Span{float}, bool, DecoderWorkspace)"/>: batch
/// invariance (a sequence's logits are bit-identical alone in one chunk and batched with others in any chunking) on
/// random llama, gemma2, gemma3, qwen3 and phi3 models, the logits row layout, the no-allocation decode contract and
/// argument checks.
/// </summary>
public sealed class ForwardBatchTests
{
    private const int Positions = 40;

    private static string WriteModel(string kind, int seed)
    {
        string path = Path.Combine(Path.GetTempPath(), $"quanta-fwdbatch-{kind}-{Environment.ProcessId}-{Guid.NewGuid():N}.gguf");
        if (kind == "llama")
            return RandomLlamaGguf.Write(new RandomLlamaSpec(GgmlType.Q4_K) { Layers = 2, Vocab = 512, Seed = seed }, path);
        RandomDecoderSpec spec = kind switch
        {
            // sliding window + post norms + both soft-caps + GELU + query scaling before attention
            "gemma2" => new("gemma2", GgmlType.Q8_0) { PostNorms = true, SlidingWindow = 6, AttnSoftCap = 5f, FinalSoftCap = 15f, Seed = seed },
            // + per-head Q/K norms and the sliding layers' own RoPE base
            "gemma3" => new("gemma3", GgmlType.Q8_0) { Layers = 6, KvHeads = 1, HeadDimOverride = 128, QkNorm = true, PostNorms = true, SlidingWindow = 6, FreqBase = 1e6f, Seed = seed },
            "qwen3" => new("qwen3", GgmlType.Q8_0) { HeadDimOverride = 128, QkNorm = true, FreqBase = 1e6f, Seed = seed },
            _ => new("phi3", GgmlType.Q8_0) { FusedQkv = true, FusedGateUp = true, Seed = seed },
        };
        return RandomDecoderGguf.Write(spec, path);
    }

    private static int[] RandomTokens(Random rng, int n, int vocab) => Enumerable.Range(0, n).Select(_ => rng.Next(3, vocab)).ToArray();

    private static void AssertBitEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: logit {i} differs: {expected[i]:R} alone vs {actual[i]:R} batched");
    }

    /// <summary>Every position's logits of <paramref name="tokens"/> run alone, in one chunk: [n, vocab].</summary>
    private static float[] Alone(DecoderModel model, int[] tokens, WorkerPool pool, KvCacheType type = KvCacheType.F32)
    {
        int v = model.Config.VocabSize;
        var ws = model.CreateWorkspace(tokens.Length, Positions, pool);
        var logits = new float[tokens.Length * v];
        model.Forward(tokens, 0, ContiguousKvCache.For(model.Config, Positions, type), logits, allPositions: true, ws);
        return logits;
    }

    /// <summary>One token per step (the decode path: the one-token gated feed-forward of the Q4_K llama and of the Q8_0
    /// models) gives every position the bits of one chunk.</summary>
    public static TheoryData<string, KvCacheType> DecodeCases() => new()
    {
        { "llama", KvCacheType.F32 }, { "llama", KvCacheType.F16 }, { "gemma2", KvCacheType.F32 }, { "gemma3", KvCacheType.F32 },
        { "qwen3", KvCacheType.F32 }, { "qwen3", KvCacheType.Q8_0 }, { "phi3", KvCacheType.F32 },
    };

    [Theory]
    [MemberData(nameof(DecodeCases))]
    public void Decoding_token_by_token_gives_the_bits_of_one_chunk(string kind, KvCacheType type) =>
        OnModel(kind, (model, pool, rng, seed) =>
        {
            int v = model.Config.VocabSize;
            int[] tokens = RandomTokens(rng, 30, v);
            float[] expected = Alone(model, tokens, pool, type);
            var ws = model.CreateWorkspace(1, Positions, pool);
            var cache = ContiguousKvCache.For(model.Config, Positions, type);
            var logits = new float[v];
            for (int t = 0; t < tokens.Length; t++)
            {
                model.Forward(tokens.AsSpan(t, 1), t, cache, logits, allPositions: false, ws);
                AssertBitEqual(expected.AsSpan(t * v, v), logits, $"{kind} {type} seed {seed}: position {t} decoded alone");
                Assert.True(logits.All(float.IsFinite) && logits.Distinct().Count() > v / 2, $"{kind} seed {seed}: degenerate logits at {t}");
            }
        });

    /// <summary>Writes a random model of <paramref name="kind"/>, loads it and runs <paramref name="test"/> on it with a
    /// 2-thread pool and a generator seeded with the seed it is given (for the failure messages).</summary>
    private static void OnModel(string kind, Action<DecoderModel, WorkerPool, Random, int> test)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        string path = WriteModel(kind, seed);
        try
        {
            using var loaded = ModelLoader.Load(path);
            using var pool = new WorkerPool(2);
            test(loaded.Model, pool, rng, seed);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma2")]
    [InlineData("gemma3")]
    [InlineData("qwen3")]
    [InlineData("phi3")]
    [InlineData("gemma3", KvCacheType.Q8_0)]   // Q8_0 caches (head dim 128): quantized on write, still bit-for-bit alone = batched = chunked
    [InlineData("qwen3", KvCacheType.Q8_0)]
    public void Batched_segments_give_each_sequence_the_bits_it_gets_alone(string kind, KvCacheType type = KvCacheType.F32)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        string path = WriteModel(kind, seed);
        try
        {
            using var loaded = ModelLoader.Load(path);
            DecoderModel model = loaded.Model;
            int v = model.Config.VocabSize;
            using var pool = new WorkerPool(2);
            // four sequences of different lengths, each run alone in one chunk for the reference
            const int seqs = 4;
            int[][] tokens = Enumerable.Range(0, seqs).Select(_ => RandomTokens(rng, 14 + rng.Next(20), v)).ToArray();
            float[][] expected = tokens.Select(t => Alone(model, t, pool, type)).ToArray();

            // batched: each step gives every unfinished sequence a random chunk (prefill-like or a single decode token)
            // or skips it, asks for logits at random, and runs them all in one ForwardBatch
            var ws = model.CreateWorkspace(seqs * 8, seqs, Positions, pool);
            var caches = tokens.Select(_ => ContiguousKvCache.For(model.Config, Positions, type)).ToArray();
            var done = new int[seqs];
            var logits = new float[seqs * v];
            var segments = new List<ForwardSegment>();
            var owner = new List<int>();
            int checkedRows = 0;
            for (int step = 0; done.Where((d, i) => d < tokens[i].Length).Any(); step++)
            {
                segments.Clear();
                owner.Clear();
                for (int i = 0; i < seqs; i++)
                {
                    int left = tokens[i].Length - done[i];
                    if (left == 0 || rng.Next(4) == 0) continue;
                    int n = Math.Min(left, rng.Next(2) == 0 ? 1 : 1 + rng.Next(8));
                    segments.Add(new ForwardSegment(tokens[i].AsMemory(done[i], n), done[i], caches[i], NeedsLogits: rng.Next(3) != 0));
                    owner.Add(i);
                }
                if (segments.Count == 0) continue;
                model.ForwardBatch(segments.ToArray(), logits, ws);
                for (int j = 0, row = 0; j < segments.Count; j++)
                {
                    int i = owner[j], last = done[i] + segments[j].Tokens.Length - 1;
                    if (segments[j].NeedsLogits)
                    {
                        AssertBitEqual(expected[i].AsSpan(last * v, v), logits.AsSpan(row * v, v),
                            $"{kind} {type} seed {seed} step {step}: sequence {i} position {last} (batch of {segments.Count})");
                        row++;
                        checkedRows++;
                    }
                    done[i] += segments[j].Tokens.Length;
                }
            }
            Assert.True(checkedRows > 8, $"seed {seed}: only {checkedRows} rows compared");
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma3")]
    public void All_positions_batch_returns_every_row_of_the_segments_that_ask_in_segment_order(string kind)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        string path = WriteModel(kind, seed);
        try
        {
            using var loaded = ModelLoader.Load(path);
            DecoderModel model = loaded.Model;
            int v = model.Config.VocabSize;
            using var pool = new WorkerPool(2);
            int[][] tokens = [RandomTokens(rng, 9, v), RandomTokens(rng, 5, v), RandomTokens(rng, 12, v)];
            bool[] asks = [true, false, true];
            float[][] expected = tokens.Select(t => Alone(model, t, pool)).ToArray();
            var ws = model.CreateWorkspace(32, 3, Positions, pool);
            var segments = tokens.Select((t, i) => new ForwardSegment(t, 0, ContiguousKvCache.For(model.Config, Positions), asks[i])).ToArray();
            var logits = new float[(9 + 12) * v];
            model.ForwardBatch(segments, logits, allPositions: true, ws);
            int row = 0;
            for (int i = 0; i < tokens.Length; i++)
            {
                if (!asks[i]) continue;
                for (int p = 0; p < tokens[i].Length; p++, row++)
                    AssertBitEqual(expected[i].AsSpan(p * v, v), logits.AsSpan(row * v, v), $"{kind} seed {seed}: sequence {i} position {p}");
            }
            Assert.Equal(21, row);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Batched_decode_does_not_allocate_after_warm_up()
    {
        string path = WriteModel("llama", Random.Shared.Next());
        try
        {
            using var loaded = ModelLoader.Load(path);
            DecoderModel model = loaded.Model;
            using var pool = new WorkerPool(2);
            var ws = model.CreateWorkspace(8, 3, Positions, pool);
            var caches = Enumerable.Range(0, 3).Select(_ => ContiguousKvCache.For(model.Config, Positions)).ToArray();
            int[][] next = [[5], [6], [7]];
            var segments = new ForwardSegment[3];
            var logits = new float[3 * model.Config.VocabSize];
            void Step(int pos)
            {
                for (int i = 0; i < 3; i++) segments[i] = new ForwardSegment(next[i], pos + i, caches[i], NeedsLogits: true);
                model.ForwardBatch(segments, logits, ws);
            }
            for (int i = 0; i < 3; i++) model.Forward(new int[i + 1], 0, caches[i], logits, allPositions: false, model.CreateWorkspace(4, Positions, pool));
            for (int p = 1; p < 5; p++) Step(p);   // warm-up (JIT, tiering)
            int pos = 5;   // up to 5 runs of 6 steps: positions 5..36 (+2 for the third sequence) stay below Positions = 40
            SteadyAllocation.AssertNone(() => { for (int end = pos + 6; pos < end; pos++) Step(pos); });
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Batch_arguments_are_checked()
    {
        string path = WriteModel("llama", Random.Shared.Next());
        try
        {
            using var loaded = ModelLoader.Load(path);
            DecoderModel model = loaded.Model;
            int v = model.Config.VocabSize;
            using var pool = new WorkerPool(1);
            var ws = model.CreateWorkspace(6, 2, Positions, pool);
            ForwardSegment Seg(int n, bool logits = true) => new(new int[n], 0, ContiguousKvCache.For(model.Config, Positions), logits);
            var logitsBuf = new float[3 * v];
            Assert.Throws<ArgumentException>(() => model.ForwardBatch([Seg(1), Seg(1), Seg(1)], logitsBuf, ws));   // 3 > 2 segments
            Assert.Throws<ArgumentException>(() => model.ForwardBatch([Seg(4), Seg(3)], logitsBuf, ws));          // 7 > 6 tokens
            Assert.Throws<ArgumentException>(() => model.ForwardBatch([Seg(0)], logitsBuf, ws));                   // empty segment
            Assert.Throws<ArgumentException>(() => model.ForwardBatch([], logitsBuf, ws));                         // no segment
            Assert.Throws<ArgumentException>(() => model.ForwardBatch([Seg(2), Seg(2)], new float[2 * v - 1], ws)); // 2 rows do not fit
            Assert.Throws<ArgumentException>(() => model.ForwardBatch([Seg(2), Seg(2)], logitsBuf, allPositions: true, ws)); // 4 rows do not fit
            var bad = new ForwardSegment(new[] { v }, 0, ContiguousKvCache.For(model.Config, Positions), true);
            Assert.Throws<ArgumentOutOfRangeException>(() => model.ForwardBatch([bad], logitsBuf, ws));
            var late = new ForwardSegment(new int[2], Positions - 1, ContiguousKvCache.For(model.Config, Positions), true);
            Assert.Throws<ArgumentOutOfRangeException>(() => model.ForwardBatch([late], logitsBuf, ws));
            // one segment without logits needs no logits room at all
            model.ForwardBatch([Seg(3, logits: false)], Span<float>.Empty, ws);
        }
        finally { File.Delete(path); }
    }
}
