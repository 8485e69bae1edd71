using Quanta.Core.Simd;

namespace Quanta.Core.Tests.Float;

/// <summary>Random data with specials, fresh seeds, and the SIMD-path assertion for the float format tests.</summary>
internal static class FloatTestUtil
{
    /// <summary>A new seed each run (reported in assertion messages).</summary>
    public static int NewSeed() => Random.Shared.Next();

    /// <summary>The path the runner expects (QUANTA_EXPECT_SIMD: native/V512/V256/V128/Scalar), else the widest.</summary>
    public static SimdPath ExpectedPath()
    {
        string? e = Environment.GetEnvironmentVariable("QUANTA_EXPECT_SIMD");
        return string.IsNullOrEmpty(e) || e == "native" ? SimdCapabilities.Widest : Enum.Parse<SimdPath>(e);
    }

    /// <summary>Runs <paramref name="run"/> with recording on and asserts that <paramref name="kernel"/> took the expected path.
    /// Retries a few times because other tests may clear the shared recorder concurrently.</summary>
    public static void AssertPath(string kernel, Action run)
    {
        for (int attempt = 0; attempt < 5; attempt++)
        {
            KernelPaths.Enabled = true;
            run();
            if (KernelPaths.Snapshot().TryGetValue(kernel, out SimdPath p))
            {
                Assert.Equal(ExpectedPath(), p);
                return;
            }
        }
        Assert.Fail($"kernel {kernel} recorded no path");
    }

    /// <summary>Finite values of widely varying magnitude (uniform mantissa, exponent in [minExp, maxExp]), random sign.</summary>
    public static float WideValue(Random r, int minExp, int maxExp) =>
        (float)((r.Next(2) == 0 ? -1 : 1) * (1 + r.NextDouble()) * Math.ScaleB(1, r.Next(minExp, maxExp + 1)));

    /// <summary>Values typical of weights and activations: roughly normal, scale about 1.</summary>
    public static float Gaussian(Random r)
    {
        double u1 = 1 - r.NextDouble(), u2 = r.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    /// <summary>F32 specials: zeros, infinities, several NaNs (quiet/signalling, both signs, payloads), F32 subnormals, extremes.</summary>
    public static readonly uint[] SpecialBits =
    [
        0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001,
        0x7FA00000, 0x7FFFFFFF, 0xFFFFFFFF, 0x7F812345, 0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF,
        0x00400000, 0x7F7FFFFF, 0xFF7FFFFF, 0x00800000, 0x3F800000, 0xBF800000,
    ];

    /// <summary>Random F32 data: a mix of specials, raw random bit patterns, wide-range and small-range values.</summary>
    public static float[] MixedFloats(Random r, int n) => Generate(r, n, static g => g.Next(6) switch
    {
        0 => BitConverter.UInt32BitsToSingle(SpecialBits[g.Next(SpecialBits.Length)]),
        1 => BitConverter.UInt32BitsToSingle((uint)g.NextInt64(0, 1L << 32)),
        2 => WideValue(g, -30, 20),
        3 => WideValue(g, -150, 127),
        _ => Gaussian(g),
    });

    /// <summary><paramref name="n"/> values, each drawn by <paramref name="one"/> from <paramref name="r"/>.</summary>
    public static float[] Generate(Random r, int n, Func<Random, float> one)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = one(r);
        return a;
    }
}
