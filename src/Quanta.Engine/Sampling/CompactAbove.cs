using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Quanta.Engine.Sampling;

/// <summary>
/// Gathers every index i with x[i] ≥ threshold, in increasing i, as <see cref="Candidate"/>s (Key = Logit = x[i]).
/// NaN never passes. Returns the count written. Shapes: x is [n]; output is [n] (worst case).
/// The vector paths compare a whole vector and visit only the set bits, so a selective threshold costs about
/// one vectorized read of x. SIMD and scalar give identical output.
/// </summary>
internal static class CompactAbove
{
    /// <summary>SIMD dispatch: Vector512 → Vector256 → Vector128 → scalar.</summary>
    public static int Run(ReadOnlySpan<float> x, float threshold, Span<Candidate> output)
    {
        int n = x.Length;
        if (output.Length < n) throw new ArgumentException("Output is shorter than input.", nameof(output));
        ref float xs = ref MemoryMarshal.GetReference(x);
        int i = 0, m = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var t = Vector512.Create(threshold);
            for (; i <= n - 16; i += 16)
            {
                ulong bits = Vector512.GreaterThanOrEqual(Vector512.LoadUnsafe(ref xs, (nuint)i), t).ExtractMostSignificantBits();
                while (bits != 0)
                {
                    int j = i + BitOperations.TrailingZeroCount(bits);
                    output[m++] = new Candidate(j, x[j]);
                    bits &= bits - 1;
                }
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var t = Vector256.Create(threshold);
            for (; i <= n - 8; i += 8)
            {
                uint bits = Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref xs, (nuint)i), t).ExtractMostSignificantBits();
                while (bits != 0)
                {
                    int j = i + BitOperations.TrailingZeroCount(bits);
                    output[m++] = new Candidate(j, x[j]);
                    bits &= bits - 1;
                }
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var t = Vector128.Create(threshold);
            for (; i <= n - 4; i += 4)
            {
                uint bits = Vector128.GreaterThanOrEqual(Vector128.LoadUnsafe(ref xs, (nuint)i), t).ExtractMostSignificantBits();
                while (bits != 0)
                {
                    int j = i + BitOperations.TrailingZeroCount(bits);
                    output[m++] = new Candidate(j, x[j]);
                    bits &= bits - 1;
                }
            }
        }
        for (; i < n; i++) if (x[i] >= threshold) output[m++] = new Candidate(i, x[i]);
        return m;
    }

    /// <summary>Scalar reference: one sequential pass.</summary>
    public static int RunReference(ReadOnlySpan<float> x, float threshold, Span<Candidate> output)
    {
        if (output.Length < x.Length) throw new ArgumentException("Output is shorter than input.", nameof(output));
        int m = 0;
        for (int i = 0; i < x.Length; i++) if (x[i] >= threshold) output[m++] = new Candidate(i, x[i]);
        return m;
    }
}
