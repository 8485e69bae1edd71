using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Float;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Float;
using Quanta.Core.Tests.Support;

namespace Quanta.Core.Tests.Float;

/// <summary>
/// Float vec-dot kernels. Tolerances: SIMD vs scalar reference |Dot - Ref| &lt;= 1e-5 * S, and ours vs ggml's vec_dot
/// |Dot - ggml| &lt;= 2e-5 * S, where S = sum |w_i x_i| of the decoded operands (times |scale| for FP8): F32 summation
/// in a different order changes the result by a few ulps of S per accumulator chain.
/// </summary>
public class VecDotTests
{
    public static TheoryData<string> Kernels => new() { "f32*f32", "f16*f16", "bf16*bf16", "fp8e4m3*f32", "fp8e5m2*f32" };

    private static IVecDotKernel Get(string name) => name switch
    {
        "f32*f32" => F32VecDot.Instance,
        "f16*f16" => F16VecDot.Instance,
        "bf16*bf16" => BF16VecDot.Instance,
        "fp8e4m3*f32" => Fp8E4M3VecDot.Instance,
        "fp8e5m2*f32" => Fp8E5M2VecDot.Instance,
        _ => throw new ArgumentException(name),
    };

    private static IRowCodec Codec(IVecDotKernel k) => k.Format switch
    {
        WeightFormat.F32 => F32Codec.Instance,
        WeightFormat.F16 => F16Codec.Instance,
        WeightFormat.BF16 => BF16Codec.Instance,
        WeightFormat.Fp8E4M3 => Fp8E4M3Codec.Instance,
        WeightFormat.Fp8E5M2 => Fp8E5M2Codec.Instance,
        _ => throw new ArgumentException(k.Name),
    };

    /// <summary>Weight row and converted activation row of n elements, plus S = sum |w_i x_i| over the decoded values.</summary>
    private static (byte[] W, byte[] A, double S) Make(IVecDotKernel k, Random r, int n)
    {
        var wf = Enumerable.Range(0, n).Select(_ => FloatTestUtil.Gaussian(r)).ToArray();
        var xf = Enumerable.Range(0, n).Select(_ => FloatTestUtil.Gaussian(r)).ToArray();
        var w = new byte[k.WeightRowBytes(n)];
        Codec(k).Quantize(wf, w);
        var a = new byte[k.ActivationRowBytes(n)];
        k.QuantizeActivation(xf, a);
        return (w, a, AbsSum(k, w, a, n));
    }

