using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Formats.Float;

/// <summary>
/// bfloat16 (BF16, ggml type 30): the upper 16 bits of an F32.
/// <list type="bullet">
/// <item>F32 -> BF16 rounds to nearest, ties to even, by adding 0x7FFF plus the lowest kept bit and truncating
/// (overflow carries into +-inf; subnormals are rounded, not flushed); a NaN keeps its sign and upper payload
/// bits and gets bit 6 (the BF16 quiet bit) forced on. This is exactly ggml_fp32_to_bf16.</item>
/// <item>BF16 -> F32 is exact: the bits shifted left by 16.</item>
/// </list>
/// Row functions are vectorized, allocation-free and bit-identical to the scalar references.
/// </summary>
public static class BF16Conversion
{
    /// <summary>Kernel name recorded in <see cref="KernelPaths"/> by <see cref="ToSingleRow"/>.</summary>
    public const string ToSingleName = "bf16->f32";

    /// <summary>Kernel name recorded in <see cref="KernelPaths"/> by <see cref="FromSingleRow"/>.</summary>
    public const string FromSingleName = "f32->bf16";

    /// <summary>Scalar reference: F32 to BF16 bits (round to nearest even, NaN made quiet).</summary>
    public static ushort FromSingle(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (ushort)((u >> 16) | 64u);
        return (ushort)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
    }

    /// <summary>Scalar reference: BF16 bits to F32 (exact).</summary>
    public static float ToSingle(ushort h) => BitConverter.UInt32BitsToSingle((uint)h << 16);

    /// <summary>Scalar reference row conversion. <paramref name="dst"/>[i] = ToSingle(<paramref name="src"/>[i]).</summary>
    public static void ToSingleRowReference(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination shorter than source", nameof(dst));
        for (int i = 0; i < src.Length; i++) dst[i] = ToSingle(src[i]);
    }

    /// <summary>Scalar reference row conversion. <paramref name="dst"/>[i] = FromSingle(<paramref name="src"/>[i]).</summary>
    public static void FromSingleRowReference(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination shorter than source", nameof(dst));
        for (int i = 0; i < src.Length; i++) dst[i] = FromSingle(src[i]);
    }

