using Quanta.Core.Kernels.Onnx;
using Quanta.Core.Threading;

namespace Quanta.Models.Tests.Graph;

/// <summary>The pooled Sgemm equals the single-threaded one bit for bit (same blocks, same summation order per element).</summary>
[Trait("Category", "Kernels")]
public sealed class SgemmParallelTests
{
    [Theory]
    [InlineData(260, 150, 120, false, false)]
    [InlineData(16, 1536, 384, false, false)]
    [InlineData(97, 333, 160, true, false)]
    [InlineData(130, 70, 500, false, true)]
    [InlineData(9, 1000, 513, true, true)]
    public void Pooled_product_equals_single_threaded(int m, int n, int k, bool ta, bool tb)
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        var a = Enumerable.Range(0, m * k).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        var c0 = Enumerable.Range(0, m * n).Select(_ => (float)r.NextDouble()).ToArray();
        var c1 = (float[])c0.Clone();
        var c2 = (float[])c0.Clone();
        using var pool = new WorkerPool(3);
        Sgemm.Multiply(m, n, k, a, ta ? m : k, ta, b, tb ? k : n, tb, c1, n, true);
        SgemmParallel.Multiply(pool, m, n, k, a, ta ? m : k, ta, b, tb ? k : n, tb, c2, n, true);
        Assert.True(c1.AsSpan().SequenceEqual(c2), $"{m}×{n}×{k} ta={ta} tb={tb} (seed {seed})");
        var reference = (float[])c0.Clone();
        Sgemm.MultiplyReference(m, n, k, a, ta ? m : k, ta, b, tb ? k : n, tb, reference, n, true);
        for (int i = 0; i < reference.Length; i++) Assert.True(Math.Abs(reference[i] - c2[i]) <= 1e-3f, $"element {i} (seed {seed})");
    }

    [Fact]
    public void Pooled_batch_equals_one_product_at_a_time()
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        int count = 12, m = 16, n = 160, k = 200; // 6M multiply-adds: above SgemmParallel.MinWork, so the pool runs
        var a = Enumerable.Range(0, 6 * m * k).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        var b = Enumerable.Range(0, count * k * n).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        var ao = Enumerable.Range(0, count).Select(t => t % 6 * m * k).ToArray();   // A broadcast over pairs of products
        var bo = Enumerable.Range(0, count).Select(t => t * k * n).ToArray();
        var c = new float[count * m * n];
        using var pool = new WorkerPool(2);
        SgemmParallel.MultiplyBatch(pool, count, m, n, k, a, ao, b, bo, c);
        for (int t = 0; t < count; t++)
        {
            var one = new float[m * n];
            Sgemm.Multiply(m, n, k, a.AsSpan(ao[t]), k, false, b.AsSpan(bo[t]), n, false, one, n, false);
            Assert.True(one.AsSpan().SequenceEqual(c.AsSpan(t * m * n, m * n)), $"product {t} (seed {seed})");
        }
        Assert.Throws<ArgumentException>(() => SgemmParallel.MultiplyBatch(pool, count, m, n, k, a, bo, b, bo, c));
    }
}
