using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Formats.Float;

/// <summary>
/// What a 16-bit float format (F16, BF16) supplies to the shared row skeleton in <see cref="HalfWidthRows"/>:
/// scalar references, one vector decode/encode per width and the kernel names recorded in <see cref="KernelPaths"/>.
/// Implemented by empty structs so the JIT compiles one specialized copy of each generic row loop per format and
/// inlines these static members into it (no interface call per element or per vector).
/// </summary>
internal interface IHalfWidthFormat
{
    /// <summary>Kernel name recorded by the 16-bit -> F32 row conversion.</summary>
    static abstract string ToSingleName { get; }

    /// <summary>Kernel name recorded by the F32 -> 16-bit row conversion.</summary>
    static abstract string FromSingleName { get; }

    /// <summary>Scalar reference: 16-bit code to F32.</summary>
    static abstract float ToSingle(ushort h);

    /// <summary>Scalar reference: F32 to 16-bit code.</summary>
    static abstract ushort FromSingle(float value);

    /// <summary>Decodes the lower (<paramref name="upper"/> false) or upper half of the 32 codes in <paramref name="h"/>
    /// to 16 F32 lanes; bit-identical to <see cref="ToSingle"/> per lane.</summary>
    static abstract Vector512<float> Decode512(Vector512<ushort> h, bool upper);

    /// <summary>As <see cref="Decode512"/> for 16 codes to 8 lanes.</summary>
    static abstract Vector256<float> Decode256(Vector256<ushort> h, bool upper);

    /// <summary>As <see cref="Decode512"/> for 8 codes to 4 lanes.</summary>
    static abstract Vector128<float> Decode128(Vector128<ushort> h, bool upper);

    /// <summary>F32 to 16-bit codes in the low 16 bits of each lane; bit-identical to <see cref="FromSingle"/> per lane.</summary>
    static abstract Vector512<uint> Encode512(Vector512<float> f);

    /// <summary>As <see cref="Encode512"/> for 8 lanes.</summary>
    static abstract Vector256<uint> Encode256(Vector256<float> f);

    /// <summary>As <see cref="Encode512"/> for 4 lanes.</summary>
    static abstract Vector128<uint> Encode128(Vector128<float> f);
}

/// <summary>
/// The row conversions shared by every 16-bit float format: argument checks, path recording and the
/// Vector512 -> Vector256 -> Vector128 -> scalar loops, written once over a format <typeparamref name="TFormat"/>
/// (an <see cref="IHalfWidthFormat"/> struct; the JIT specializes each method per format). Each narrower width
/// takes the elements the wider one left, then a scalar tail, so every length runs through the widest loop it can.
/// </summary>
internal static class HalfWidthRows
{
    /// <summary>Scalar reference row: <paramref name="dst"/>[i] = ToSingle(<paramref name="src"/>[i]).</summary>
    public static void ToSingleReference<TFormat>(ReadOnlySpan<ushort> src, Span<float> dst) where TFormat : struct, IHalfWidthFormat
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination shorter than source", nameof(dst));
        for (int i = 0; i < src.Length; i++) dst[i] = TFormat.ToSingle(src[i]);
    }

    /// <summary>Scalar reference row: <paramref name="dst"/>[i] = FromSingle(<paramref name="src"/>[i]).</summary>
    public static void FromSingleReference<TFormat>(ReadOnlySpan<float> src, Span<ushort> dst) where TFormat : struct, IHalfWidthFormat
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination shorter than source", nameof(dst));
        for (int i = 0; i < src.Length; i++) dst[i] = TFormat.FromSingle(src[i]);
    }

    /// <summary>Vectorized 16-bit -> F32 over <paramref name="src"/>.Length elements; records the widest path.</summary>
    public static void ToSingle<TFormat>(ReadOnlySpan<ushort> src, Span<float> dst) where TFormat : struct, IHalfWidthFormat
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination shorter than source", nameof(dst));
        KernelPaths.Record(TFormat.ToSingleName, SimdCapabilities.Widest);
        ToSingleUnchecked<TFormat>(ref MemoryMarshal.GetReference(src), ref MemoryMarshal.GetReference(dst), src.Length);
    }

    /// <summary>Vectorized F32 -> 16-bit over <paramref name="src"/>.Length elements; records the widest path.</summary>
    public static void FromSingle<TFormat>(ReadOnlySpan<float> src, Span<ushort> dst) where TFormat : struct, IHalfWidthFormat
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination shorter than source", nameof(dst));
        KernelPaths.Record(TFormat.FromSingleName, SimdCapabilities.Widest);
        FromSingleUnchecked<TFormat>(ref MemoryMarshal.GetReference(src), ref MemoryMarshal.GetReference(dst), src.Length);
    }

    /// <summary><paramref name="dst"/>[0..n) = ToSingle(<paramref name="src"/>[0..n)), no checks, no recording.</summary>
    public static void ToSingleUnchecked<TFormat>(ref ushort src, ref float dst, int n) where TFormat : struct, IHalfWidthFormat
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 32 <= n; i += 32)
            {
                var h = Vector512.LoadUnsafe(ref src, (nuint)i);
                TFormat.Decode512(h, upper: false).StoreUnsafe(ref dst, (nuint)i);
                TFormat.Decode512(h, upper: true).StoreUnsafe(ref dst, (nuint)(i + 16));
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
            {
                var h = Vector256.LoadUnsafe(ref src, (nuint)i);
                TFormat.Decode256(h, upper: false).StoreUnsafe(ref dst, (nuint)i);
                TFormat.Decode256(h, upper: true).StoreUnsafe(ref dst, (nuint)(i + 8));
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
            {
                var h = Vector128.LoadUnsafe(ref src, (nuint)i);
                TFormat.Decode128(h, upper: false).StoreUnsafe(ref dst, (nuint)i);
                TFormat.Decode128(h, upper: true).StoreUnsafe(ref dst, (nuint)(i + 4));
            }
        for (; i < n; i++) Unsafe.Add(ref dst, i) = TFormat.ToSingle(Unsafe.Add(ref src, i));
    }

    /// <summary><paramref name="dst"/>[0..n) = FromSingle(<paramref name="src"/>[0..n)), no checks, no recording.</summary>
    public static void FromSingleUnchecked<TFormat>(ref float src, ref ushort dst, int n) where TFormat : struct, IHalfWidthFormat
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 32 <= n; i += 32)
                Vector512.Narrow(TFormat.Encode512(Vector512.LoadUnsafe(ref src, (nuint)i)), TFormat.Encode512(Vector512.LoadUnsafe(ref src, (nuint)(i + 16))))
                    .StoreUnsafe(ref dst, (nuint)i);
        if (Vector256.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
                Vector256.Narrow(TFormat.Encode256(Vector256.LoadUnsafe(ref src, (nuint)i)), TFormat.Encode256(Vector256.LoadUnsafe(ref src, (nuint)(i + 8))))
                    .StoreUnsafe(ref dst, (nuint)i);
        if (Vector128.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
                Vector128.Narrow(TFormat.Encode128(Vector128.LoadUnsafe(ref src, (nuint)i)), TFormat.Encode128(Vector128.LoadUnsafe(ref src, (nuint)(i + 4))))
                    .StoreUnsafe(ref dst, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref dst, i) = TFormat.FromSingle(Unsafe.Add(ref src, i));
    }
}
