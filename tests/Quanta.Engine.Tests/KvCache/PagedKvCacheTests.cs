using Quanta.Core.Threading;
using Quanta.Engine.KvCache;
using Quanta.Models.KvCache;
using Quanta.Models.Runtime;

namespace Quanta.Engine.Tests.KvCache;

/// <summary>Prefix caching, copy-on-write, leak-freedom and bit-exact attention of the paged cache.</summary>
public sealed class PagedKvCacheTests
{
    private static PagedKvCache Cache(int blocks = 33, int bs = 8, int maxLen = 128, KvCacheType type = KvCacheType.F32) =>
        new(layers: 2, kvHeads: 2, headDim: 4, numBlocks: blocks, blockSize: bs, maxSequenceLength: maxLen, type);

    private static void Fill(SequenceKv s, ReadOnlySpan<int> tokens)
    {
        Assert.True(s.TryReserve(s.Length + tokens.Length));
        int row = s.KvHeads * s.HeadDim;
        var k = new float[tokens.Length * row];
        var v = new float[tokens.Length * row];
        for (int i = 0; i < tokens.Length; i++)
            for (int j = 0; j < row; j++)
            {
                k[i * row + j] = tokens[i] * 100 + j;
                v[i * row + j] = -(tokens[i] * 100 + j);
            }
        for (int l = 0; l < s.Layers; l++) s.Write(l, s.Length, tokens.Length, k, v);
        s.Commit(tokens);
    }

    [Fact]
    public void Prefix_cache_serves_full_blocks_and_keeps_one_token_to_compute()
    {
        var cache = Cache();
        int[] prompt = Enumerable.Range(1, 40).ToArray();
        using (var first = cache.CreateSequence(prompt))
        {
            Assert.Equal(0, first.CachedTokens);
            Fill(first, prompt);
            Assert.Equal(5, first.BlockCount);
            Assert.Equal(5, cache.Pool.CachedBlocks);
        }
        Assert.Equal(0, cache.Pool.UsedBlocks);   // disposed: all blocks returned, still cached
        Assert.Equal(5, cache.Pool.CachedBlocks);

        using var same = cache.CreateSequence(prompt);
        Assert.Equal(32, same.CachedTokens);   // ⌊39/8⌋ = 4 blocks: the last token is left to compute
        Assert.Equal(32, same.Length);
        Assert.Equal(prompt[..32], same.Tokens.ToArray());

        int[] exact = prompt[..32];
        using var aligned = cache.CreateSequence(exact);
        Assert.Equal(24, aligned.CachedTokens);

        int[] diverging = (int[])prompt.Clone();
        diverging[20] = 999;
        using var partial = cache.CreateSequence(diverging);
        Assert.Equal(16, partial.CachedTokens);
        Assert.Equal(same.BlockTable[0], partial.BlockTable[0]);
        Assert.Equal(3, cache.Pool.RefCount(same.BlockTable[0]));

        using var off = cache.CreateSequence(prompt, usePrefixCache: false);
        Assert.Equal(0, off.CachedTokens);
    }

    [Fact]
    public void Fork_shares_blocks_and_the_first_write_copies_the_shared_block()
    {
        var cache = Cache();
        using var parent = cache.CreateSequence([1]);
        Fill(parent, Enumerable.Range(1, 10).ToArray());   // block 0 full, block 1 holds 2 positions
        using var child = parent.Fork();
        Assert.Equal(parent.BlockTable.ToArray(), child.BlockTable.ToArray());
        Assert.Equal(2, cache.Pool.RefCount(parent.BlockTable[1]));
        int usedBefore = cache.Pool.UsedBlocks;

        Fill(child, [77]);   // position 10 lies in shared block 1: copy-on-write
        Assert.Equal(usedBefore + 1, cache.Pool.UsedBlocks);
        Assert.Equal(parent.BlockTable[0], child.BlockTable[0]);
        Assert.NotEqual(parent.BlockTable[1], child.BlockTable[1]);
        Assert.Equal(1, cache.Pool.RefCount(parent.BlockTable[1]));
        Assert.Equal(1, cache.Pool.RefCount(child.BlockTable[1]));
        Assert.Equal(2, cache.Pool.RefCount(parent.BlockTable[0]));

        // the copy carries positions 8 and 9; the parent's block is untouched by the child's write
        var q = new float[4];
        var outP = new float[4];
        var outC = new float[4];
        var scratch = new float[64];
        var ap = new Quanta.Core.Kernels.Attention.AttentionParameters(2, 2, 4) { SlidingWindow = 2 };   // positions 8, 9 only
        q[0] = 1e-3f;
        parent.AttendRow(1, 10, q, 9, 0, ap, outP, scratch);
        child.AttendRow(1, 11, q, 9, 0, ap, outC, scratch);
        Assert.Equal(outP, outC);
        Assert.Equal(10, parent.Length);
        Assert.Equal(11, child.Length);
    }

