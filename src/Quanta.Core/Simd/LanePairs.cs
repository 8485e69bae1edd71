using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Quanta.Core.Simd;

/// <summary>
/// The fixed pairwise reduction tree the AVX-512 kernels share, so every kernel that promises a given summation order
/// (batch invariance, bit-identity with a Dot) forms it the same way. Callers check <see cref="Avx512F.IsSupported"/>.
/// </summary>
internal static class LanePairs
{
    /// <summary>Adjacent-lane sums a_2j + a_2j+1 in lanes 0..7, then b_2j + b_2j+1 in lanes 8..15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Pair(Vector512<float> a, Vector512<float> b)
    {
        Vector512<int> even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        return Avx512F.PermuteVar16x32x2(a, even, b) + Avx512F.PermuteVar16x32x2(a, even + Vector512<int>.One, b);
    }

    /// <summary>Adjacent-lane sums a_2j + a_2j+1 in lanes 0..7, then b_2j + b_2j+1 in lanes 8..15 (exact int32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Pair(Vector512<int> a, Vector512<int> b)
    {
        Vector512<int> even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        return Avx512F.PermuteVar16x32x2(a, even, b) + Avx512F.PermuteVar16x32x2(a, even + Vector512<int>.One, b);
    }

    /// <summary>
    /// Lane j = the 16 lanes of vector j (16 consecutive vectors at <paramref name="v"/>) summed by the tree
    /// ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)) … over four levels of <see cref="Pair(Vector512{float}, Vector512{float})"/>:
    /// the same tree for every vector, computed for all 16 at once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sum16(ref float v)
    {
        Vector512<float> l0 = Pair(Vector512.LoadUnsafe(ref v, 0), Vector512.LoadUnsafe(ref v, 16));
        Vector512<float> l1 = Pair(Vector512.LoadUnsafe(ref v, 32), Vector512.LoadUnsafe(ref v, 48));
        Vector512<float> l2 = Pair(Vector512.LoadUnsafe(ref v, 64), Vector512.LoadUnsafe(ref v, 80));
        Vector512<float> l3 = Pair(Vector512.LoadUnsafe(ref v, 96), Vector512.LoadUnsafe(ref v, 112));
        Vector512<float> l4 = Pair(Vector512.LoadUnsafe(ref v, 128), Vector512.LoadUnsafe(ref v, 144));
        Vector512<float> l5 = Pair(Vector512.LoadUnsafe(ref v, 160), Vector512.LoadUnsafe(ref v, 176));
        Vector512<float> l6 = Pair(Vector512.LoadUnsafe(ref v, 192), Vector512.LoadUnsafe(ref v, 208));
        Vector512<float> l7 = Pair(Vector512.LoadUnsafe(ref v, 224), Vector512.LoadUnsafe(ref v, 240));
        Vector512<float> m0 = Pair(l0, l1), m1 = Pair(l2, l3), m2 = Pair(l4, l5), m3 = Pair(l6, l7);
        return Pair(Pair(m0, m1), Pair(m2, m3));
    }
}
