using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Quantized;
using Quanta.Core.Simd;
using Quanta.Core.Tests.Support;

namespace Quanta.Core.Tests.Quantized;

/// <summary>K-quant x Q8_K dot kernels: SIMD path against the scalar reference, and both against ggml-cpu's vec_dot.</summary>
public class KQuantDotTests
{
    public static TheoryData<GgmlType> Types => new() { GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K };

    private static IVecDotKernel Kernel(GgmlType t) => t switch
    {
        GgmlType.Q2_K => VecDotQ2_K.Instance,
        GgmlType.Q3_K => VecDotQ3_K.Instance,
        GgmlType.Q4_K => VecDotQ4_K.Instance,
        GgmlType.Q5_K => VecDotQ5_K.Instance,
        GgmlType.Q6_K => VecDotQ6_K.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    private static readonly int[] Lengths = [256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304, 2560, 2816, 3072, 4096, 8192, 14336];

    /// <summary>Weight row: quantized from mixed random data, or arbitrary bytes with finite scales.</summary>
    private static byte[] WeightRow(Random rng, GgmlType type, int n, bool randomBytes)
    {
        var w = new byte[GgmlTypeInfo.RowBytes(type, n)];
        if (randomBytes) KQuantCodecTests.RandomBlocks(rng, type, w);
        else KQuantCodecTests.Codec(type).Quantize(KQuantTestData.Row(rng, n / 256), w);
        return w;
    }

    /// <summary>
    /// A copy of the K-quant row <paramref name="w"/> with every quant code at its zero, so that it dequantizes to the
    /// min/offset part alone: Q2_K, Q4_K, Q5_K codes 0 (−dmin·m); Q3_K low bits 0 and high bits clear (−4·d·sc);
    /// Q6_K low and high bits 0 (−32·d·sc). Block layouts are ggml's.
    /// </summary>
    private static byte[] OffsetRow(GgmlType type, byte[] w, int n)
    {
        var o = (byte[])w.Clone();
        int bb = checked((int)GgmlTypeInfo.RowBytes(type, 256));
        (int Start, int Length)[] codes = type switch
        {
            GgmlType.Q2_K => [(16, 64)],             // scales[16], qs[64], d, dmin
            GgmlType.Q3_K => [(0, 32), (32, 64)],    // hmask[32], qs[64], scales[12], d
            GgmlType.Q4_K => [(16, 128)],            // d, dmin, scales[12], qs[128]
            GgmlType.Q5_K => [(16, 32), (48, 128)],  // d, dmin, scales[12], qh[32], qs[128]
            GgmlType.Q6_K => [(0, 128), (128, 64)],  // ql[128], qh[64], scales[16], d
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
        for (int b = 0; b < n / 256; b++)
            foreach (var (start, length) in codes) o.AsSpan(b * bb + start, length).Clear();
        return o;
    }

    // Tolerance 0: every path computes each super-block's integer sums exactly (int32 cannot overflow: at most
    // 256 * 63 * 128 * 128 < 2^31) and then performs the same float operations in the same order, so the SIMD
    // result must equal the scalar reference bit for bit.
    [Theory]
    [MemberData(nameof(Types))]
    [Trait("Category", "Kernels")]
    public void Simd_equals_reference(GgmlType type)
    {
        int seed = KQuantTestData.NewSeed();
        var rng = new Random(seed);
        IVecDotKernel k = Kernel(type);
        KernelPaths.Enabled = true;
        foreach (int n in Lengths)
        {
            for (int rep = 0; rep < 2; rep++)
            {
                byte[] w = WeightRow(rng, type, n, rep == 1);
                var a = new byte[k.ActivationRowBytes(n)];
                k.QuantizeActivation(KQuantTestData.Row(rng, n / 256), a);
                float simd = k.Dot(w, a, n);
                float reference = k.DotReference(w, a, n);
                Assert.True(BitConverter.SingleToInt32Bits(simd) == BitConverter.SingleToInt32Bits(reference),
                    $"{k.Name} n={n} rep={rep} seed={seed}: SIMD {simd:R} vs reference {reference:R} (path {Q8KActivation.Path})");
            }
        }
        Assert.True(KernelPaths.Snapshot().TryGetValue(k.Name, out SimdPath p) && p == Q8KActivation.Path, $"{k.Name}: recorded path missing or not {Q8KActivation.Path}");
    }

    // Against ggml-cpu's vec_dot (AVX2/AVX-512 build) on activations from ggml's own run-time Q8_K quantizer.
    // Integer parts agree exactly; ggml adds the per-block float terms d*isum and dmin*summ in a different order
    // (8-lane vector accumulators, fused multiply-adds), each rounding costing at most 2^-24 of a partial sum.
    // ggml sums two kinds of per-block float terms: the scale part d·sc·Σq·a and the min or offset part (Q2_K/Q4_K/Q5_K
    // dmin·m·Σa, Q3_K −4·d·sc·Σa over the cleared high bits, Q6_K −32·d·sc·Σa). With w = scale part + offset part
    // elementwise, every term is bounded by S = Σ_i (|w_i| + 2|o_i|)·|a_i|, where o is the row dequantized with every
    // quant code set to its zero (OffsetRow); Σ|w_i·a_i| alone is not a bound: the two parts can cancel exactly (seed
    // 968492875: Σ|w·a| = 0 while ggml's rounding of the two parts left -2^-14). At most ~2 roundings per block plus a
    // final 8-lane reduction: |error| <= (2 * 56 + 8) * 2^-24 * S ~ 7e-6 S for n = 14336; we assert 1e-5 S.
    [Theory]
    [MemberData(nameof(Types))]
    [Trait("Category", "Kernels")]
    public void Matches_ggml_vec_dot(GgmlType type)
    {
        int seed = KQuantTestData.NewSeed();
        var rng = new Random(seed);
        IVecDotKernel k = Kernel(type);
        foreach (int n in Lengths)
        {
            for (int rep = 0; rep < 2; rep++)
            {
                byte[] w = WeightRow(rng, type, n, rep == 1);
                float[] xf = KQuantTestData.Row(rng, n / 256);
                var a = new byte[k.ActivationRowBytes(n)];
                GgmlNative.FromFloatCpu((int)GgmlType.Q8_K, xf, a, n);
                float expected = GgmlNative.VecDot((int)type, n, w, a);

                var wf = new float[n];
                var of = new float[n];
                var af = new float[n];
                GgmlNative.ToFloat((int)type, w, wf, n);
                GgmlNative.ToFloat((int)type, OffsetRow(type, w, n), of, n);
                GgmlNative.Q8KToFloat(a, af, n);
                double s = 0;
                for (int i = 0; i < n; i++) s += (Math.Abs((double)wf[i]) + 2 * Math.Abs((double)of[i])) * Math.Abs((double)af[i]);
                double tol = 1e-5 * s;

                float simd = k.Dot(w, a, n);
                float reference = k.DotReference(w, a, n);
                Assert.True(Math.Abs(simd - expected) <= tol, $"{k.Name} n={n} rep={rep} seed={seed}: {simd:R} vs ggml {expected:R}, tol {tol:G3}");
                Assert.True(Math.Abs(reference - expected) <= tol, $"{k.Name} reference n={n} rep={rep} seed={seed}: {reference:R} vs ggml {expected:R}, tol {tol:G3}");
            }
        }
    }

    [Fact]
    [Trait("Category", "Kernels")]
    public void Activation_quantizer_matches_ggml_cpu_and_reference()
    {
        int seed = KQuantTestData.NewSeed();
        var rng = new Random(seed);
        foreach (int blocks in KQuantTestData.Blocks)
        {
            for (int rep = 0; rep < 3; rep++)
            {
                float[] x = rep == 0 ? KQuantTestData.Row(rng, blocks) : KQuantTestData.Row(rng, blocks, rng.Next(KQuantTestData.KindCount));
                int n = x.Length;
                var mine = new byte[Q8KActivation.RowBytes(n)];
                var cpu = new byte[mine.Length];
                var reference = new byte[mine.Length];
                Q8KActivation.Quantize(x, mine);
                GgmlNative.FromFloatCpu((int)GgmlType.Q8_K, x, cpu, n);
                GgmlNative.Q8KFromFloatRef(x, reference, n);
                int at = KQuantTestData.FirstByteDiff(mine, cpu);
                Assert.True(at < 0, $"n={n} rep={rep} seed={seed}: byte {at} (block {at / 292}, offset {at % 292}) differs from ggml-cpu quantize_row_q8_K");
                at = KQuantTestData.FirstByteDiff(mine, reference);
                Assert.True(at < 0, $"n={n} rep={rep} seed={seed}: byte {at} differs from quantize_row_q8_K_ref");
            }
        }
    }
}
