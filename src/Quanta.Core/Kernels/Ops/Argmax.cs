using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// Index of the largest element (greedy sampling). Ties resolve to the lowest index; NaN elements are ignored
/// unless all are NaN (then 0). Returns −1 for an empty span. SIMD and scalar give the same index.
/// </summary>
public static class Argmax
{
    /// <summary>Kernel name used with <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "argmax";

    /// <summary>
    /// SIMD dispatch: the maximum, then a vectorized search for its first occurrence. With AVX the maximum pass is the
    /// bare 256-bit vmaxps over four independent accumulators started at −∞, the new vector as the first operand (it
    /// returns the accumulator when the new value is NaN or equal), instead of one chain of the IEEE <c>MaxNumber</c>:
    /// greedy sampling's 32,000-logit rows run 1.1-2.5x faster from cache (512-bit accumulators measured no faster on
    /// Zen 4). A row whose maximum is −∞ (only −∞ and NaN) takes <see cref="FindTwoPass"/>, which handles every case.
    /// </summary>
    public static int Find(ReadOnlySpan<float> x)
    {
        KernelPaths.Record(KernelName, SimdCapabilities.Widest);
        int n = x.Length;
        float max;
        if (Avx.IsSupported && Vector256.IsHardwareAccelerated && n >= 4 * Vector256<float>.Count) max = Max256(x);
        else return FindTwoPass(x);
        return max > float.NegativeInfinity ? FirstEqual(x, max) : FindTwoPass(x);
    }

    private static float Max256(ReadOnlySpan<float> x)
    {
        int n = x.Length;
        ref float xs = ref MemoryMarshal.GetReference(x);
        var a0 = Vector256.Create(float.NegativeInfinity);
        Vector256<float> a1 = a0, a2 = a0, a3 = a0;
        const int W = 8;
        int i = 0;
        for (; i <= n - 4 * W; i += 4 * W)
        {
            a0 = Avx.Max(Vector256.LoadUnsafe(ref xs, (nuint)i), a0);
            a1 = Avx.Max(Vector256.LoadUnsafe(ref xs, (nuint)(i + W)), a1);
            a2 = Avx.Max(Vector256.LoadUnsafe(ref xs, (nuint)(i + 2 * W)), a2);
            a3 = Avx.Max(Vector256.LoadUnsafe(ref xs, (nuint)(i + 3 * W)), a3);
        }
        for (; i <= n - W; i += W) a0 = Avx.Max(Vector256.LoadUnsafe(ref xs, (nuint)i), a0);
        return LanesAndTail(x, i, Avx.Max(Avx.Max(a1, a0), Avx.Max(a3, a2)));
    }

    /// <summary>The largest of the 8 lanes (never NaN) and of x[i..] (NaN skipped); −∞ when there is none.</summary>
    private static float LanesAndTail(ReadOnlySpan<float> x, int i, Vector256<float> lanes)
    {
        float max = float.NegativeInfinity;
        for (int k = 0; k < Vector256<float>.Count; k++) if (lanes[k] > max) max = lanes[k];
        for (; i < x.Length; i++) if (x[i] > max) max = x[i];
        return max;
    }

    /// <summary>Vectorized <c>MaxNumber</c>, then a vectorized search for its first occurrence (any length, any values).</summary>
    internal static int FindTwoPass(ReadOnlySpan<float> x)
    {
        int n = x.Length;
        if (n == 0) return -1;
        float max = MaxIgnoringNaN(x);
        if (float.IsNaN(max)) return 0;
        return FirstEqual(x, max);
    }

    /// <summary>The first index holding <paramref name="max"/> (== comparison: +0 and −0 match each other); x holds it.</summary>
    private static int FirstEqual(ReadOnlySpan<float> x, float max)
    {
        int n = x.Length;
        ref float xs = ref MemoryMarshal.GetReference(x);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(max);
            for (; i <= n - 16; i += 16)
            {
                ulong bits = Vector512.Equals(Vector512.LoadUnsafe(ref xs, (nuint)i), m).ExtractMostSignificantBits();
                if (bits != 0) return i + System.Numerics.BitOperations.TrailingZeroCount(bits);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(max);
            for (; i <= n - 8; i += 8)
            {
                uint bits = Vector256.Equals(Vector256.LoadUnsafe(ref xs, (nuint)i), m).ExtractMostSignificantBits();
                if (bits != 0) return i + System.Numerics.BitOperations.TrailingZeroCount(bits);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var m = Vector128.Create(max);
            for (; i <= n - 4; i += 4)
            {
                uint bits = Vector128.Equals(Vector128.LoadUnsafe(ref xs, (nuint)i), m).ExtractMostSignificantBits();
                if (bits != 0) return i + System.Numerics.BitOperations.TrailingZeroCount(bits);
            }
        }
        for (; i < n; i++) if (x[i] == max) return i;
        return 0; // unreachable: max came from x
    }

    private static float MaxIgnoringNaN(ReadOnlySpan<float> x)
    {
        int n = x.Length;
        ref float xs = ref MemoryMarshal.GetReference(x);
        int i = 0;
        float best = float.NaN;
        // MaxNumber returns the non-NaN operand, so NaN lanes never win.
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc = Vector512.Create(float.NaN);
            for (; i <= n - 16; i += 16) acc = Vector512.MaxNumber(acc, Vector512.LoadUnsafe(ref xs, (nuint)i));
            for (int k = 0; k < 16; k++) best = MaxNumber(best, acc[k]);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= 8)
        {
            var acc = Vector256.Create(float.NaN);
            for (; i <= n - 8; i += 8) acc = Vector256.MaxNumber(acc, Vector256.LoadUnsafe(ref xs, (nuint)i));
            for (int k = 0; k < 8; k++) best = MaxNumber(best, acc[k]);
        }
        if (Vector128.IsHardwareAccelerated && n - i >= 4)
        {
            var acc = Vector128.Create(float.NaN);
            for (; i <= n - 4; i += 4) acc = Vector128.MaxNumber(acc, Vector128.LoadUnsafe(ref xs, (nuint)i));
            for (int k = 0; k < 4; k++) best = MaxNumber(best, acc[k]);
        }
        for (; i < n; i++) best = MaxNumber(best, x[i]);
        return best;
    }

    private static float MaxNumber(float a, float b) => float.IsNaN(a) ? b : float.IsNaN(b) ? a : MathF.Max(a, b);

    /// <summary>Scalar reference: one sequential pass, strict &gt; so the first maximum wins, NaN skipped.</summary>
    public static int FindReference(ReadOnlySpan<float> x)
    {
        if (x.Length == 0) return -1;
        int best = -1;
        for (int i = 0; i < x.Length; i++)
        {
            if (float.IsNaN(x[i])) continue;
            if (best < 0 || x[i] > x[best]) best = i;
        }
        return best < 0 ? 0 : best;
    }
}
