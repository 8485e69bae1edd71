namespace Quanta.Core.Tests.Quantized;

/// <summary>Random rows for the K-quant tests: each 256-element super-block draws its own distribution.</summary>
internal static class KQuantTestData
{
    /// <summary>A fresh random seed, or QUANTA_TEST_SEED when set (to replay a failure: the tests print their seed).</summary>
    public static int NewSeed() =>
        Environment.GetEnvironmentVariable("QUANTA_TEST_SEED") is { Length: > 0 } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : Random.Shared.Next();

    public const int KindCount = 9;

    /// <summary>Fills one super-block (256 values) with distribution <paramref name="kind"/>.</summary>
    public static void FillBlock(Random rng, Span<float> x, int kind)
    {
        switch (kind)
        {
            case 0: // normal
                for (int i = 0; i < x.Length; i++) x[i] = Normal(rng);
                break;
            case 1: // uniform, random offset (exercises the mins)
                {
                    float off = (float)(rng.NextDouble() * 4 - 2);
                    for (int i = 0; i < x.Length; i++) x[i] = off + (float)(rng.NextDouble() * 2 - 1);
                    break;
                }
            case 2: // normal with a few large outliers
                for (int i = 0; i < x.Length; i++) x[i] = Normal(rng) * 0.05f;
                for (int k = 0; k < 4; k++) x[rng.Next(x.Length)] = (rng.Next(2) == 0 ? -1 : 1) * (float)(5 + rng.NextDouble() * 50);
                break;
            case 3: // all zero
                x.Clear();
                break;
            case 4: // constant
                x.Fill((float)(rng.NextDouble() * 6 - 3));
                break;
            case 5: // tiny magnitudes
                {
                    float s = MathF.Pow(10, -(float)(rng.NextDouble() * 12 + 4));
                    for (int i = 0; i < x.Length; i++) x[i] = Normal(rng) * s;
                    break;
                }
            case 6: // large magnitudes
                for (int i = 0; i < x.Length; i++) x[i] = Normal(rng) * 3000f;
                break;
            case 7: // all positive / one sign, some zero 16-groups
                for (int i = 0; i < x.Length; i++) x[i] = (i / 16) % 3 == 0 ? 0f : MathF.Abs(Normal(rng));
                break;
            default: // small integers (many ties in the rounding)
                for (int i = 0; i < x.Length; i++) x[i] = rng.Next(-8, 8) * 0.25f;
                break;
        }
    }

    /// <summary>A row of <paramref name="blocks"/> super-blocks with mixed distributions.</summary>
    public static float[] Row(Random rng, int blocks)
    {
        var x = new float[blocks * 256];
        for (int b = 0; b < blocks; b++) FillBlock(rng, x.AsSpan(b * 256, 256), rng.Next(KindCount));
        return x;
    }

    /// <summary>A row where every super-block has distribution <paramref name="kind"/>.</summary>
    public static float[] Row(Random rng, int blocks, int kind)
    {
        var x = new float[blocks * 256];
        for (int b = 0; b < blocks; b++) FillBlock(rng, x.AsSpan(b * 256, 256), kind);
        return x;
    }

    public static float Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    /// <summary>Index of the first float whose bits differ, or -1.</summary>
    public static int FirstBitDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        for (int i = 0; i < a.Length; i++)
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i])) return i;
        return -1;
    }

    public static int FirstByteDiff(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return i;
        return -1;
    }

    /// <summary>Lengths in super-blocks the tests sweep: 1..12 and a few large ones.</summary>
    public static readonly int[] Blocks = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 56, 64];
}
