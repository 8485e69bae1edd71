namespace Quanta.Core.Tests.Quantized;

/// <summary>Fresh random rows for the legacy block format tests (new seed every run; the seed goes into messages).</summary>
internal static class LegacyTestData
{
    public enum Dist { Normal, Uniform, Outliers, ZeroBlocks, ConstantBlocks, MixedScales, HalfTies, Tiny }

    public static readonly Dist[] All = Enum.GetValues<Dist>();

    /// <summary>Distributions whose block scales stay well inside fp16's normal range (for error bounds).</summary>
    public static readonly Dist[] Regular = [Dist.Normal, Dist.Uniform, Dist.Outliers, Dist.ZeroBlocks, Dist.ConstantBlocks, Dist.MixedScales, Dist.HalfTies];

    public static int NewSeed() => Random.Shared.Next();

    public static float Normal(Random r)
    {
        double u1 = 1.0 - r.NextDouble(), u2 = r.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    public static float[] Make(Random r, Dist dist, int n)
    {
        var x = new float[n];
        float sigma = (float)Math.Pow(10, r.NextDouble() * 3 - 2); // 0.01 .. 10
        for (int b = 0; b < n / 32; b++)
        {
            Span<float> blk = x.AsSpan(b * 32, 32);
            switch (dist)
            {
                case Dist.Normal:
                    for (int j = 0; j < 32; j++) blk[j] = sigma * Normal(r);
                    break;
                case Dist.Uniform:
                    for (int j = 0; j < 32; j++) blk[j] = sigma * (float)(r.NextDouble() * 2 - 1);
                    break;
                case Dist.Outliers:
                    for (int j = 0; j < 32; j++) blk[j] = sigma * Normal(r) * (r.Next(40) == 0 ? 50 + r.Next(450) : 1);
                    break;
                case Dist.ZeroBlocks:
                    if (r.Next(2) == 0) blk.Clear();
                    else for (int j = 0; j < 32; j++) blk[j] = sigma * Normal(r);
                    break;
                case Dist.ConstantBlocks:
                    {
                        float c = r.Next(5) == 0 ? 0f : sigma * Normal(r);
                        blk.Fill(c);
                        break;
                    }
                case Dist.MixedScales:
                    {
                        float s = (float)Math.Pow(10, r.NextDouble() * 7 - 5); // 1e-5 .. 100
                        for (int j = 0; j < 32; j++) blk[j] = s * Normal(r);
                        break;
                    }
                case Dist.HalfTies:
                    {
                        // amax = 127 makes both 127/amax and 1/(amax/127) exactly 1, so x*id lands on exact
                        // .5 ties: round-half-even (CPU path) and round-half-away (reference) then differ.
                        for (int j = 0; j < 32; j++) blk[j] = r.Next(-126, 126) + 0.5f;
                        blk[r.Next(32)] = r.Next(2) == 0 ? 127f : -127f;
                        break;
                    }
                case Dist.Tiny:
                    {
                        // subnormal and near-subnormal blocks: fp16 scales underflow, 127/amax can overflow
                        float s = (float)Math.Pow(10, -(36 + r.NextDouble() * 9)); // 1e-36 .. 1e-45
                        for (int j = 0; j < 32; j++) blk[j] = s * Normal(r);
                        break;
                    }
            }
        }
        return x;
    }

    /// <summary>Block counts 1..limit plus a few large ones.</summary>
    public static IEnumerable<int> BlockCounts(int limit, int step = 1)
    {
        for (int nb = 1; nb <= limit; nb += nb < 40 ? 1 : step) yield return nb;
        yield return 128;   // 4096
        yield return 256;   // 8192
        yield return 448;   // 14336
    }

    /// <summary>Index of the first differing byte, or -1.</summary>
    public static int FirstDiff(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++) if (a[i] != b[i]) return i;
        return a.Length == b.Length ? -1 : n;
    }

    /// <summary>Index of the first float whose bits differ, or -1.</summary>
    public static int FirstDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++) if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i])) return i;
        return a.Length == b.Length ? -1 : n;
    }
}