    private static double AbsSum(IVecDotKernel k, byte[] w, byte[] a, int n)
    {
        var wd = new float[n];
        Codec(k).DequantizeReference(w, wd);
        var xd = new float[n];
        if (k.ActivationRowBytes(n) == 4 * n) MemoryMarshal.Cast<byte, float>(a.AsSpan())[..n].CopyTo(xd);
        else Codec(k).DequantizeReference(a, xd);   // F16 / BF16 activations share the weight row layout
        double s = 0;
        for (int i = 0; i < n; i++) s += Math.Abs((double)wd[i] * xd[i]);
        return s;
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Metadata(string name)
    {
        var k = Get(name);
        Assert.Equal(name, k.Name);
        Assert.Equal(1, k.BlockSize);
        int wb = k.Format switch { WeightFormat.F32 => 4, WeightFormat.F16 or WeightFormat.BF16 => 2, _ => 1 };
        Assert.Equal(k.Format is WeightFormat.Fp8E4M3 or WeightFormat.Fp8E5M2 ? 4 + 100 : wb * 100, k.WeightRowBytes(100));
        Assert.Equal(Codec(k).RowBytes(100), k.WeightRowBytes(100));
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    [Trait("Category", "Kernels")]
    public void Simd_matches_reference_for_all_lengths(string name)
    {
        var k = Get(name);
        int seed = FloatTestUtil.NewSeed();
        var r = new Random(seed);
        foreach (int n in Enumerable.Range(1, 300).Concat([1024, 4096, 11008]))
        {
            var (w, a, s) = Make(k, r, n);
            float reference = k.DotReference(w, a, n);
            float dot = k.Dot(w, a, n);
            Assert.True(Math.Abs(dot - reference) <= 1e-5 * s + 1e-30,
                $"seed {seed} {name} n {n}: dot {dot} reference {reference} S {s}");
        }
        var (w1, a1, _) = Make(k, r, 64);
        FloatTestUtil.AssertPath(name, () => k.Dot(w1, a1, 64));
    }

    [Theory]
    [InlineData("f32*f32", 0)]
    [InlineData("f16*f16", 1)]
    [InlineData("bf16*bf16", 30)]
    [Trait("Category", "Kernels")]
    public void Matches_ggml_vec_dot(string name, int ggmlType)
    {
        var k = Get(name);
        var traits = GgmlNative.TraitsCpu(ggmlType);
        Assert.Equal(ggmlType, traits.VecDotType);   // ggml pairs F32/F16/BF16 weights with activations of the same type
        int seed = FloatTestUtil.NewSeed();
        var r = new Random(seed);
        foreach (int n in Enumerable.Range(1, 300).Where(n => n % 7 == 0 || n % 32 == 0 || n < 20).Concat([4096, 11008]))
        {
            var (w, a, s) = Make(k, r, n);
            float oracle = GgmlNative.VecDot(ggmlType, n, w, GgmlActivation(k, a, n));
            float dot = k.Dot(w, a, n);
            float reference = k.DotReference(w, a, n);
            Assert.True(Math.Abs(dot - oracle) <= 2e-5 * s + 1e-30, $"seed {seed} {name} n {n}: dot {dot} ggml {oracle} S {s}");
            Assert.True(Math.Abs(reference - oracle) <= 2e-5 * s + 1e-30, $"seed {seed} {name} n {n}: reference {reference} ggml {oracle} S {s}");
        }
    }

    /// <summary>The activation row in ggml's vec_dot_type layout: the F16 kernel keeps its F16-rounded activations as
    /// F32 (exactly representable, so narrowing back to F16 is exact); the others already use ggml's layout.</summary>
    private static byte[] GgmlActivation(IVecDotKernel k, byte[] a, int n)
    {
        if (k.Format != WeightFormat.F16) return a;
        var h = new ushort[n];
        F16Conversion.FromSingleRowReference(MemoryMarshal.Cast<byte, float>(a.AsSpan())[..n], h);
        return MemoryMarshal.AsBytes(h.AsSpan()).ToArray();
    }

    [Theory]
    [InlineData("f16*f16", 1)]
    [InlineData("bf16*bf16", 30)]
    [Trait("Category", "Kernels")]
    public void Activation_conversion_matches_ggml_reference_rounding(string name, int ggmlType)
    {
        var k = Get(name);
        int seed = FloatTestUtil.NewSeed();
        var r = new Random(seed);
        var x = new float[333];
        for (int i = 0; i < x.Length; i++) x[i] = FloatTestUtil.WideValue(r, -30, 15);
        var ours = new byte[k.ActivationRowBytes(x.Length)];
        k.QuantizeActivation(x, ours);
        var oracle = new byte[2 * x.Length];
        GgmlNative.FromFloatRef(ggmlType, x, oracle, x.Length);
        if (k.Format == WeightFormat.F16)
        {
            // F32 holding ggml's F16 rounding of each element, widened exactly
            Assert.Equal(4 * x.Length, ours.Length);
            for (int i = 0; i < x.Length; i++)
            {
                float want = (float)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(oracle, 2 * i));
                Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.ToInt32(ours, 4 * i), $"seed {seed} element {i}: {BitConverter.ToSingle(ours, 4 * i):R} want {want:R}");
            }
        }
        else Assert.True(oracle.AsSpan().SequenceEqual(ours), $"seed {seed}");
    }

