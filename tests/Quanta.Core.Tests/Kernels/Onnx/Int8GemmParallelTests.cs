using Quanta.Core.Kernels.Onnx;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels.Onnx;

/// <summary>The pooled INT8 product equals the single-threaded one exactly, for row-major and transposed outputs.</summary>
[Trait("Category", "Kernels")]
public sealed class Int8GemmParallelTests
{
    [Theory]
    [InlineData(3136, 64, 147, false)]
    [InlineData(50, 512, 4608, false)]
    [InlineData(200, 96, 500, true)]
    public void Pooled_equals_single_threaded(int m, int n, int k, bool transposedOutput)
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        int kp = Int8Gemm.PaddedK(k);
        var a = new byte[m * kp];
        for (int i = 0; i < a.Length; i++) a[i] = (byte)r.Next(128);
        var w = new sbyte[n * k];
        for (int i = 0; i < w.Length; i++) w[i] = (sbyte)r.Next(-127, 128);
        var packed = new sbyte[Int8Gemm.PackedLength(n, k)];
        Int8Gemm.PackWeights(w, n, k, packed);
        var scale = Enumerable.Range(0, n).Select(_ => (float)r.NextDouble() * 1e-3f).ToArray();
        var offset = Enumerable.Range(0, n).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        int rs = transposedOutput ? 1 : n, cs = transposedOutput ? m : 1;
        var y1 = new float[m * n];
        var y2 = new float[m * n];
        using var pool = new WorkerPool(3);
        Int8Gemm.MultiplyScaled(m, n, k, a, kp, packed, scale, offset, true, y1, rs, cs);
        Int8GemmParallel.MultiplyScaled(pool, m, n, k, a, kp, packed, scale, offset, true, y2, rs, cs);
        Assert.True(y1.AsSpan().SequenceEqual(y2), $"{m}×{n}×{k} transposed={transposedOutput} (seed {seed})");
        Assert.Throws<ArgumentException>(() => Int8GemmParallel.MultiplyScaled(pool, m + 1, n, k, a, kp, packed, scale, offset, true, y2, rs, cs));
    }
}
