namespace Quanta.Core.Tests.Integer;

/// <summary>Random inputs for the integer format tests; every test draws a fresh seed and names it in messages.</summary>
internal static class TestData
{
    public static int NewSeed() => Random.Shared.Next();

    /// <summary>Values with a spread of magnitudes per row, occasional exact zeros and outliers.</summary>
    public static float[] Weights(Random rng, int count, float magnitude = 1f)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++)
        {
            double v = (rng.NextDouble() * 2 - 1) * magnitude;
            int kind = rng.Next(40);
            if (kind == 0) v = 0;
            else if (kind == 1) v *= 8; // outlier
            x[i] = (float)v;
        }
        return x;
    }

    /// <summary>Activations: gaussian-ish with per-block magnitude changes, some all-zero blocks.</summary>
    public static float[] Activations(Random rng, int count)
    {
        var x = new float[count];
        for (int b = 0; b < count; b += 32)
        {
            double mag = Math.Pow(10, rng.NextDouble() * 4 - 2);
            bool zero = rng.Next(50) == 0;
            for (int i = b; i < Math.Min(count, b + 32); i++)
                x[i] = zero ? 0f : (float)((rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5) * mag);
        }
        return x;
    }

    /// <summary>The SIMD path the dispatcher of an integer kernel must take in this process: QUANTA_EXPECT_SIMD
    /// (set by test.sh: native, V256, V128, Scalar) or, when unset, what the ISA flags say.</summary>
    public static Simd.SimdPath ExpectedIntegerPath()
    {
        string? env = Environment.GetEnvironmentVariable("QUANTA_EXPECT_SIMD");
        Simd.SimdPath fromFlags =
            System.Runtime.Intrinsics.X86.Avx512BW.IsSupported && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? Simd.SimdPath.V512 :
            System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? Simd.SimdPath.V256 :
            System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? Simd.SimdPath.V128 : Simd.SimdPath.Scalar;
        if (string.IsNullOrEmpty(env) || env == "native") return fromFlags;
        return Enum.Parse<Simd.SimdPath>(env);
    }
}
