using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Quanta.Core.Formats.Integer;

/// <summary>
/// <see cref="WeightFormat.Int8"/>: symmetric INT8 with one F32 scale per row (per output channel).
/// <para>Row layout (little-endian), <c>4 + n</c> bytes:
/// <c>[float32 scale][sbyte q[0..n-1]]</c>; element i is <c>scale * q[i]</c> (one F32 multiply).</para>
/// <para>Quantization (scalar reference): <c>scale = amax / 127</c> with <c>amax = max |x|</c>;
/// <c>q = clamp(round_half_to_even(x / scale), -127, 127)</c> (an all-zero row gets scale 0 and q 0).
/// Round-half-to-even is chosen because it is what IEEE conversion and SIMD rounding (vroundps,
/// frintn) do by default, so vector quantizers can match this reference bit for bit; -128 is never produced
/// so the code is symmetric and |q| fits the unsigned-by-signed byte multiply of the dot kernels.</para>
/// <para>Error bound: for every element <c>|x - scale*q| &lt;= scale/2</c> (up to one F32 rounding of the
/// division and of the product), since <c>|x/scale| &lt;= 127</c> never clamps.</para>
/// <para>BlockSize is 1: any n is allowed. Stateless, thread-safe, allocation-free.</para>
/// </summary>
public sealed class Int8RowCodec : IRowCodec
{
    /// <summary>The shared instance.</summary>
    public static Int8RowCodec Instance { get; } = new();

    /// <summary>Bytes before the int8 values (the F32 scale).</summary>
    public const int HeaderBytes = 4;

    /// <inheritdoc />
    public string Name => "INT8";

    /// <inheritdoc />
    public int BlockSize => 1;

    /// <inheritdoc />
    public long RowBytes(int n) => HeaderBytes + (long)n;

    /// <summary>Reads the row's F32 scale.</summary>
    public static float ReadScale(ReadOnlySpan<byte> row) => BinaryPrimitives.ReadSingleLittleEndian(row);

    /// <inheritdoc />
    public void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int n = src.Length;
        CheckDst(dst.Length, n);
        float amax = 0f;
        for (int i = 0; i < n; i++) amax = MathF.Max(amax, MathF.Abs(src[i]));
        float scale = amax / 127f;
        BinaryPrimitives.WriteSingleLittleEndian(dst, scale);
        Span<byte> q = dst.Slice(HeaderBytes, n);
        for (int i = 0; i < n; i++)
        {
            float v = scale == 0f ? 0f : MathF.Round(src[i] / scale, MidpointRounding.ToEven);
            v = Math.Clamp(v, -127f, 127f);
            q[i] = (byte)(sbyte)v;
        }
    }

    /// <inheritdoc />
    public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int n = dst.Length;
        CheckSrc(src.Length, n);
        float scale = ReadScale(src);
        ReadOnlySpan<sbyte> q = MemoryMarshal.Cast<byte, sbyte>(src.Slice(HeaderBytes, n));
        for (int i = 0; i < n; i++) dst[i] = scale * q[i];
    }

    /// <inheritdoc />
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int n = dst.Length;
        CheckSrc(src.Length, n);
        float scale = ReadScale(src);
        ref sbyte q = ref Unsafe.As<byte, sbyte>(ref MemoryMarshal.GetReference(src.Slice(HeaderBytes)));
        ref float d = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vs = Vector512.Create(scale);
            for (; i + 16 <= n; i += 16)
            {
                // 16 sbytes -> 16 int32 -> 16 floats
                Vector128<sbyte> b = Vector128.LoadUnsafe(ref q, (nuint)i);
                Vector512<int> w = Vector512.WidenLower(Vector512.WidenLower(b.ToVector256Unsafe().ToVector512Unsafe()));
                (vs * Vector512.ConvertToSingle(w)).StoreUnsafe(ref d, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(scale);
            for (; i + 8 <= n; i += 8)
            {
                Vector128<sbyte> b = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref q, i)))).AsSByte();
                Vector256<int> w = Vector256.WidenLower(Vector256.WidenLower(b.ToVector256Unsafe()));
                (vs * Vector256.ConvertToSingle(w)).StoreUnsafe(ref d, (nuint)i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var vs = Vector128.Create(scale);
            for (; i + 4 <= n; i += 4)
            {
                Vector128<sbyte> b = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref q, i)))).AsSByte();
                Vector128<int> w = Vector128.WidenLower(Vector128.WidenLower(b));
                (vs * Vector128.ConvertToSingle(w)).StoreUnsafe(ref d, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref d, i) = scale * Unsafe.Add(ref q, i);
    }

    private static void CheckDst(int dstLen, int n)
    {
        if (dstLen < HeaderBytes + n) throw new ArgumentException($"INT8 row of {n} elements needs {HeaderBytes + n} bytes, got {dstLen}", nameof(dstLen));
    }

    private static void CheckSrc(int srcLen, int n)
    {
        if (srcLen < HeaderBytes + n) throw new ArgumentException($"INT8 row of {n} elements needs {HeaderBytes + n} bytes, got {srcLen}", nameof(srcLen));
    }
}