    [Theory]
    [InlineData(KvCacheType.F32)]
    [InlineData(KvCacheType.F16)]
    [InlineData(KvCacheType.Q8_0)]
    public void Prefault_keeps_the_cache_as_new_and_refuses_a_cache_holding_blocks(KvCacheType type)
    {
        int headDim = type == KvCacheType.Q8_0 ? 32 : 4;
        PagedKvCache Make() => new(layers: 2, kvHeads: 2, headDim: headDim, numBlocks: 700, blockSize: 8, maxSequenceLength: 128, type);
        var touched = Make();
        var fresh = Make();
        touched.Prefault();
        touched.Prefault();   // again: still nothing held
        int[] prompt = Enumerable.Range(1, 37).ToArray();
        var outputs = new List<float[]>();
        foreach (PagedKvCache cache in new[] { touched, fresh })
        {
            using SequenceKv s = cache.CreateSequence(prompt);
            Assert.True(s.TryReserve(prompt.Length));
            int row = s.KvHeads * s.HeadDim;
            var k = new float[prompt.Length * row];
            var v = new float[prompt.Length * row];
            var rng = new Random(5);
            for (int i = 0; i < k.Length; i++) { k[i] = (float)rng.NextDouble() - 0.5f; v[i] = (float)rng.NextDouble() - 0.5f; }
            for (int l = 0; l < s.Layers; l++) s.Write(l, 0, prompt.Length, k, v);
            s.Commit(prompt);
            var q = new float[headDim];
            for (int i = 0; i < q.Length; i++) q[i] = 0.25f * (i % 5) - 0.5f;
            var o = new float[headDim];
            s.AttendRow(1, prompt.Length, q, prompt.Length - 1, 1, new Quanta.Core.Kernels.Attention.AttentionParameters(2, 2, headDim), o, new float[4096]);
            outputs.Add(o);
            Assert.Throws<InvalidOperationException>(cache.Prefault);   // blocks in use
        }
        Assert.Equal(outputs[0], outputs[1]);
        Assert.True(touched.Pool.CachedBlocks > 0);
        Assert.Throws<InvalidOperationException>(touched.Prefault);     // freed, but cached prefix blocks hold K/V
        touched.Pool.ResetPrefixCache();
        touched.Prefault();
        PagedKvCache.BlocksOnly(TinyModel.Create(1).Config, 2, 8, 16, KvCacheType.F16).Prefault();   // no host storage: nothing to touch
    }

