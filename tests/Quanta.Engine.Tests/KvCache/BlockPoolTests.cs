using Quanta.Engine.KvCache;

namespace Quanta.Engine.Tests.KvCache;

/// <summary>Reference counts, the null block, exhaustion, LRU eviction and prefix registration of <see cref="BlockPool"/>.</summary>
public sealed class BlockPoolTests
{
    [Fact]
    public void Null_block_is_never_handed_out_and_exhaustion_is_all_or_nothing()
    {
        var pool = new BlockPool(9, 4);
        Assert.Equal(8, pool.FreeBlocks);
        var got = new int[7];
        Assert.True(pool.TryAllocate(got));
        Assert.DoesNotContain(BlockPool.NullBlock, got);
        Assert.Equal(7, got.Distinct().Count());
        Assert.False(pool.TryAllocate(new int[2]));       // only one left: nothing taken
        Assert.Equal(1, pool.FreeBlocks);
        var last = new int[1];
        Assert.True(pool.TryAllocate(last));
        Assert.NotEqual(BlockPool.NullBlock, last[0]);
        Assert.False(pool.TryAllocate(new int[1]));
        Assert.Equal(0, pool.FreeBlocks);
        Assert.Equal(8, pool.UsedBlocks);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Release([BlockPool.NullBlock]));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Retain(BlockPool.NullBlock));
    }

    [Fact]
    public void Reference_counts_follow_retain_and_release()
    {
        var pool = new BlockPool(4, 2);
        var b = new int[1];
        Assert.True(pool.TryAllocate(b));
        Assert.Equal(1, pool.RefCount(b[0]));
        pool.Retain(b[0]);
        pool.Retain(b[0]);
        Assert.Equal(3, pool.RefCount(b[0]));
        pool.Release(b);
        pool.Release(b);
        Assert.Equal(1, pool.RefCount(b[0]));
        Assert.DoesNotContain(b[0], pool.FreeQueueSnapshot());
        pool.Release(b);
        Assert.Equal(0, pool.RefCount(b[0]));
        Assert.Equal(b[0], pool.FreeQueueSnapshot()[^1]);   // freed blocks join the back
        Assert.Throws<InvalidOperationException>(() => pool.Release(b));
        Assert.Throws<InvalidOperationException>(() => pool.Retain(b[0]));
    }

    [Fact]
    public void Free_blocks_are_reused_least_recently_freed_first_and_cached_ones_are_evicted_in_that_order()
    {
        var pool = new BlockPool(5, 2);
        var all = new int[4];
        Assert.True(pool.TryAllocate(all));
        int[] t0 = [1, 2], t1 = [3, 4];
        ulong h0 = BlockPool.ChainHash(0, t0), h1 = BlockPool.ChainHash(h0, t1);
        Assert.True(pool.Register(all[0], h0, t0));
        Assert.True(pool.Register(all[1], h1, t1));
        Assert.Equal(2, pool.CachedBlocks);
        // free order: all[2], all[0], all[3], all[1]
        pool.Release([all[2]]);
        pool.Release([all[0]]);
        pool.Release([all[3]]);
        pool.Release([all[1]]);
        Assert.Equal(new[] { all[2], all[0], all[3], all[1] }, pool.FreeQueueSnapshot());
        // a cached free block can be revived: it leaves the queue
        Assert.True(pool.TryFindCached(h1, t1, out int hit));
        Assert.Equal(all[1], hit);
        Assert.Equal(1, pool.RefCount(hit));
        Assert.Equal(new[] { all[2], all[0], all[3] }, pool.FreeQueueSnapshot());
        // allocation takes the front: all[2] (uncached), then all[0] — evicting its hash
        var one = new int[1];
        Assert.True(pool.TryAllocate(one));
        Assert.Equal(all[2], one[0]);
        Assert.True(pool.TryAllocate(one));
        Assert.Equal(all[0], one[0]);
        Assert.False(pool.IsCached(all[0]));
        Assert.False(pool.TryFindCached(h0, t0, out _));
        Assert.True(pool.IsCached(all[1]));
    }

    [Fact]
    public void Lookup_checks_tokens_and_first_registration_wins()
    {
        var pool = new BlockPool(4, 2);
        var b = new int[2];
        Assert.True(pool.TryAllocate(b));
        int[] t = [7, 8];
        ulong h = BlockPool.ChainHash(0, t);
        Assert.True(pool.Register(b[0], h, t));
        Assert.False(pool.Register(b[1], h, t));   // duplicate content: the first block stays the cached copy
        Assert.False(pool.TryFindCached(h, [7, 9], out _));   // same hash, different tokens: no hit
        Assert.True(pool.TryFindCached(h, t, out int hit));
        Assert.Equal(b[0], hit);
        Assert.Equal(2, pool.RefCount(b[0]));
        Assert.NotEqual(BlockPool.ChainHash(0, t), BlockPool.ChainHash(1, t));   // chained: the parent matters
    }
}
