using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.Kernels.Ops;

namespace Quanta.Core.Tests.Ops;

public class EmbeddingTests
{
    /// <summary>Minimal F32 codec for the test (the real codecs belong to the formats work).</summary>
    private sealed class F32TestCodec : IRowCodec
    {
        public string Name => "F32";
        public int BlockSize => 1;
        public long RowBytes(int n) => 4L * n;
        public void Quantize(ReadOnlySpan<float> src, Span<byte> dst) => MemoryMarshal.AsBytes(src).CopyTo(dst);
        public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst) => MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
        public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
    }

    [Fact]
    public void Lookup_returns_the_token_row()
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        const int vocab = 50, dim = 37;
        var codec = new F32TestCodec();
        var rows = OpsTestUtil.RandomArray(rng, vocab * dim);
        var table = new byte[codec.RowBytes(dim) * vocab];
        for (int t = 0; t < vocab; t++) codec.Quantize(rows.AsSpan(t * dim, dim), table.AsSpan(t * dim * 4, dim * 4));
        Assert.Equal(vocab, Embedding.RowCount(codec, table.Length, dim));
        var o = new float[dim + 3];
        var r = new float[dim];
        foreach (int t in new[] { 0, 1, 17, vocab - 1 })
        {
            Embedding.Lookup(codec, table, dim, t, o);
            Embedding.LookupReference(codec, table, dim, t, r);
            for (int i = 0; i < dim; i++) { Assert.Equal(rows[t * dim + i], o[i]); Assert.Equal(rows[t * dim + i], r[i]); }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Embedding.Lookup(codec, table, dim, vocab, o));
        Assert.Throws<ArgumentOutOfRangeException>(() => Embedding.Lookup(codec, table, dim, -1, o));
    }
}
