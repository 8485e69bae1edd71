using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Quantized;
using Quanta.Core.Simd;
using Quanta.Core.Tests.Support;
using static Quanta.Core.Tests.Quantized.LegacyTestData;

namespace Quanta.Core.Tests.Quantized;

/// <summary>
/// Legacy dot kernels (q4_0*q8_0, q4_1*q8_1, q5_0*q8_0, q5_1*q8_1, q8_0*q8_0).
/// Error model used for tolerances: every kernel forms exact int32 sums of code products (the SIMD paths keep
/// several per-lane partial sums per block), converts them to fp32 and scales them by d_w*d_a, adds m_w*s_a per
/// block for the offset formats, and adds everything up in some tree order. Each fp32 operation rounds with
/// relative error at most u = 2^-24; every term passes through at most 3 roundings of its own (d_w*d_a, the
/// scaling, m*s) and, in every implementation here and in ggml, through a chain of at most 2*nb + 13 additions
/// (per-lane accumulation over the blocks, the min-term chain, the horizontal sum). With
/// T = sum over blocks of |d_w*d_a| * sum_j |c_w,j * c_a,j| + |m_w*s_a| (which bounds every partial sum,
/// whatever lane split a path uses): |result - exact| &lt;= (2*nb + 16) * u * T, exact being computed in double
/// from the decoded blocks (every term exact in double). Two implementations each within it differ by at most
/// twice it. For nb = 448 (n = 14336) that is 5.4e-5 * T.
/// </summary>
[Trait("Category", "Kernels")]
public class LegacyDotTests
{
    internal static IVecDotKernel Kernel(int type) => type switch
    {
        2 => VecDotQ4_0Q8_0.Instance,
        3 => VecDotQ4_1Q8_1.Instance,
        6 => VecDotQ5_0Q8_0.Instance,
        7 => VecDotQ5_1Q8_1.Instance,
        8 => VecDotQ8_0Q8_0.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private static int ActType(int type) => type is 3 or 7 ? 9 : 8;

    private static float DotPath(int type, byte[] w, byte[] a, int n, SimdPath path, bool portable) => type switch
    {
        2 => VecDotQ4_0Q8_0.Instance.DotPath(w, a, n, path, portable),
        3 => VecDotQ4_1Q8_1.Instance.DotPath(w, a, n, path, portable),
        6 => VecDotQ5_0Q8_0.Instance.DotPath(w, a, n, path, portable),
        7 => VecDotQ5_1Q8_1.Instance.DotPath(w, a, n, path, portable),
        _ => VecDotQ8_0Q8_0.Instance.DotPath(w, a, n, path, portable),
    };

    /// <summary>Every path this machine can run: (path, portable 128-bit variant).</summary>
    private static IEnumerable<(SimdPath, bool)> Paths()
    {
        if (Vector512.IsHardwareAccelerated && Avx512BW.IsSupported) yield return (SimdPath.V512, false);
        if (Vector256.IsHardwareAccelerated && Avx2.IsSupported) yield return (SimdPath.V256, false);
        if (Vector128.IsHardwareAccelerated && Ssse3.IsSupported) yield return (SimdPath.V128, false);
        if (Vector128.IsHardwareAccelerated) yield return (SimdPath.V128, true);
        yield return (SimdPath.Scalar, false);
    }

    /// <summary>The 32 integer codes of weight block <paramref name="b"/>, decoded from the ggml-common.h layouts.</summary>
    private static int[] WeightCodes(int type, byte[] w, int b)
    {
        int bs = GgmlTypeInfo.TypeSize((GgmlType)type), o = b * bs;
        var c = new int[32];
        for (int j = 0; j < 32; j++)
        {
            switch (type)
            {
                case 2: c[j] = (j < 16 ? w[o + 2 + j] & 15 : w[o + 2 + j - 16] >> 4) - 8; break;
                case 3: c[j] = j < 16 ? w[o + 4 + j] & 15 : w[o + 4 + j - 16] >> 4; break;
                case 6:
                    {
                        uint qh = BitConverter.ToUInt32(w, o + 2);
                        c[j] = ((j < 16 ? w[o + 6 + j] & 15 : w[o + 6 + j - 16] >> 4) | (int)((qh >> j) & 1) << 4) - 16;
                        break;
                    }
                case 7:
                    {
                        uint qh = BitConverter.ToUInt32(w, o + 4);
                        c[j] = (j < 16 ? w[o + 8 + j] & 15 : w[o + 8 + j - 16] >> 4) | (int)((qh >> j) & 1) << 4;
                        break;
                    }
                default: c[j] = (sbyte)w[o + 2 + j]; break;
            }
        }
        return c;
    }

    private static double H(byte[] buf, int offset) => (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(buf, offset));

    /// <summary>Exact dot product (double, every term exact) and the bound of the class comment.</summary>
    private static (double Exact, double Bound) ExactAndBound(int type, byte[] w, byte[] a, int nb)
    {
        int wb = GgmlTypeInfo.TypeSize((GgmlType)type);
        bool q81 = ActType(type) == 9;
        int ab = q81 ? 36 : 34, qo = q81 ? 4 : 2;
        double exact = 0, t = 0;
        for (int b = 0; b < nb; b++)
        {
            int[] c = WeightCodes(type, w, b);
            long sumi = 0, sumAbs = 0;
            for (int j = 0; j < 32; j++)
            {
                int p = c[j] * (sbyte)a[b * ab + qo + j];
                sumi += p;
                sumAbs += Math.Abs(p);
            }
            double dd = H(w, b * wb) * H(a, b * ab);
            double mterm = q81 ? H(w, b * wb + 2) * H(a, b * ab + 2) : 0;
            exact += dd * sumi + mterm;
            t += Math.Abs(dd) * sumAbs + Math.Abs(mterm);
        }
        return (exact, (2.0 * nb + 16) * Math.Pow(2, -24) * t + 1e-30);
    }

    /// <summary>The kernel's activation row for ggml activation blocks <paramref name="ggml"/>: the same bytes first
    /// (ggml's vec_dot reads only those), then the per-block arrays the kernel appends.</summary>
    private static byte[] KernelRow(int type, byte[] ggml, int n)
    {
        var k = (LegacyVecDotKernel)Kernel(type);
        var row = new byte[k.ActivationRowBytes(n)];
        ggml.AsSpan(0, (int)GgmlTypeInfo.RowBytes((GgmlType)ActType(type), n)).CopyTo(row);
        k.CompleteActivation(row, n);
        return row;
    }

    /// <summary>A weight row from ggml's quantizer and an activation row (ggml-cpu's run-time quantizer, completed
    /// with <see cref="KernelRow"/>).</summary>
    private static (byte[] W, byte[] A) MakeRows(Random r, int type, int n)
    {
        var w = new byte[GgmlTypeInfo.RowBytes((GgmlType)type, n)];
        GgmlNative.FromFloatRef(type, Make(r, (Dist)r.Next(Regular.Length), n), w, n);
        int act = ActType(type);
        var a = new byte[GgmlTypeInfo.RowBytes((GgmlType)act, n)];
        GgmlNative.FromFloatCpu(act, Make(r, (Dist)r.Next(Regular.Length), n), a, n);
        return (w, KernelRow(type, a, n));
    }

    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void Weight_code_decoding_of_this_test_agrees_with_ggml_to_float(int type)
    {
        // trust check for the oracle-side decoder used by the bounds: code*d (+m) == ggml's dequantized value
        int seed = NewSeed();
        var r = new Random(seed);
        var (w, _) = MakeRows(r, type, 64 * 32);
        var y = new float[64 * 32];
        GgmlNative.ToFloat(type, w, y, y.Length);
        int wb = GgmlTypeInfo.TypeSize((GgmlType)type);
        for (int b = 0; b < 64; b++)
        {
            int[] c = WeightCodes(type, w, b);
            float d = (float)H(w, b * wb), m = type is 3 or 7 ? (float)H(w, b * wb + 2) : 0f;
            for (int j = 0; j < 32; j++)
            {
                float v = type is 3 or 7 ? c[j] * d + m : c[j] * d;
                Assert.True(BitConverter.SingleToInt32Bits(v) == BitConverter.SingleToInt32Bits(y[b * 32 + j]), $"seed {seed} type {type} block {b} elem {j}");
            }
        }
    }

    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void Reference_is_bit_identical_to_ggml_generic_vec_dot(int type)
    {
        int seed = NewSeed();
        var r = new Random(seed);
        IVecDotKernel k = Kernel(type);
        foreach (int nb in BlockCounts(300, 13))
        {
            int n = nb * 32;
            var (w, a) = MakeRows(r, type, n);
            float ours = k.DotReference(w, a, n);
            float ggml = GgmlNative.VecDotGeneric(type, n, w, a);
            Assert.True(BitConverter.SingleToInt32Bits(ours) == BitConverter.SingleToInt32Bits(ggml),
                $"seed {seed} {k.Name} n={n}: reference {ours:R} vs ggml generic {ggml:R}");
        }
    }

    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void Every_simd_path_is_within_the_fp32_accumulation_bound(int type)
    {
        int seed = NewSeed();
        var r = new Random(seed);
        IVecDotKernel k = Kernel(type);
        foreach (int nb in BlockCounts(300, 7))
        {
            int n = nb * 32;
            var (w, a) = MakeRows(r, type, n);
            var (exact, bound) = ExactAndBound(type, w, a, nb);
            float reference = k.DotReference(w, a, n);
            Assert.True(Math.Abs(reference - exact) <= bound, $"seed {seed} {k.Name} n={n}: reference {reference:R} exact {exact:R} bound {bound:R}");
            float dot = k.Dot(w, a, n);
            Assert.True(Math.Abs(dot - exact) <= bound, $"seed {seed} {k.Name} n={n}: Dot {dot:R} exact {exact:R} bound {bound:R}");
            Assert.True(Math.Abs(dot - reference) <= 2 * bound, $"seed {seed} {k.Name} n={n}: Dot {dot:R} reference {reference:R} bound {2 * bound:R}");
            foreach (var (path, portable) in Paths())
            {
                float v = DotPath(type, w, a, n, path, portable);
                Assert.True(Math.Abs(v - exact) <= bound, $"seed {seed} {k.Name} n={n} path {path}{(portable ? " portable" : "")}: {v:R} exact {exact:R} bound {bound:R}");
            }
        }
    }

    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void Every_path_is_exact_when_fp32_arithmetic_is_exact(int type)
    {
        // Scales 1.0 and small-integer m and s make every fp32 operation exact while |sum| < 2^24
        // (at most 32 blocks * 32 * 127 * 127 = 16,516,096 < 16,777,216), so any single wrong code shows.
        // Codes are arbitrary bit patterns; activation codes stay in [-127, 127] as the quantizer produces them.
        int seed = NewSeed();
        var r = new Random(seed);
        IVecDotKernel k = Kernel(type);
        int wbytes = GgmlTypeInfo.TypeSize((GgmlType)type);
        bool q81 = ActType(type) == 9;
        int abytes = q81 ? 36 : 34;
        ushort one = BitConverter.HalfToUInt16Bits((Half)1f);
        for (int nb = 1; nb <= 32; nb++)
        {
            int n = nb * 32;
            var w = new byte[nb * wbytes];
            var a = new byte[nb * abytes];
            r.NextBytes(w);
            for (int b = 0; b < nb; b++)
            {
                BitConverter.TryWriteBytes(w.AsSpan(b * wbytes), one);
                if (q81) BitConverter.TryWriteBytes(w.AsSpan(b * wbytes + 2), BitConverter.HalfToUInt16Bits((Half)r.Next(-8, 9)));
                if (type == 8) for (int j = 0; j < 32; j++) w[b * wbytes + 2 + j] = (byte)(sbyte)r.Next(-127, 128);
                BitConverter.TryWriteBytes(a.AsSpan(b * abytes), one);
                if (q81) BitConverter.TryWriteBytes(a.AsSpan(b * abytes + 2), BitConverter.HalfToUInt16Bits((Half)r.Next(-64, 65)));
                for (int j = 0; j < 32; j++) a[b * abytes + (q81 ? 4 : 2) + j] = (byte)(sbyte)r.Next(-127, 128);
            }
            a = KernelRow(type, a, n);
            var (exact, _) = ExactAndBound(type, w, a, nb);
            Assert.True(k.DotReference(w, a, n) == exact, $"seed {seed} {k.Name} nb={nb}: reference {k.DotReference(w, a, n):R} exact {exact:R}");
            Assert.True(k.Dot(w, a, n) == exact, $"seed {seed} {k.Name} nb={nb}: Dot {k.Dot(w, a, n):R} exact {exact:R}");
            foreach (var (path, portable) in Paths())
            {
                float v = DotPath(type, w, a, n, path, portable);
                Assert.True(v == exact, $"seed {seed} {k.Name} nb={nb} path {path}{(portable ? " portable" : "")}: {v:R} exact {exact:R}");
            }
        }
    }

    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void An_inf_or_nan_weight_scale_gives_a_non_finite_result_on_every_path(int type)
    {
        // the wide paths widen 16 weight scales at once with a bit trick that is exact only for finite halves; a group
        // holding an inf/NaN scale must still give a non-finite sum, as the reference does
        int seed = NewSeed();
        var r = new Random(seed);
        IVecDotKernel k = Kernel(type);
        int wb = GgmlTypeInfo.TypeSize((GgmlType)type);
        foreach (int nb in new[] { 16, 33, 64 })
        {
            int n = nb * 32;
            var (w, a) = MakeRows(r, type, n);
            int blk = r.Next(nb);
            ushort bits = r.Next(2) == 0 ? (ushort)0x7C00 : (ushort)0x7E00;   // +inf or NaN
            BitConverter.TryWriteBytes(w.AsSpan(blk * wb), bits);
            float reference = k.DotReference(w, a, n);
            Assert.False(float.IsFinite(reference), $"seed {seed} {k.Name} nb={nb}: reference {reference:R}");
            Assert.False(float.IsFinite(k.Dot(w, a, n)), $"seed {seed} {k.Name} nb={nb} block {blk}: Dot {k.Dot(w, a, n):R}");
            foreach (var (path, portable) in Paths())
            {
                float v = DotPath(type, w, a, n, path, portable);
                Assert.False(float.IsFinite(v), $"seed {seed} {k.Name} nb={nb} block {blk} path {path}{(portable ? " portable" : "")}: {v:R}");
            }
        }
    }

    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void Dot_agrees_with_ggml_cpu_vec_dot(int type)
    {
        // Same inputs as llama.cpp uses (weights from ggml's quantizer, activations from ggml-cpu's run-time
        // quantizer); both sides sum exact int32 block sums and accumulate in fp32 in different orders, so the
        // tolerance is twice the accumulation bound of the class comment (at most 1.1e-4 of T, for n = 14336).
        int seed = NewSeed();
        var r = new Random(seed);
        IVecDotKernel k = Kernel(type);
        foreach (int nb in BlockCounts(300, 11))
        {
            int n = nb * 32;
            var (w, a) = MakeRows(r, type, n);
            var (exact, bound) = ExactAndBound(type, w, a, nb);
            float ggml = GgmlNative.VecDot(type, n, w, a);
            float ours = k.Dot(w, a, n);
            Assert.True(Math.Abs(ggml - exact) <= bound, $"seed {seed} {k.Name} n={n}: ggml {ggml:R} exact {exact:R} bound {bound:R}");
            Assert.True(Math.Abs(ours - ggml) <= 2 * bound, $"seed {seed} {k.Name} n={n}: ours {ours:R} ggml {ggml:R} bound {2 * bound:R}");
        }
    }

    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void Kernel_wiring_matches_ggml(int type)
    {
        IVecDotKernel k = Kernel(type);
        int act = ActType(type);
        Assert.Equal(((GgmlType)type).ToString().ToLowerInvariant() + "*" + ((GgmlType)act).ToString().ToLowerInvariant(), k.Name);
        Assert.Equal(Enum.Parse<WeightFormat>(((GgmlType)type).ToString()), k.Format);
        Assert.Equal(act, GgmlNative.TraitsCpu(type).VecDotType);
        Assert.Equal(GgmlTypeInfo.RowBytes((GgmlType)type, 4096), k.WeightRowBytes(4096));
        int ggmlBytes = (int)GgmlTypeInfo.RowBytes((GgmlType)act, 4096);
        // 4/5-bit kernels: ggml blocks (4-byte multiple here), then 128 float scales and 128 32-bit code sums (Q8_0) or
        // float s (Q8_1), then the 128 x 32 codes in nibble order at the next multiple of 64; Q8_0 weights: ggml blocks only
        bool nibble = type != 8;
        int codesAt = (ggmlBytes + 128 * 8 + 63) / 64 * 64;
        Assert.Equal(nibble ? codesAt + 128 * 32 : ggmlBytes, k.ActivationRowBytes(4096));
        int seed = NewSeed();
        float[] x = Make(new Random(seed), Dist.Outliers, 4096);
        var ours = new byte[k.ActivationRowBytes(4096)];
        var ggml = new byte[ggmlBytes];
        k.QuantizeActivation(x, ours);
        GgmlNative.FromFloatCpu(act, x, ggml, 4096);
        Assert.True(FirstDiff(ours.AsSpan(0, ggmlBytes), ggml) < 0, $"seed {seed}");
        bool q81 = act == 9;
        int ab = q81 ? 36 : 34;
        for (int b = 0; b < (nibble ? 128 : 0); b++)
        {
            Assert.Equal((float)H(ggml, b * ab), BitConverter.ToSingle(ours, ggmlBytes + 4 * b));
            int extra = ggmlBytes + 4 * 128 + 4 * b;
            if (q81) Assert.Equal((float)H(ggml, b * ab + 2), BitConverter.ToSingle(ours, extra));
            else
            {
                int sum = 0;
                for (int j = 0; j < 32; j++) sum += (sbyte)ggml[b * ab + 2 + j];
                Assert.Equal(sum, BitConverter.ToInt32(ours, extra));
            }
            if (nibble)
            {
                // group b / 4, slot b % 4: elements 0..15 at 16 * slot, elements 16..31 at 64 + 16 * slot
                int g = codesAt + 128 * (b / 4) + 16 * (b % 4);
                for (int j = 0; j < 32; j++)
                    Assert.Equal(ggml[b * ab + (q81 ? 4 : 2) + j], ours[g + (j < 16 ? j : 64 + j - 16)]);
            }
        }
        Assert.Throws<ArgumentException>(() => k.Dot(new byte[64], new byte[64], 33));
        Assert.Throws<ArgumentException>(() => k.Dot(new byte[1], ggml, 4096));
    }

    [Fact]
    public void Dispatch_records_the_expected_simd_path()
    {
        string? env = Environment.GetEnvironmentVariable("QUANTA_EXPECT_SIMD");
        SimdPath expected = env switch
        {
            "V256" => SimdPath.V256,
            "V128" => SimdPath.V128,
            "Scalar" => SimdPath.Scalar,
            _ => SimdCapabilities.Widest,
        };
        KernelPaths.Enabled = true;
        foreach (int type in new[] { 2, 3, 6, 7, 8 })
        {
            IVecDotKernel k = Kernel(type);
            var (w, a) = MakeRows(new Random(type), type, 256);
            k.Dot(w, a, 256);
            Assert.True(KernelPaths.Snapshot().TryGetValue(k.Name, out SimdPath seen), $"{k.Name} recorded nothing");
            Assert.Equal(expected, seen);
        }
    }
}
