using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Integer;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Integer;
using Quanta.Core.Simd;
using Quanta.Core.Tests.Support;

namespace Quanta.Core.Tests.Integer;

[Trait("Category", "Kernels")]
public class IntegerDotKernelTests
{
    public static TheoryData<string> Kernels() => new() { "i8*q8_0", "i4g32*q8_0", "i4g64*q8_0", "i4g128*q8_0" };

    private static IVecDotKernel Kernel(string name) => name switch
    {
        "i8*q8_0" => Int8Q8_0DotKernel.Instance,
        "i4g32*q8_0" => Int4Q8_0DotKernel.G32,
        "i4g64*q8_0" => Int4Q8_0DotKernel.G64,
        _ => Int4Q8_0DotKernel.G128,
    };

    private static byte[] WeightRow(IVecDotKernel k, float[] w, bool symmetric)
    {
        var row = new byte[k.WeightRowBytes(w.Length)];
        if (k is Int8Q8_0DotKernel) Int8RowCodec.Instance.Quantize(w, row);
        else new Int4RowCodec(((Int4Q8_0DotKernel)k).GroupSize, symmetric).Quantize(w, row);
        return row;
    }

    private static float[] DequantizeWeights(IVecDotKernel k, byte[] row, int n)
    {
        var y = new float[n];
        if (k is Int8Q8_0DotKernel) Int8RowCodec.Instance.DequantizeReference(row, y);
        else new Int4RowCodec(((Int4Q8_0DotKernel)k).GroupSize, false).DequantizeReference(row, y);
        return y;
    }

    /// <summary>Every path this process can run, including the ones the dispatcher skips on wider hardware.</summary>
    private static IEnumerable<(string path, Func<byte[], byte[], int, float> dot)> Paths(IVecDotKernel k)
    {
        yield return ("dispatch", (w, a, n) => k.Dot(w, a, n));
        if (k is Int8Q8_0DotKernel)
        {
            if (Avx512BW.IsSupported) yield return ("avx512", (w, a, n) => Int8Q8_0DotKernel.DotAvx512(w, a, n));
            if (Avx2.IsSupported) yield return ("avx2", (w, a, n) => Int8Q8_0DotKernel.DotAvx2(w, a, n));
            if (Ssse3.IsSupported) yield return ("ssse3", (w, a, n) => Int8Q8_0DotKernel.DotSsse3(w, a, n));
            if (Vector128.IsHardwareAccelerated) yield return ("vector128", (w, a, n) => Int8Q8_0DotKernel.DotVector128(w, a, n));
        }
        else
        {
            var k4 = (Int4Q8_0DotKernel)k;
            if (Avx512BW.IsSupported) yield return ("avx512", (w, a, n) => k4.DotAvx512(w, a, n));
            if (Avx2.IsSupported) yield return ("avx2", (w, a, n) => k4.DotAvx2(w, a, n));
            if (Ssse3.IsSupported) yield return ("ssse3", (w, a, n) => k4.DotSsse3(w, a, n));
            if (Vector128.IsHardwareAccelerated) yield return ("vector128", (w, a, n) => k4.DotVector128(w, a, n));
        }
    }

    /// <summary>
    /// Per-block magnitudes from the exact integer sums: sum_b |scale d_b isum_b| (INT8) or
    /// sum_b (|s_g d_b isumq_b| + |m_g d_b isuma_b|) (INT4), computed here from the dequantized operands:
    /// sum over k of (|s q_k| + |m|) |a_k| bounds both, so the tolerance uses it.
    /// </summary>
    private static double Magnitude(IVecDotKernel k, byte[] wrow, float[] aDeq, int n)
    {
        double sum = 0;
        if (k is Int8Q8_0DotKernel)
        {
            float[] wd = DequantizeWeights(k, wrow, n);
            for (int i = 0; i < n; i++) sum += Math.Abs((double)wd[i] * aDeq[i]);
            return sum;
        }
        int g = ((Int4Q8_0DotKernel)k).GroupSize, gb = Int4Group.GroupBytes(g);
        for (int i = 0; i < n; i++)
        {
            int grp = i / g, j = i % g;
            double s = (double)BitConverter.ToHalf(wrow, grp * gb), m = (double)BitConverter.ToHalf(wrow, grp * gb + 2);
            int q = (wrow[grp * gb + 4 + j / 2] >> (4 * (j % 2))) & 0xF;
            sum += (Math.Abs(s * q) + Math.Abs(m)) * Math.Abs(aDeq[i]);
        }
        return sum;
    }

