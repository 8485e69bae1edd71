using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Attention;

/// <summary>
/// IEEE binary16 (<see cref="Half"/>) to F32, vectorized with integer bit manipulation (works on any SIMD ISA):
/// normals rebias the exponent, subnormals are converted as integer·2⁻²⁴, Inf/NaN keep an all-ones exponent.
/// Exact: equals <c>(float)h</c> bit for bit for every non-NaN input (NaNs stay NaN).
/// </summary>
public static class HalfConversion
{
    /// <summary>Kernel name used with <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "f16_to_f32";

    /// <summary>dst[i] = (float)src[i] (SIMD dispatch).</summary>
    public static void ToSingle(ReadOnlySpan<Half> src, Span<float> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("Output is shorter than input.", nameof(dst));
        KernelPaths.Record(KernelName, SimdCapabilities.Widest);
        ToSingleUnchecked(ref Unsafe.As<Half, ushort>(ref MemoryMarshal.GetReference(src)), ref MemoryMarshal.GetReference(dst), src.Length);
    }

    internal static void ToSingleUnchecked(ref ushort src, ref float dst, int n)
    {
        ref uint d = ref Unsafe.As<float, uint>(ref dst);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 32; i += 32)
            {
                var h = Vector512.LoadUnsafe(ref src, (nuint)i);
                Convert(Vector512.WidenLower(h)).StoreUnsafe(ref d, (nuint)i);
                Convert(Vector512.WidenUpper(h)).StoreUnsafe(ref d, (nuint)(i + 16));
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
            {
                var h = Vector256.LoadUnsafe(ref src, (nuint)i);
                Convert(Vector256.WidenLower(h)).StoreUnsafe(ref d, (nuint)i);
                Convert(Vector256.WidenUpper(h)).StoreUnsafe(ref d, (nuint)(i + 8));
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
            {
                var h = Vector128.LoadUnsafe(ref src, (nuint)i);
                Convert(Vector128.WidenLower(h)).StoreUnsafe(ref d, (nuint)i);
                Convert(Vector128.WidenUpper(h)).StoreUnsafe(ref d, (nuint)(i + 4));
            }
        for (; i < n; i++) Unsafe.Add(ref dst, i) = (float)BitConverter.UInt16BitsToHalf(Unsafe.Add(ref src, i));
    }

    private const uint SignMask = 0x8000, ExpMantMask = 0x7FFF, ExpMask = 0x7C00;
    private const uint NormalBias = (127 - 15) << 23;   // 0x38000000
    private const uint InfNanBias = (255 - 31) << 23;   // 0x70000000
    private const float Subnormal = 1f / (1 << 24);     // 2^-24

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Convert(Vector512<uint> h)
    {
        var em = h & Vector512.Create(ExpMantMask);
        var e = em & Vector512.Create(ExpMask);
        var shifted = em << 13;
        var normal = shifted + Vector512.Create(NormalBias);
        var infNan = shifted + Vector512.Create(InfNanBias);
        var sub = (Vector512.ConvertToSingle(em) * Vector512.Create(Subnormal)).AsUInt32();
        var r = Vector512.ConditionalSelect(Vector512.Equals(e, Vector512.Create(ExpMask)), infNan,
                Vector512.ConditionalSelect(Vector512.Equals(e, Vector512<uint>.Zero), sub, normal));
        return r | ((h & Vector512.Create(SignMask)) << 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Convert(Vector256<uint> h)
    {
        var em = h & Vector256.Create(ExpMantMask);
        var e = em & Vector256.Create(ExpMask);
        var shifted = em << 13;
        var normal = shifted + Vector256.Create(NormalBias);
        var infNan = shifted + Vector256.Create(InfNanBias);
        var sub = (Vector256.ConvertToSingle(em) * Vector256.Create(Subnormal)).AsUInt32();
        var r = Vector256.ConditionalSelect(Vector256.Equals(e, Vector256.Create(ExpMask)), infNan,
                Vector256.ConditionalSelect(Vector256.Equals(e, Vector256<uint>.Zero), sub, normal));
        return r | ((h & Vector256.Create(SignMask)) << 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Convert(Vector128<uint> h)
    {
        var em = h & Vector128.Create(ExpMantMask);
        var e = em & Vector128.Create(ExpMask);
        var shifted = em << 13;
        var normal = shifted + Vector128.Create(NormalBias);
        var infNan = shifted + Vector128.Create(InfNanBias);
        var sub = (Vector128.ConvertToSingle(em) * Vector128.Create(Subnormal)).AsUInt32();
        var r = Vector128.ConditionalSelect(Vector128.Equals(e, Vector128.Create(ExpMask)), infNan,
                Vector128.ConditionalSelect(Vector128.Equals(e, Vector128<uint>.Zero), sub, normal));
        return r | ((h & Vector128.Create(SignMask)) << 16);
    }

    /// <summary>Scalar reference: the runtime's (float)Half conversion.</summary>
    public static void ToSingleReference(ReadOnlySpan<Half> src, Span<float> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("Output is shorter than input.", nameof(dst));
        for (int i = 0; i < src.Length; i++) dst[i] = (float)src[i];
    }
}
