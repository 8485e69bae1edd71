using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Kernels.Onnx;
using Quanta.Core.Simd;

namespace Quanta.Core.Tests.Kernels.Onnx;

/// <summary>Int8Gemm on every SIMD path against the int32 triple loop (exact), and the 7-bit activation quantizer.</summary>
[Trait("Category", "Kernels")]
public sealed class Int8GemmTests
{
    private static int[] Paths() => Enumerable.Range(0, 4).Where(Int8Gemm.Supports).ToArray();

    private static (byte[] A, int Lda, sbyte[] W) Operands(Random rng, int m, int n, int k, bool extremes = false)
    {
        int lda = Int8Gemm.PaddedK(k) + rng.Next(3);
        var a = new byte[Math.Max(1, m * lda)];
        rng.NextBytes(a); // bytes past k (padding) may be anything 0..255: they meet zero weights
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++) a[i * lda + p] = extremes ? (byte)127 : (byte)rng.Next(128);
        var w = new sbyte[n * k];
        for (int i = 0; i < w.Length; i++) w[i] = extremes ? (sbyte)(i % 2 == 0 ? -128 : 127) : (sbyte)rng.Next(-128, 128);
        return (a, lda, w);
    }

    private static void CheckInt(int seed, int path, int m, int n, int k, bool extremes = false)
    {
        var rng = new Random(seed);
        var (a, lda, w) = Operands(rng, m, n, k, extremes);
        var packed = new sbyte[Int8Gemm.PackedLength(n, k)];
        Int8Gemm.PackWeights(w, n, k, packed);
        int ldc = n + rng.Next(3);
        var expected = new int[m * ldc];
        var actual = new int[m * ldc];
        Array.Fill(actual, 12345);
        Int8Gemm.MultiplyReference(m, n, k, a, lda, w, expected, ldc);
        Int8Gemm.Multiply(path, m, n, k, a, lda, packed, actual, ldc);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc; j++)
            {
                int x = i * ldc + j;
                if (j >= n) Assert.True(actual[x] == 12345, $"seed {seed}: padding column {j} of row {i} was written");
                else Assert.True(actual[x] == expected[x], $"seed {seed} path {path} m={m} n={n} k={k}: C[{i},{j}] {actual[x]} vs reference {expected[x]}");
            }
    }

    [Fact]
    public void Every_path_equals_the_integer_reference_on_small_and_odd_shapes()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        foreach (int path in Paths())
        {
            for (int k = 0; k <= 300; k += 1 + rng.Next(4)) CheckInt(seed + k, path, rng.Next(1, 14), rng.Next(1, 70), k);
            for (int t = 0; t < 60; t++) CheckInt(seed + 1000 + t, path, rng.Next(1, 40), rng.Next(1, 80), rng.Next(0, 300));
        }
    }

    [Fact]
    public void Every_path_equals_the_reference_on_large_shapes_and_extreme_codes_without_saturation()
    {
        int seed = Environment.TickCount;
        foreach (int path in Paths())
        {
            CheckInt(seed, path, 100, 97, 1001);
            CheckInt(seed + 1, path, 197, 65, 2304);
            CheckInt(seed + 2, path, 1, 300, 3);
            // Every pair is 127·(−128) + 127·127: the largest-magnitude sums the contract allows, no int16 saturation.
            CheckInt(seed + 3, path, 13, 33, 4608, extremes: true);
        }
    }

    [Fact]
    public void Scaled_output_applies_the_per_column_affine_map_and_relu_with_any_strides()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        foreach (int path in Paths())
            for (int t = 0; t < 30; t++)
            {
                int m = rng.Next(1, 30), n = rng.Next(1, 50), k = rng.Next(1, 200);
                bool relu = rng.Next(2) == 1, transposed = rng.Next(2) == 1;
                var (a, lda, w) = Operands(rng, m, n, k);
                var packed = new sbyte[Int8Gemm.PackedLength(n, k)];
                Int8Gemm.PackWeights(w, n, k, packed);
                var scale = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 1e-3)).ToArray();
                var offset = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 20 - 10)).ToArray();
                var acc = new int[m * n];
                Int8Gemm.MultiplyReference(m, n, k, a, lda, w, acc, n);
                var y = new float[m * n];
                int rs = transposed ? 1 : n, cs = transposed ? m : 1;
                Int8Gemm.MultiplyScaled(path, m, n, k, a, lda, packed, scale, offset, relu, y, rs, cs);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                    {
                        // First principles: one float multiply and one float add, then ReLU.
                        float e = (float)acc[i * n + j] * scale[j];
                        e += offset[j];
                        if (relu && e < 0) e = 0;
                        Assert.True(y[i * rs + j * cs] == e, $"seed {seed} path {path} [{m},{n},{k}] relu={relu} transposed={transposed}: y[{i},{j}] {y[i * rs + j * cs]} vs {e}");
                    }
            }
    }

    [Fact]
    public void Dispatch_records_the_expected_path()
    {
        string? env = Environment.GetEnvironmentVariable("QUANTA_EXPECT_SIMD");
        SimdPath expected = string.IsNullOrEmpty(env) || env == "native"
            ? (Avx512BW.IsSupported && Vector512.IsHardwareAccelerated ? SimdPath.V512 : Avx2.IsSupported && Vector256.IsHardwareAccelerated ? SimdPath.V256
               : Ssse3.IsSupported && Vector128.IsHardwareAccelerated ? SimdPath.V128 : SimdPath.Scalar)
            : Enum.Parse<SimdPath>(env);
        if (expected == SimdPath.V128 && !Ssse3.IsSupported) expected = SimdPath.Scalar; // Arm64: no SSSE3 tile, scalar
        bool was = KernelPaths.Enabled;
        KernelPaths.Enabled = true;
        try
        {
            var packed = new sbyte[Int8Gemm.PackedLength(3, 5)];
            Int8Gemm.Multiply(2, 3, 5, new byte[16], 8, packed, new int[6], 3);
            Assert.Equal(expected, KernelPaths.Snapshot()["Int8Gemm"]);
        }
        finally
        {
            KernelPaths.Enabled = was;
        }
    }

    [Fact]
    public void Activation_codes_match_the_scalar_reference_and_first_principles()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        foreach (int len in Enumerable.Range(0, 301).Concat([1000, 4099]))
        {
            float scale = (float)(rng.NextDouble() * 0.1 + 1e-3);
            int zp = rng.Next(128);
            // Values within the range, outside it (clipped) and exactly on half steps (round half to even).
            var x = Enumerable.Range(0, len).Select(_ => rng.Next(4) switch
            {
                0 => (float)((rng.NextDouble() * 200 - 100) * scale),
                1 => (rng.Next(-140, 140) + 0.5f) * scale,
                _ => (float)((rng.NextDouble() * 127 - zp) * scale),
            }).ToArray();
            var fast = new byte[len];
            var reference = new byte[len];
            float inv = 1 / scale;
            Int8Activations.Quantize(x, inv, zp, fast);
            Int8Activations.QuantizeReference(x, inv, zp, reference);
            Assert.True(fast.AsSpan().SequenceEqual(reference), $"seed {seed} length {len}: vector codes differ from the reference");
            for (int i = 0; i < len; i++)
            {
                double exact = Math.Clamp(Math.Round((double)(x[i] * inv), MidpointRounding.ToEven) + zp, 0, 127);
                Assert.True(reference[i] == exact, $"seed {seed}: x={x[i]} scale={scale} zp={zp}: code {reference[i]} vs {exact}");
            }
        }
    }
}
