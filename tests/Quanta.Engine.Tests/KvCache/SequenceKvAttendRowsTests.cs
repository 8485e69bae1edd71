using Quanta.Core.Kernels.Attention;
using Quanta.Engine.KvCache;
using Quanta.Models.KvCache;

namespace Quanta.Engine.Tests.KvCache;

/// <summary>
/// <see cref="SequenceKv.AttendRows"/> (the blocked attention over paged blocks) against <see cref="SequenceKv.AttendRow"/>
/// row by row: bit-identical, for F32, F16 and Q8_0 caches, a head size the AVX-512 block path takes (64) and one it does
/// not (24), 1-4 rows at block-boundary positions, with and without a sliding window.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class SequenceKvAttendRowsTests
{
    /// <summary>Cache type, head size (64, 96: the AVX-512 paths; 24: the generic one; Q8_0 needs a multiple of 32), sliding window.</summary>
    public static TheoryData<KvCacheType, int, int> Shapes() => new()
    {
        { KvCacheType.F32, 64, 0 },
        { KvCacheType.F16, 64, 0 },
        { KvCacheType.F16, 64, 7 },
        { KvCacheType.F32, 24, 0 },
        { KvCacheType.Q8_0, 64, 0 },
        { KvCacheType.Q8_0, 64, 7 },
        { KvCacheType.Q8_0, 96, 0 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Rows_together_equal_each_row_alone(KvCacheType type, int headDim, int window)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        const int kvHeads = 2, heads = 4, length = 45;
        using SequenceKv seq = Filled(type, kvHeads, headDim, length, rng, out _, out _);
        var p = new AttentionParameters(heads, kvHeads, headDim) { SlidingWindow = window };
        int rowLen = heads * headDim;
        float[] scratch = new float[CausalAttention.ScratchLength(64, headDim)];
        foreach (int first in new[] { 0, 13, 15, 41 })
            for (int rows = 1; rows <= CausalAttention.RowBlock && first + rows <= length; rows++)
                for (int h = 0; h < heads; h++)
                {
                    float[] q = Enumerable.Range(0, rows * rowLen).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
                    float[] together = new float[rows * rowLen], alone = new float[rows * rowLen];
                    seq.AttendRows(0, first + rows, q.AsSpan(h * headDim), rowLen, rows, first, h, p, together.AsSpan(h * headDim), rowLen, scratch);
                    for (int r = 0; r < rows; r++)
                        seq.AttendRow(0, first + rows, q.AsSpan(r * rowLen + h * headDim, headDim), first + r, h, p,
                            alone.AsSpan(r * rowLen + h * headDim, headDim), scratch);
                    for (int i = 0; i < together.Length; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(together[i]) == BitConverter.SingleToInt32Bits(alone[i]),
                            $"seed {seed} {type} d={headDim} window={window} first={first} rows={rows} head={h} element {i}: {together[i]} vs {alone[i]}");
                }
    }

    /// <summary><see cref="SequenceKv.AttendHeads"/> (the query heads of one KV head in one call) against
    /// <see cref="SequenceKv.AttendRow"/> head by head, and against the contiguous cache holding the same values.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void Heads_together_equal_each_head_alone(KvCacheType type, int headDim, int window)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        const int kvHeads = 2, heads = 8, length = 45;
        using SequenceKv seq = Filled(type, kvHeads, headDim, length, rng, out float[] k, out float[] v);
        var contiguous = new ContiguousKvCache(1, kvHeads, headDim, 64, type);
        contiguous.Write(0, 0, length, k, v);
        var p = new AttentionParameters(heads, kvHeads, headDim) { SlidingWindow = window };
        int rowLen = heads * headDim, group = CausalAttention.HeadGroup(heads, kvHeads);
        Assert.Equal(4, group);
        float[] scratch = new float[CausalAttention.ScratchLength(64, headDim)];
        foreach (int pos in new[] { 0, 15, 16, 44 })
        {
            float[] q = Enumerable.Range(0, rowLen).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            float[] together = new float[rowLen], alone = new float[rowLen], flat = new float[rowLen];
            for (int h = 0; h < heads; h += group)
            {
                seq.AttendHeads(0, pos + 1, q.AsSpan(h * headDim, group * headDim), group, pos, h, p, together.AsSpan(h * headDim, group * headDim), scratch);
                contiguous.AttendHeads(0, pos + 1, q.AsSpan(h * headDim, group * headDim), group, pos, h, p, flat.AsSpan(h * headDim, group * headDim), scratch);
            }
            for (int h = 0; h < heads; h++)
                seq.AttendRow(0, pos + 1, q.AsSpan(h * headDim, headDim), pos, h, p, alone.AsSpan(h * headDim, headDim), scratch);
            for (int i = 0; i < rowLen; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(together[i]) == BitConverter.SingleToInt32Bits(alone[i]),
                    $"seed {seed} {type} d={headDim} window={window} pos={pos} element {i}: {together[i]} vs {alone[i]}");
                Assert.True(BitConverter.SingleToInt32Bits(flat[i]) == BitConverter.SingleToInt32Bits(alone[i]),
                    $"seed {seed} {type} d={headDim} window={window} pos={pos} contiguous element {i}: {flat[i]} vs {alone[i]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Next_call_hint_changes_no_bits(KvCacheType type, int headDim, int window)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        const int kvHeads = 2, heads = 8, length = 45;
        using SequenceKv seq = Filled(type, kvHeads, headDim, length, rng, out _, out _);
        var p = new AttentionParameters(heads, kvHeads, headDim) { SlidingWindow = window };
        int group = CausalAttention.HeadGroup(heads, kvHeads);
        float[] scratch = new float[CausalAttention.ScratchLength(64, headDim)];
        foreach (int pos in new[] { 0, 15, 16, 44 })
            foreach (int nextPos in new[] { 0, 17, 44 })
            {
                float[] q = Enumerable.Range(0, group * headDim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
                float[] plain = new float[q.Length], hinted = new float[q.Length], other = new float[q.Length];
                int h = (pos + nextPos) % 2 * group;
                seq.AttendHeads(0, pos + 1, q, group, pos, h, p, plain, scratch);
                seq.AttendHeads(0, pos + 1, q, group, pos, h, p, hinted, scratch, new NextAttention(seq, 0, nextPos + 1, nextPos, group - h));
                seq.AttendHeads(0, pos + 1, q, group, pos, h, p, other, scratch, new NextAttention(null, 0, 0, 0, 0));
                for (int i = 0; i < q.Length; i++)
                {
                    Assert.True(BitConverter.SingleToInt32Bits(plain[i]) == BitConverter.SingleToInt32Bits(hinted[i]),
                        $"seed {seed} {type} d={headDim} window={window} pos={pos} next={nextPos} element {i}: {plain[i]} vs {hinted[i]}");
                    Assert.True(BitConverter.SingleToInt32Bits(plain[i]) == BitConverter.SingleToInt32Bits(other[i]), $"seed {seed} no hint element {i}");
                }
            }
    }

    /// <summary>A sequence over a paged cache of blocks of 16 holding <paramref name="length"/> random positions in layer 0.</summary>
    private static SequenceKv Filled(KvCacheType type, int kvHeads, int headDim, int length, Random rng, out float[] k, out float[] v)
    {
        var cache = new PagedKvCache(1, kvHeads, headDim, 12, 16, 64, type);
        int[] prompt = Enumerable.Range(0, length).Select(i => i + 1).ToArray();
        SequenceKv seq = cache.CreateSequence(prompt, usePrefixCache: false);
        Assert.True(seq.TryReserve(length));
        int kvd = kvHeads * headDim;
        k = Enumerable.Range(0, length * kvd).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        v = Enumerable.Range(0, length * kvd).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        seq.Write(0, 0, length, k, v);
        return seq;
    }
}
