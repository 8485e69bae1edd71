using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Formats.Float;

/// <summary>
/// Row loops and the encoder shared by <see cref="Fp8E4M3"/> and <see cref="Fp8E5M2"/>, written once and
/// specialized per format through the <see cref="IFp8Format"/> struct type argument.
/// </summary>
internal static class Fp8Rows
{
    /// <summary>
    /// Nearest-even FP8 code of <paramref name="value"/>: NaN gives sign | <paramref name="nanBits"/>; a magnitude
    /// rounding above <paramref name="maxFiniteBits"/> (and +-inf) gives <paramref name="maxFiniteBits"/> when
    /// <paramref name="saturate"/>, else <paramref name="overflowBits"/>; subnormals kept.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte Encode(float value, bool saturate, int manBits, int bias, byte maxFiniteBits, byte overflowBits, byte nanBits)
    {
        uint w = BitConverter.SingleToUInt32Bits(value);
        uint sign = (w >> 24) & 0x80u;
        uint a = w & 0x7FFFFFFFu;
        if (a > 0x7F800000u) return (byte)(sign | nanBits);
        uint code = MiniFloat.RoundMagnitude(a, manBits, bias);   // +inf yields a huge code
        if (code > maxFiniteBits) code = saturate ? maxFiniteBits : overflowBits;
        return (byte)(sign | code);
    }

    /// <summary>Scalar reference: <paramref name="dst"/>[i] = Encode(<paramref name="src"/>[i] / <paramref name="scale"/>).</summary>
    internal static void EncodeRow<TFormat>(ReadOnlySpan<float> src, float scale, Span<byte> dst, bool saturate)
        where TFormat : struct, IFp8Format
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination shorter than source", nameof(dst));
        for (int i = 0; i < src.Length; i++) dst[i] = TFormat.Encode(src[i] / scale, saturate);
    }

    /// <summary>Scalar reference: <paramref name="dst"/>[i] = Decode(<paramref name="src"/>[i]) * <paramref name="scale"/>.</summary>
    internal static void DecodeRowReference<TFormat>(ReadOnlySpan<byte> src, float scale, Span<float> dst)
        where TFormat : struct, IFp8Format
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination shorter than source", nameof(dst));
        for (int i = 0; i < src.Length; i++) dst[i] = TFormat.Decode(src[i]) * scale;
    }

    /// <summary>Vectorized <see cref="DecodeRowReference{TFormat}"/>, bit-identical to it; records
    /// <paramref name="name"/> in <see cref="KernelPaths"/>.</summary>
    internal static void DecodeRow<TFormat>(ReadOnlySpan<byte> src, float scale, Span<float> dst, string name)
        where TFormat : struct, IFp8Format
    {
        int n = src.Length;
        if (dst.Length < n) throw new ArgumentException("destination shorter than source", nameof(dst));
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            KernelPaths.Record(name, SimdPath.V512);
            var vs = Vector512.Create(scale);
            for (; i + 16 <= n; i += 16)
                (TFormat.Exact(Fp8Simd.Load512(ref Unsafe.Add(ref s, i))) * vs).StoreUnsafe(ref d, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            KernelPaths.Record(name, SimdPath.V256);
            var vs = Vector256.Create(scale);
            for (; i + 8 <= n; i += 8)
                (TFormat.Exact(Fp8Simd.Load256(ref Unsafe.Add(ref s, i))) * vs).StoreUnsafe(ref d, (nuint)i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            KernelPaths.Record(name, SimdPath.V128);
            var vs = Vector128.Create(scale);
            for (; i + 4 <= n; i += 4)
                (TFormat.Exact(Fp8Simd.Load128(ref Unsafe.Add(ref s, i))) * vs).StoreUnsafe(ref d, (nuint)i);
        }
        else
        {
            KernelPaths.Record(name, SimdPath.Scalar);
        }
        for (; i < n; i++) Unsafe.Add(ref d, i) = TFormat.Decode(Unsafe.Add(ref s, i)) * scale;
    }
}