    /// <summary>Vectorized BF16 -> F32 over <paramref name="src"/>.Length elements; bit-identical to the reference.</summary>
    public static void ToSingleRow(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        int n = src.Length;
        if (dst.Length < n) throw new ArgumentException("destination shorter than source", nameof(dst));
        ref ushort s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            KernelPaths.Record(ToSingleName, SimdPath.V512);
            for (; i + 32 <= n; i += 32)
            {
                var h = Vector512.LoadUnsafe(ref s, (nuint)i);
                (Vector512.WidenLower(h) << 16).AsSingle().StoreUnsafe(ref d, (nuint)i);
                (Vector512.WidenUpper(h) << 16).AsSingle().StoreUnsafe(ref d, (nuint)(i + 16));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            KernelPaths.Record(ToSingleName, SimdPath.V256);
            for (; i + 16 <= n; i += 16)
            {
                var h = Vector256.LoadUnsafe(ref s, (nuint)i);
                (Vector256.WidenLower(h) << 16).AsSingle().StoreUnsafe(ref d, (nuint)i);
                (Vector256.WidenUpper(h) << 16).AsSingle().StoreUnsafe(ref d, (nuint)(i + 8));
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            KernelPaths.Record(ToSingleName, SimdPath.V128);
            for (; i + 8 <= n; i += 8)
            {
                var h = Vector128.LoadUnsafe(ref s, (nuint)i);
                (Vector128.WidenLower(h) << 16).AsSingle().StoreUnsafe(ref d, (nuint)i);
                (Vector128.WidenUpper(h) << 16).AsSingle().StoreUnsafe(ref d, (nuint)(i + 4));
            }
        }
        else
        {
            KernelPaths.Record(ToSingleName, SimdPath.Scalar);
        }
        for (; i < n; i++) Unsafe.Add(ref d, i) = ToSingle(Unsafe.Add(ref s, i));
    }

    /// <summary>Vectorized F32 -> BF16 over <paramref name="src"/>.Length elements; bit-identical to the reference.</summary>
    public static void FromSingleRow(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        int n = src.Length;
        if (dst.Length < n) throw new ArgumentException("destination shorter than source", nameof(dst));
        ref float s = ref MemoryMarshal.GetReference(src);
        ref ushort d = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            KernelPaths.Record(FromSingleName, SimdPath.V512);
            for (; i + 32 <= n; i += 32)
                Vector512.Narrow(Encode512(Vector512.LoadUnsafe(ref s, (nuint)i)), Encode512(Vector512.LoadUnsafe(ref s, (nuint)(i + 16))))
                    .StoreUnsafe(ref d, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            KernelPaths.Record(FromSingleName, SimdPath.V256);
            for (; i + 16 <= n; i += 16)
                Vector256.Narrow(Encode256(Vector256.LoadUnsafe(ref s, (nuint)i)), Encode256(Vector256.LoadUnsafe(ref s, (nuint)(i + 8))))
                    .StoreUnsafe(ref d, (nuint)i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            KernelPaths.Record(FromSingleName, SimdPath.V128);
            for (; i + 8 <= n; i += 8)
                Vector128.Narrow(Encode128(Vector128.LoadUnsafe(ref s, (nuint)i)), Encode128(Vector128.LoadUnsafe(ref s, (nuint)(i + 4))))
                    .StoreUnsafe(ref d, (nuint)i);
        }
        else
        {
            KernelPaths.Record(FromSingleName, SimdPath.Scalar);
        }
        for (; i < n; i++) Unsafe.Add(ref d, i) = FromSingle(Unsafe.Add(ref s, i));
    }

    /// <summary>F32 -> BF16 bits in the low 16 bits of each lane, bit-identical to <see cref="FromSingle"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<uint> Encode512(Vector512<float> f)
    {
        var u = f.AsUInt32();
        var isNaN = Vector512.GreaterThan(u & Vector512.Create(0x7FFFFFFFu), Vector512.Create(0x7F800000u));
        var rounded = (u + Vector512.Create(0x7FFFu) + ((u >> 16) & Vector512<uint>.One)) >> 16;
        var quietNaN = (u >> 16) | Vector512.Create(64u);
        return Vector512.ConditionalSelect(isNaN, quietNaN, rounded);
    }

    /// <summary>F32 -> BF16 bits in the low 16 bits of each lane, bit-identical to <see cref="FromSingle"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<uint> Encode256(Vector256<float> f)
    {
        var u = f.AsUInt32();
        var isNaN = Vector256.GreaterThan(u & Vector256.Create(0x7FFFFFFFu), Vector256.Create(0x7F800000u));
        var rounded = (u + Vector256.Create(0x7FFFu) + ((u >> 16) & Vector256<uint>.One)) >> 16;
        var quietNaN = (u >> 16) | Vector256.Create(64u);
        return Vector256.ConditionalSelect(isNaN, quietNaN, rounded);
    }

    /// <summary>F32 -> BF16 bits in the low 16 bits of each lane, bit-identical to <see cref="FromSingle"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<uint> Encode128(Vector128<float> f)
    {
        var u = f.AsUInt32();
        var isNaN = Vector128.GreaterThan(u & Vector128.Create(0x7FFFFFFFu), Vector128.Create(0x7F800000u));
        var rounded = (u + Vector128.Create(0x7FFFu) + ((u >> 16) & Vector128<uint>.One)) >> 16;
        var quietNaN = (u >> 16) | Vector128.Create(64u);
        return Vector128.ConditionalSelect(isNaN, quietNaN, rounded);
    }
}