    [Fact]
    public void Writes_below_the_committed_length_are_refused_and_exhaustion_throws()
    {
        var cache = Cache(blocks: 3, bs: 4, maxLen: 64);
        using var s = cache.CreateSequence([1]);
        Fill(s, [1, 2, 3, 4, 5]);
        var row = new float[8];
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Write(0, 2, 1, row, row));
        Assert.False(s.TryReserve(9));   // needs a third block; the pool has two
        Assert.Equal(2, s.BlockCount);
        Assert.Throws<KvCacheFullException>(() => s.Write(0, 8, 1, row, row));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.TryReserve(65));
    }

    [Fact]
    public void Random_create_fill_fork_dispose_sequences_never_leak_a_block()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        for (int round = 0; round < 20; round++)
        {
            var cache = Cache(blocks: 2 + rng.Next(40), bs: 1 + rng.Next(6), maxLen: 48);
            var live = new List<SequenceKv>();
            for (int op = 0; op < 300; op++)
            {
                int kind = rng.Next(10);
                if (kind < 4)
                {
                    // prompts from a tiny alphabet share prefixes often
                    int[] prompt = Enumerable.Range(0, 1 + rng.Next(30)).Select(_ => rng.Next(2)).ToArray();
                    var s = cache.CreateSequence(prompt, rng.Next(4) != 0);
                    int n = prompt.Length - s.Length;
                    if (s.TryReserve(prompt.Length)) s.Commit(prompt.AsSpan(s.Length, n));
                    live.Add(s);
                }
                else if (kind < 6 && live.Count > 0)
                {
                    var s = live[rng.Next(live.Count)];
                    int n = 1 + rng.Next(5);
                    if (s.Length + n <= s.Capacity && s.TryReserve(s.Length + n))
                        s.Commit(Enumerable.Range(0, n).Select(_ => rng.Next(2)).ToArray());
                }
                else if (kind < 7 && live.Count > 0) live.Add(live[rng.Next(live.Count)].Fork());
                else if (live.Count > 0)
                {
                    int i = rng.Next(live.Count);
                    live[i].Dispose();
                    live.RemoveAt(i);
                }
                // invariant: every block's count is the number of live tables that hold it
                var expected = new int[cache.Pool.NumBlocks];
                foreach (var s in live)
                    foreach (int b in s.BlockTable)
                    {
                        Assert.NotEqual(BlockPool.NullBlock, b);
                        expected[b]++;
                    }
                for (int b = 1; b < expected.Length; b++)
                    Assert.True(expected[b] == cache.Pool.RefCount(b), $"seed {seed} round {round} op {op}: block {b} count {cache.Pool.RefCount(b)} but {expected[b]} holders");
                Assert.Equal(expected.Count(c => c > 0), cache.Pool.UsedBlocks);
            }
            foreach (var s in live) s.Dispose();
            Assert.True(cache.Pool.UsedBlocks == 0, $"seed {seed} round {round}: {cache.Pool.UsedBlocks} blocks leaked");
            Assert.Equal(cache.Pool.NumBlocks - 1, cache.Pool.FreeBlocks);
            Assert.DoesNotContain(BlockPool.NullBlock, cache.Pool.FreeQueueSnapshot());
        }
    }

    [Theory]
    [InlineData(KvCacheType.F32, 4)]
    [InlineData(KvCacheType.F16, 3)]
    [InlineData(KvCacheType.F32, 16)]
    public void Model_over_paged_view_gives_the_same_bits_as_over_a_contiguous_cache(KvCacheType type, int blockSize)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        DecoderModel model = TinyModel.Create(seed);
        using var pool = new WorkerPool(2);
        var ws = model.CreateWorkspace(16, 64, pool);
        var c = model.Config;
        var contiguous = ContiguousKvCache.For(c, 64, type);
        int need = (40 + blockSize - 1) / blockSize;
        var cache = PagedKvCache.For(c, numBlocks: 1 + 2 * need, blockSize, maxSequenceLength: need * blockSize, type);
        // scatter the sequence's blocks: two sequences take blocks alternately, then one of them goes away
        var junk1 = cache.CreateSequence([0]);
        using var junk2 = cache.CreateSequence([0]);
        for (int b = 1; b <= need; b++)
        {
            Assert.True(junk1.TryReserve(b * blockSize));
            Assert.True(junk2.TryReserve(b * blockSize));
        }
        int[] scattered = junk1.BlockTable.ToArray();
        junk1.Dispose();
        using var paged = cache.CreateSequence([0]);
        int[] tokens = TinyModel.RandomTokens(rng, 40);
        var expected = new float[c.VocabSize];
        var actual = new float[c.VocabSize];
        int pos = 0;
        foreach (int chunk in new[] { 13, 1, 7, 1, 1, 16, 1 })
        {
            ReadOnlySpan<int> t = tokens.AsSpan(pos, chunk);
            model.Forward(t, pos, contiguous, expected, allPositions: false, ws);
            model.Forward(t, pos, paged, actual, allPositions: false, ws);
            paged.Commit(t);
            pos += chunk;
            TinyModel.AssertBitEqual(expected, actual, $"seed {seed} {type} block {blockSize} after {pos} tokens");
        }
        Assert.All(paged.BlockTable.ToArray(), b => Assert.Contains(b, scattered));
        Assert.Equal(0, cache.Pool.FreeBlocks);
    }

    // A blocks-only cache (an executor that stores K/V on its device): the bookkeeping works as usual (prefix cache,
    // fork, copy-on-write reported through BlockCopied), host K/V access fails with a clear error, and it is sized in
    // the executor's element size.
    [Fact]
    public void Blocks_only_cache_keeps_the_bookkeeping_and_reports_copies_without_host_storage()
    {
        var config = new Quanta.Models.ModelConfig
        {
            Architecture = "llama", Layers = 3, EmbeddingLength = 16, FeedForwardLength = 32, Heads = 4, KvHeads = 2, HeadDim = 4,
            VocabSize = 50, ContextLength = 64, Rope = new Quanta.Core.Kernels.Ops.RopeParameters(4),
        };
        var cache = PagedKvCache.BlocksOnly(config, numBlocks: 9, blockSize: 4, maxSequenceLength: 32, KvCacheType.F16);
        Assert.False(cache.HasHostStorage);
        Assert.True(PagedKvCache.For(config, 2, 4, 32).HasHostStorage);
        Assert.Equal(2L * 3 * 4 * 2 * 4 * 2, cache.BytesPerBlock);   // K and V · layers · block · KV heads · head size · 2 bytes
        var copies = new List<(int, int)>();
        cache.BlockCopied = (src, dst) => copies.Add((src, dst));
        int[] prompt = [1, 2, 3, 4, 5, 6];
        using var a = cache.CreateSequence(prompt);
        Assert.True(a.TryReserve(6));
        a.Commit(prompt);
        using var b = a.Fork();
        Assert.True(b.TryReserve(7));   // writes into the shared partial block: copy-on-write
        Assert.Equal([(a.BlockTable[1], b.BlockTable[1])], copies);
        Assert.NotEqual(a.BlockTable[1], b.BlockTable[1]);
        var e = Assert.Throws<InvalidOperationException>(() => a.Write(0, 6, 1, new float[8], new float[8]));
        Assert.Contains("block tables only", e.Message);
        // the full first block is in the prefix cache for the next sequence with the same start
        using var c = cache.CreateSequence([1, 2, 3, 4, 9]);
        Assert.Equal(4, c.CachedTokens);
        Assert.Equal(a.BlockTable[0], c.BlockTable[0]);
    }
}
