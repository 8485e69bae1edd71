using Quanta.Core.Kernels.Attention;
using Quanta.Core.Tests.Ops;

namespace Quanta.Core.Tests.Attention;

/// <summary>The decode path told the caller's next call (<see cref="CausalAttention.ForwardHeads{T, TView}(ReadOnlySpan{float}, int, int, int, TView, in AttentionParameters, Span{float}, Span{float}, TView, int, int)"/>):
/// it only prefetches, so every result keeps its bits, whatever the next call is.</summary>
[Trait("Category", "Kernels")]
public class NextCallHintTests
{
    private const int KvHeads = 3, Length = 300;   // longer than the kernel's up-front cap (256 positions)

    [Theory]
    [InlineData(16, 64, 1)]
    [InlineData(3, 64, 2)]
    [InlineData(5, 32, 4)]
    [InlineData(16, 128, 1)]
    [InlineData(64, 96, 2)]
    public void Hint_changes_no_bits(int blockSize, int headDim, int group)
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        int heads = KvHeads * group, blocks = (Length + blockSize - 1) / blockSize + 3, elems = blocks * blockSize * KvHeads * headDim;
        int[] table = Enumerable.Range(0, blocks).OrderBy(_ => rng.Next()).ToArray();
        int[] table2 = Enumerable.Range(0, blocks).OrderBy(_ => rng.Next()).ToArray();
        var k = OpsTestUtil.RandomArray(rng, elems, -2f, 2f); var v = OpsTestUtil.RandomArray(rng, elems, -2f, 2f);
        var kh = k.Select(x => (Half)x).ToArray(); var vh = v.Select(x => (Half)x).ToArray();
        var k8 = k.Select(x => (sbyte)(x * 60)).ToArray(); var v8 = v.Select(x => (sbyte)(x * 60)).ToArray();
        var ks = OpsTestUtil.RandomArray(rng, elems / 32, 0.01f, 0.05f); var vs = OpsTestUtil.RandomArray(rng, elems / 32, 0.01f, 0.05f);
        var scratch = new float[CausalAttention.ScratchLength(Length, headDim)];
        foreach (int window in new[] { 0, 7 })
        {
            var p = new AttentionParameters(heads, KvHeads, headDim) { Scale = 0.3f, SlidingWindow = window };
            foreach (bool headMajor in new[] { true, false })
                foreach (int pos in new[] { 0, 1, blockSize - 1, blockSize, 47, Length - 1 })
                    foreach (int nextPos in new[] { 0, blockSize, 130, Length - 1 })
                    {
                        int h = (pos * 7) % heads / group * group, n = Math.Min(group, CausalAttention.RowBlock);
                        int nh = (nextPos * 5 + 1) % heads;
                        string m = $"seed {seed} bs {blockSize} d {headDim} group {group} W {window} headMajor {headMajor} pos {pos} next {nextPos} head {nh}";
                        var q = OpsTestUtil.RandomArray(rng, n * headDim, -1.5f, 1.5f);
                        Check<float, PagedKvView<float>>(q, n, pos, h, p, scratch, m + " f32",
                            new PagedKvView<float>(k, v, table, blockSize, pos + 1, KvHeads, headDim, headMajor),
                            new PagedKvView<float>(k, v, table2, blockSize, Length, KvHeads, headDim, headMajor), nextPos, nh);
                        Check<Half, PagedKvView<Half>>(q, n, pos, h, p, scratch, m + " f16",
                            new PagedKvView<Half>(kh, vh, table, blockSize, pos + 1, KvHeads, headDim, headMajor),
                            new PagedKvView<Half>(kh, vh, table2, blockSize, Length, KvHeads, headDim, headMajor), nextPos, nh);
                        if (headDim % 32 == 0)
                            Check<sbyte, PagedKvView<sbyte>>(q, n, pos, h, p, scratch, m + " q8_0",
                                new PagedKvView<sbyte>(k8, v8, ks, vs, table, blockSize, pos + 1, KvHeads, headDim, headMajor),
                                new PagedKvView<sbyte>(k8, v8, ks, vs, table2, blockSize, Length, KvHeads, headDim, headMajor), nextPos, nh);
                    }
        }
    }

    [Fact]
    public void Hint_outside_the_next_view_throws()
    {
        var p = new AttentionParameters(1, 1, 16);
        var k = new float[64 * 16]; var v = new float[64 * 16];
        var scratch = new float[CausalAttention.ScratchLength(64, 16)];
        Assert.Throws<ArgumentOutOfRangeException>(() => CausalAttention.ForwardHeads<float, ContiguousKvView<float>>(new float[16], 1, 3, 0,
            new ContiguousKvView<float>(k, v, 8, 1, 16), p, new float[16], scratch, new ContiguousKvView<float>(k, v, 8, 1, 16), 8, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CausalAttention.ForwardHeads<float, ContiguousKvView<float>>(new float[16], 1, 3, 0,
            new ContiguousKvView<float>(k, v, 8, 1, 16), p, new float[16], scratch, new ContiguousKvView<float>(k, v, 8, 1, 16), 2, 1));
    }

    private static void Check<T, TView>(float[] q, int heads, int pos, int firstHead, in AttentionParameters p, float[] scratch, string m,
        TView view, TView next, int nextPos, int nextHead)
        where T : unmanaged
        where TView : IKvView<T>
    {
        var plain = new float[heads * p.HeadDim]; var hinted = new float[heads * p.HeadDim];
        CausalAttention.ForwardHeads<T, TView>(q, heads, pos, firstHead, view, p, plain, scratch);
        CausalAttention.ForwardHeads<T, TView>(q, heads, pos, firstHead, view, p, hinted, scratch, next, nextPos, nextHead);
        OpsTestUtil.Identical(plain, hinted, m);
        // and the one-row decode through ForwardRow (no hint) agrees head by head
        var row = new float[p.HeadDim];
        for (int i = 0; i < heads; i++)
        {
            CausalAttention.ForwardRow<T, TView>(q.AsSpan(i * p.HeadDim, p.HeadDim), pos, firstHead + i, view, p, row, scratch);
            OpsTestUtil.Identical(row, hinted.AsSpan(i * p.HeadDim, p.HeadDim), m + $" row {i}");
        }
    }
}