    [Theory]
    [InlineData("f16*f16")]
    [InlineData("fp8e4m3*f32")]
    [InlineData("fp8e5m2*f32")]
    [Trait("Category", "Kernels")]
    public void Special_codes_propagate_like_the_reference(string name)
    {
        // Random raw codes include NaN (and inf for F16/E5M2) in some chunks: the SIMD path must take its exact route there.
        var k = Get(name);
        int seed = FloatTestUtil.NewSeed();
        var r = new Random(seed);
        foreach (int n in new[] { 5, 16, 64, 100, 200, 300, 1000 })
        {
            for (int trial = 0; trial < 8; trial++)
            {
                var w = new byte[k.WeightRowBytes(n)];
                var xf = Enumerable.Range(0, n).Select(_ => FloatTestUtil.Gaussian(r)).ToArray();
                var a = new byte[k.ActivationRowBytes(n)];
                k.QuantizeActivation(xf, a);
                if (k.Format == WeightFormat.F16)
                {
                    Codec(k).Quantize(Enumerable.Range(0, n).Select(_ => FloatTestUtil.Gaussian(r)).ToArray(), w);
                    // one special at a random position, in weights or activations, on some trials
                    if (trial % 2 == 0)
                    {
                        ushort sp = trial % 4 == 0 ? (ushort)0x7C00 : (ushort)0xFE01;
                        // activations are F32 holding F16 values: the same special, widened
                        if (trial % 8 < 4) MemoryMarshal.Cast<byte, ushort>(w.AsSpan())[r.Next(n)] = sp;
                        else MemoryMarshal.Cast<byte, float>(a.AsSpan())[r.Next(n)] = (float)BitConverter.UInt16BitsToHalf(sp);
                    }
                }
                else
                {
                    Codec(k).Quantize(Enumerable.Range(0, n).Select(_ => FloatTestUtil.Gaussian(r)).ToArray(), w);
                    if (trial % 2 == 0) w[4 + r.Next(n)] = (byte)(k.Format == WeightFormat.Fp8E4M3 ? 0xFF : (trial % 4 == 0 ? 0x7C : 0x7D));
                }
                float reference = k.DotReference(w, a, n);
                float dot = k.Dot(w, a, n);
                if (float.IsNaN(reference)) Assert.True(float.IsNaN(dot), $"seed {seed} {name} n {n}: expected NaN, got {dot}");
                else if (float.IsInfinity(reference)) Assert.Equal(reference, dot);
                else
                {
                    double s = AbsSum(k, w, a, n);
                    Assert.True(Math.Abs(dot - reference) <= 1e-5 * s + 1e-30, $"seed {seed} {name} n {n}: dot {dot} reference {reference}");
                }
            }
        }
    }

    [Theory]
    [InlineData("fp8e4m3*f32")]
    [InlineData("fp8e5m2*f32")]
    public void Fp8_dot_equals_dot_of_dequantized_row(string name)
    {
        // First principles: value_i = decode(code_i) * scale, so Dot = sum value_i * x_i.
        var k = Get(name);
        int seed = FloatTestUtil.NewSeed();
        var r = new Random(seed);
        int n = 777;
        var (w, a, _) = Make(k, r, n);
        var f = k.Format == WeightFormat.Fp8E4M3 ? Fp8Format.E4M3 : Fp8Format.E5M2;
        float scale = BitConverter.ToSingle(w, 0);
        var x = MemoryMarshal.Cast<byte, float>(a.AsSpan());
        double want = 0, s = 0;
        for (int i = 0; i < n; i++)
        {
            double v = FirstPrinciples(w[4 + i], f) * scale;
            want += v * x[i];
            s += Math.Abs(v * x[i]);
        }
        Assert.True(Math.Abs(k.Dot(w, a, n) - want) <= 1e-5 * s, $"seed {seed}");
        Assert.True(Math.Abs(k.DotReference(w, a, n) - want) <= 1e-6 * s, $"seed {seed}");
    }

    private static double FirstPrinciples(byte b, Fp8Format f)
    {
        int mb = f == Fp8Format.E4M3 ? 3 : 2, bias = f == Fp8Format.E4M3 ? 7 : 15;
        int e = (b & 0x7F) >> mb, m = b & ((1 << mb) - 1);
        double v = e == 0 ? Math.ScaleB(m, 1 - bias - mb) : Math.ScaleB((1 << mb) + m, e - bias - mb);
        return (b & 0x80) != 0 ? -v : v;
    }
}
