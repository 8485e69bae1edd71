using Quanta.Core.Simd;

namespace Quanta.Core.Tests.Ops;

/// <summary>Shared helpers for the ops tests: fresh seeds, random data, tolerance checks, expected SIMD path.</summary>
internal static class OpsTestUtil
{
    public static readonly int[] Lengths = BuildLengths();

    private static int[] BuildLengths()
    {
        var l = new List<int>();
        for (int n = 1; n <= 300; n++) l.Add(n);
        l.Add(1000); l.Add(4096); l.Add(11008);
        return l.ToArray();
    }

    public static int NewSeed() => Random.Shared.Next();

    public static float[] RandomArray(Random rng, int n, float lo = -4f, float hi = 4f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (float)rng.NextDouble() * (hi - lo);
        return a;
    }

    /// <summary>Asserts |a − e| ≤ abs + rel·|e| element-wise.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double abs, double rel, string msg)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            double tol = abs + rel * Math.Abs(e);
            if (!(Math.Abs(a - e) <= tol))
                Assert.Fail($"{msg}: element {i} expected {e:R} got {a:R} (tol {tol:G3})");
        }
    }

    public static void Identical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string msg)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{msg}: element {i} expected {expected[i]:R} got {actual[i]:R} (bits differ)");
    }

    /// <summary>The path the test run expects kernels to record (test.sh sets QUANTA_EXPECT_SIMD), else the widest.</summary>
    public static SimdPath ExpectedPath()
    {
        string? env = Environment.GetEnvironmentVariable("QUANTA_EXPECT_SIMD");
        if (string.IsNullOrEmpty(env) || env == "native") return SimdCapabilities.Widest;
        return Enum.Parse<SimdPath>(env);
    }
}
