using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Tests.Quantized;

/// <summary>
/// The register helpers of the 4-row Q4_K decode kernel against their scalar counterparts: the F16 conversion over every
/// bit pattern (against the table of <see cref="KQuantMath.Fp16ToFp32"/>), and the 4-block scale/min unpacking over random
/// headers (against <see cref="KQuantSimd.ScaleMinK4"/> per block), and the 4- and 8-row int32 sum transposes. On machines without AVX-512 / AVX2 the helpers are
/// never called, and these tests check nothing.
/// </summary>
[Trait("Category", "Kernels")]
public sealed unsafe class KQuantSimdTests
{
    [Fact]
    public void Fp16ToFp32_equals_the_table_for_every_bit_pattern()
    {
        if (!Avx2.IsSupported) return;
        for (int h = 0; h < 65536; h += 8)
        {
            Vector256<uint> v = Vector256.Create((uint)h, (uint)h + 1, (uint)h + 2, (uint)h + 3, (uint)h + 4, (uint)h + 5, (uint)h + 6, (uint)h + 7);
            Vector256<float> f = KQuantSimd.Fp16ToFp32(v);
            // the 512-bit form: the same 8 patterns in the low half, 8 others (the top of the range downwards) in the high
            Vector512<float> f512 = Avx512F.IsSupported
                ? KQuantSimd.Fp16ToFp32(Vector512.Create(v, Vector256.Create(0xFFFFu) - v)) : Vector512<float>.Zero;
            for (int k = 0; k < 8; k++)
            {
                int want = BitConverter.SingleToInt32Bits(KQuantMath.Fp16ToFp32((ushort)(h + k)));
                int got = BitConverter.SingleToInt32Bits(f.GetElement(k));
                Assert.True(want == got, $"half 0x{h + k:X4}: 0x{got:X8} != table 0x{want:X8}");
                if (!Avx512F.IsSupported) continue;
                Assert.True(want == BitConverter.SingleToInt32Bits(f512.GetElement(k)), $"512-bit, half 0x{h + k:X4}");
                int want2 = BitConverter.SingleToInt32Bits(KQuantMath.Fp16ToFp32((ushort)(0xFFFF - h - k)));
                Assert.True(want2 == BitConverter.SingleToInt32Bits(f512.GetElement(8 + k)), $"512-bit, half 0x{0xFFFF - h - k:X4}");
            }
        }
    }

    [Fact]
    public void ScaleMinK4x4_equals_ScaleMinK4_per_lane()
    {
        if (!Avx512F.IsSupported) return;
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        byte* head = stackalloc byte[64];
        for (int it = 0; it < 2000; it++)
        {
            rng.NextBytes(new Span<byte>(head, 64));
            Vector512<byte> got = KQuantSimd.ScaleMinK4x4(Vector512.Load(head).AsUInt32());
            for (int lane = 0; lane < 4; lane++)
            {
                Vector128<byte> want = KQuantSimd.ScaleMinK4(head + 16 * lane + 4);
                for (int b = 0; b < 16; b++)
                    Assert.True(want.GetElement(b) == got.GetElement(16 * lane + b),
                        $"lane {lane} byte {b}: {got.GetElement(16 * lane + b)} != {want.GetElement(b)} (seed {seed})");
            }
        }
    }

    [Fact]
    public void SumRows8_and_SumRows4_equal_the_lane_sums()
    {
        if (!Avx512F.IsSupported) return;
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        int* v = stackalloc int[8 * 16];
        for (int it = 0; it < 500; it++)
        {
            // full int32 range: the sums wrap exactly as the scalar ones do
            for (int i = 0; i < 8 * 16; i++) v[i] = rng.Next(int.MinValue, int.MaxValue);
            Vector512<int> h0 = Vector512.Load(v), h1 = Vector512.Load(v + 16), h2 = Vector512.Load(v + 32), h3 = Vector512.Load(v + 48);
            Vector512<int> h4 = Vector512.Load(v + 64), h5 = Vector512.Load(v + 80), h6 = Vector512.Load(v + 96), h7 = Vector512.Load(v + 112);
            Vector256<int> got8 = KQuantSimd.SumRows8(h0, h1, h2, h3, h4, h5, h6, h7);
            Vector128<int> got4 = KQuantSimd.SumRows4(h0, h1, h2, h3);
            for (int r = 0; r < 8; r++)
            {
                int want = 0;
                for (int i = 0; i < 16; i++) want = unchecked(want + v[16 * r + i]);
                Assert.True(want == got8.GetElement(r), $"SumRows8 row {r}: {got8.GetElement(r)} != {want} (seed {seed})");
                if (r < 4) Assert.True(want == got4.GetElement(r), $"SumRows4 row {r}: {got4.GetElement(r)} != {want} (seed {seed})");
            }
        }
    }
}
