using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Tests.Quantized;

/// <summary>
/// The register helpers of the 4-row Q4_K decode kernel against their scalar counterparts: the F16 conversion over every
/// bit pattern (against the table of <see cref="KQuantMath.Fp16ToFp32"/>), and the 4-block scale/min unpacking over random
/// headers (against <see cref="KQuantSimd.ScaleMinK4"/> per block). On machines without AVX-512 / AVX2 the helpers are
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
            for (int k = 0; k < 8; k++)
            {
                int want = BitConverter.SingleToInt32Bits(KQuantMath.Fp16ToFp32((ushort)(h + k)));
                int got = BitConverter.SingleToInt32Bits(f.GetElement(k));
                Assert.True(want == got, $"half 0x{h + k:X4}: 0x{got:X8} != table 0x{want:X8}");
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
}
