using Quanta.Core.Kernels.Attention;
using Quanta.Models.KvCache;

namespace Quanta.Models.Tests.KvCaches;

public class ContiguousKvCacheTests
{
    [Theory]
    [InlineData(3, 16, 5)]   // rows of 48 elements: one 32-wide vector step and a 16-wide tail
    [InlineData(1, 64, 3)]
    [InlineData(2, 16, 1)]   // one position of 32 elements
    public void An_f16_cache_rounds_like_the_half_cast_and_attends_like_an_f32_cache_of_the_rounded_values(int kvHeads, int headDim, int positions)
    {
        var rnd = new Random(7 + kvHeads * 100 + headDim);
        int row = kvHeads * headDim, n = positions * row;
        float[] keys = new float[n], values = new float[n];
        for (int i = 0; i < n; i++)
        {
            // spread over many binades (subnormal F16 results included) with full F32 mantissas, so rounding matters
            keys[i] = (float)((rnd.NextDouble() - 0.5) * Math.Pow(2, rnd.Next(-26, 12)));
            values[i] = (float)((rnd.NextDouble() - 0.5) * Math.Pow(2, rnd.Next(-26, 12)));
        }
        keys[0] = 1f + 1f / 2048;   // a tie: rounds to even (1.0)
        values[0] = 70000f;         // past the F16 range: infinity either way
        float[] keysRounded = keys.Select(x => (float)(Half)x).ToArray(), valuesRounded = values.Select(x => (float)(Half)x).ToArray();

        var f16 = new ContiguousKvCache(1, kvHeads, headDim, positions, KvCacheType.F16);
        var f32 = new ContiguousKvCache(1, kvHeads, headDim, positions, KvCacheType.F32);
        f16.Write(0, 0, positions, keys, values);
        f32.Write(0, 0, positions, keysRounded, valuesRounded);

        var p = new AttentionParameters(kvHeads, kvHeads, headDim);
        float[] q = Enumerable.Range(0, headDim).Select(i => (float)Math.Sin(i + 1)).ToArray();
        float[] scratch = new float[CausalAttention.ScratchLength(positions, headDim)];
        for (int h = 0; h < kvHeads; h++)
        {
            float[] a = new float[headDim], b = new float[headDim];
            f16.AttendRow(0, positions, q, positions - 1, h, p, a, scratch);
            f32.AttendRow(0, positions, q, positions - 1, h, p, b, scratch);
            for (int i = 0; i < headDim; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits(b[i]), BitConverter.SingleToInt32Bits(a[i]));
        }
    }
}