    private static IEnumerable<int> Lengths(IVecDotKernel k)
    {
        int b = k.BlockSize;
        for (int n = b; n <= 300 * 32; n += b * (b == 32 ? 3 : 1)) yield return n;  // i8: every 3rd block count (1, 4, 7, ...)
        yield return 4096;
        yield return 11008;
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Simd_paths_agree_with_reference(string name)
    {
        // Tolerance (kernel docs): integer block sums are exact on every path; F32 accumulation order differs:
        // |Dot - DotReference| <= 2^-20 * nb * magnitude.
        IVecDotKernel k = Kernel(name);
        int seed = TestData.NewSeed();
        var rng = new Random(seed);
        var paths = Paths(k).ToArray();
        foreach (int n in Lengths(k))
        {
            bool sym = rng.Next(2) == 0;
            float[] w = TestData.Weights(rng, n, 0.1f);
            float[] x = TestData.Activations(rng, n);
            byte[] wrow = WeightRow(k, w, sym);
            var act = new byte[k.ActivationRowBytes(n)];
            k.QuantizeActivation(x, act);
            var aDeq = new float[n];
            Q8_0Activation.Dequantize(act, aDeq);
            float r = k.DotReference(wrow, act, n);
            double tol = Math.Pow(2, -20) * (n / 32) * Magnitude(k, wrow, aDeq, n) + 1e-30;
            foreach (var (path, dot) in paths)
            {
                float v = dot(wrow, act, n);
                Assert.True(Math.Abs((double)v - r) <= tol, $"seed {seed} {name} {path} n {n}: {v} vs reference {r} (tol {tol})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Dot_matches_exact_dot_of_dequantized_operands(string name)
    {
        // The exact value is sum_k w_k a_k over the dequantized operands, in double. The kernel works with
        // w = s*q + m exactly (dequantization rounds each w once, 2^-24 relative) and F32 block accumulation,
        // so |Dot - exact| <= 2^-20 * (nb + 8) * magnitude.
        IVecDotKernel k = Kernel(name);
        int seed = TestData.NewSeed();
        var rng = new Random(seed);
        foreach (int n in new[] { k.BlockSize, 512, 4096, 11008 })
            for (int rep = 0; rep < 4; rep++)
            {
                float[] w = TestData.Weights(rng, n, 0.1f);
                float[] x = TestData.Activations(rng, n);
                byte[] wrow = WeightRow(k, w, rep % 2 == 0);
                var act = new byte[k.ActivationRowBytes(n)];
                k.QuantizeActivation(x, act);
                var aDeq = new float[n];
                Q8_0Activation.Dequantize(act, aDeq);
                float[] wDeq = DequantizeWeights(k, wrow, n);
                double exact = 0;
                for (int i = 0; i < n; i++) exact += (double)wDeq[i] * aDeq[i];
                double tol = Math.Pow(2, -20) * (n / 32 + 8) * Magnitude(k, wrow, aDeq, n) + 1e-30;
                float v = k.Dot(wrow, act, n), r = k.DotReference(wrow, act, n);
                Assert.True(Math.Abs(v - exact) <= tol, $"seed {seed} {name} n {n}: dot {v} vs exact {exact} (tol {tol})");
                Assert.True(Math.Abs(r - exact) <= tol, $"seed {seed} {name} n {n}: reference {r} vs exact {exact} (tol {tol})");
            }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Dispatch_records_the_expected_path(string name)
    {
        IVecDotKernel k = Kernel(name);
        Assert.Equal(name, k.Name);
        SimdPath expected = TestData.ExpectedIntegerPath();
        int n = k.BlockSize * 2;
        byte[] wrow = WeightRow(k, TestData.Weights(new Random(1), n), false);
        var act = new byte[k.ActivationRowBytes(n)];
        k.QuantizeActivation(TestData.Activations(new Random(2), n), act);
        KernelPaths.Enabled = true;
        SimdPath? seen = null;
        for (int attempt = 0; attempt < 5 && seen is null; attempt++) // another test may Clear() concurrently
        {
            k.Dot(wrow, act, n);
            if (KernelPaths.Snapshot().TryGetValue(name, out SimdPath p)) seen = p;
        }
        Assert.Equal(expected, seen);
    }

    [Fact]
    public void Activation_quantizer_matches_ggml_cpu_bytes()
    {
        int seed = TestData.NewSeed();
        var rng = new Random(seed);
        foreach (int n in new[] { 32, 64, 96, 320, 4096, 11008 })
            for (int rep = 0; rep < 5; rep++)
            {
                float[] x = TestData.Activations(rng, n);
                if (rep == 1) for (int i = 0; i < n; i++) x[i] = MathF.Round(x[i] * 64) / 64; // many exact ties
                var ours = new byte[Q8_0Activation.RowBytes(n)];
                var ggml = new byte[ours.Length];
                Q8_0Activation.Quantize(x, ours);
                GgmlNative.FromFloatCpu(8, x, ggml, n);
                for (int i = 0; i < ours.Length; i++)
                    Assert.True(ours[i] == ggml[i], $"seed {seed} n {n} rep {rep}: byte {i} (block {i / 34}) ours {ours[i]} ggml {ggml[i]}");
            }
    }

    [Fact]
    public void Activation_quantizer_hand_worked_block()
    {
        // amax 127 -> d = 1, id = 1, qs = RNE(x): 2.5 -> 2, 3.5 -> 4, -0.5 -> -0
        var x = new float[32];
        x[0] = 127f; x[1] = 2.5f; x[2] = 3.5f; x[3] = -0.5f; x[4] = -127f;
        var b = new byte[34];
        Q8_0Activation.Quantize(x, b);
        Assert.Equal((Half)1f, BitConverter.ToHalf(b, 0));
        Assert.Equal(new sbyte[] { 127, 2, 4, 0, -127 }, b.AsSpan(2, 5).ToArray().Select(v => (sbyte)v).ToArray());
    }
}
