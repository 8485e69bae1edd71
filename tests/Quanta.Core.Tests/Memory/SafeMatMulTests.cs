using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Memory;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Memory;

/// <summary>
/// The safe MatMul overloads (spans; NativeRegion + offset) give bit-identical results to the pointer overload for
/// every weight format, and NativeBuffer / NativeRegion check their ranges and disposal.
/// </summary>
[Trait("Category", "Kernels")]
public sealed unsafe class SafeMatMulTests : IDisposable
{
    private readonly WorkerPool _pool = new(2);

    public void Dispose() => _pool.Dispose();

    public static TheoryData<WeightFormat> AllFormats()
    {
        var data = new TheoryData<WeightFormat>();
        foreach (var f in KernelRegistry.Formats) data.Add(f);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllFormats))]
    public void Span_and_region_overloads_are_bit_identical_to_pointer_overload(WeightFormat format)
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var kernel = KernelRegistry.VecDot(format);
        var codec = CodecRegistry.For(format);
        const int rows = 41, cols = 256;
        foreach (int m in new[] { 1, 5 })
        {
            int rb = (int)kernel.WeightRowBytes(cols);
            var w = new float[cols];
            var weights = new byte[rows * rb];
            for (int r = 0; r < rows; r++)
            {
                for (int i = 0; i < cols; i++) w[i] = (float)(rng.NextDouble() * 2 - 1);
                codec.Quantize(w, weights.AsSpan(r * rb, rb));
            }
            var x = new float[m * cols];
            for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
            var expected = new float[m * rows];
            var scratch = new byte[MatMul.ScratchBytes(kernel, m, cols)];
            fixed (byte* pw = weights) fixed (float* px = x) fixed (float* py = expected) fixed (byte* ps = scratch)
                MatMul.Compute(kernel, pw, rows, cols, px, cols, m, py, rows, ps, _pool);

            var ySpan = new float[m * rows];
            MatMul.Compute(kernel, weights, rows, cols, x, m, ySpan, scratch, _pool);

            const int pad = 24; // weights at a non-zero offset inside the region
            using var buffer = new NativeBuffer(pad + weights.Length);
            weights.CopyTo(buffer.Write(pad, weights.Length));
            var yRegion = new float[m * rows];
            MatMul.Compute(kernel, buffer, pad, rows, cols, x, m, yRegion, scratch, _pool);

            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(ySpan[i]),
                    $"{format} m={m} span overload differs at {i}: {ySpan[i]} vs {expected[i]} (seed {seed})");
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(yRegion[i]),
                    $"{format} m={m} region overload differs at {i}: {yRegion[i]} vs {expected[i]} (seed {seed})");
            }
        }
    }

    [Fact]
    public void Span_overload_rejects_short_buffers()
    {
        var kernel = KernelRegistry.VecDot(WeightFormat.F32);
        var weights = new byte[4 * 32 * 4];
        Assert.Throws<ArgumentException>(() => MatMul.Compute(kernel, weights, 5, 32, new float[32], 1, new float[5], new byte[1024], _pool));
        Assert.Throws<ArgumentException>(() => MatMul.Compute(kernel, weights, 4, 32, new float[31], 1, new float[4], new byte[1024], _pool));
        Assert.Throws<ArgumentException>(() => MatMul.Compute(kernel, weights, 4, 32, new float[32], 1, new float[3], new byte[1024], _pool));
        Assert.Throws<ArgumentException>(() => MatMul.Compute(kernel, weights, 4, 32, new float[32], 1, new float[4], new byte[3], _pool));
        using var buffer = new NativeBuffer(weights.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.Compute(kernel, buffer, 1, 4, 32, new float[32], 1, new float[4], new byte[1024], _pool));
    }

    [Fact]
    public void NativeBuffer_checks_ranges_alignment_and_disposal()
    {
        var buffer = new NativeBuffer(100, 128);
        Assert.Equal(100, buffer.Length);
        fixed (byte* p = buffer.Write(0, 1)) Assert.Equal(0, (long)p % 128);
        buffer.Write(10, 4).Fill(7);
        Assert.Equal(7, buffer.Read(13, 1)[0]);
        Assert.Equal(10, buffer.OffsetOf(buffer.Read(10, 5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Read(97, 4).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Read(-1, 1).Length);
        Assert.Throws<ArgumentException>(() => buffer.OffsetOf(new byte[4]));
        Assert.Throws<ArgumentException>(() => new NativeBuffer(8, 3));
        buffer.Dispose();
        Assert.True(buffer.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => buffer.Read(0, 1).Length);
    }
}
