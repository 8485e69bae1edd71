using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// Per-tensor asymmetric 7-bit activation quantization for <see cref="Int8Gemm"/>:
/// q = clamp(round(x · invScale) + zeroPoint, 0, 127) (round half to even, computed in float32: one multiply, one
/// round, one add), so x ≈ (q − zeroPoint) / invScale. 127 is <see cref="MaxCode"/>: codes stay within 7 bits so the
/// u8 × s8 pair sums of vpmaddubsw cannot saturate. Vector512/256/128 paths and a scalar reference give identical
/// bytes for finite inputs.
/// </summary>
public static class Int8Activations
{
    /// <summary>Largest activation code.</summary>
    public const int MaxCode = 127;

    /// <summary>Quantizes <paramref name="x"/> into <paramref name="dst"/> (same length or longer).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(ReadOnlySpan<float> x, float invScale, int zeroPoint, Span<byte> dst)
    {
        if (dst.Length < x.Length) throw new ArgumentException($"dst of {dst.Length} bytes for {x.Length} values", nameof(dst));
        if (zeroPoint is < 0 or > MaxCode) throw new ArgumentOutOfRangeException(nameof(zeroPoint), $"zero point {zeroPoint} outside 0..{MaxCode}");
        int i = 0;
        float zp = zeroPoint;
        if (Vector512.IsHardwareAccelerated && x.Length >= 64)
        {
            KernelPaths.Record("Int8Activations", SimdPath.V512);
            var inv = Vector512.Create(invScale); var z = Vector512.Create(zp); var hi = Vector512.Create((float)MaxCode);
            for (; i + 64 <= x.Length; i += 64)
            {
                var q0 = Code(Vector512.Create(x.Slice(i, 16)), inv, z, hi); var q1 = Code(Vector512.Create(x.Slice(i + 16, 16)), inv, z, hi);
                var q2 = Code(Vector512.Create(x.Slice(i + 32, 16)), inv, z, hi); var q3 = Code(Vector512.Create(x.Slice(i + 48, 16)), inv, z, hi);
                Vector512.Narrow(Vector512.Narrow(q0, q1), Vector512.Narrow(q2, q3)).AsByte().CopyTo(dst.Slice(i, 64));
            }
        }
        else if (Vector256.IsHardwareAccelerated && x.Length >= 32)
        {
            KernelPaths.Record("Int8Activations", SimdPath.V256);
            var inv = Vector256.Create(invScale); var z = Vector256.Create(zp); var hi = Vector256.Create((float)MaxCode);
            for (; i + 32 <= x.Length; i += 32)
            {
                var q0 = Code(Vector256.Create(x.Slice(i, 8)), inv, z, hi); var q1 = Code(Vector256.Create(x.Slice(i + 8, 8)), inv, z, hi);
                var q2 = Code(Vector256.Create(x.Slice(i + 16, 8)), inv, z, hi); var q3 = Code(Vector256.Create(x.Slice(i + 24, 8)), inv, z, hi);
                Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3)).AsByte().CopyTo(dst.Slice(i, 32));
            }
        }
        else if (Vector128.IsHardwareAccelerated && x.Length >= 16)
        {
            KernelPaths.Record("Int8Activations", SimdPath.V128);
            var inv = Vector128.Create(invScale); var z = Vector128.Create(zp); var hi = Vector128.Create((float)MaxCode);
            for (; i + 16 <= x.Length; i += 16)
            {
                var q0 = Code(Vector128.Create(x.Slice(i, 4)), inv, z, hi); var q1 = Code(Vector128.Create(x.Slice(i + 4, 4)), inv, z, hi);
                var q2 = Code(Vector128.Create(x.Slice(i + 8, 4)), inv, z, hi); var q3 = Code(Vector128.Create(x.Slice(i + 12, 4)), inv, z, hi);
                Vector128.Narrow(Vector128.Narrow(q0, q1), Vector128.Narrow(q2, q3)).AsByte().CopyTo(dst.Slice(i, 16));
            }
        }
        for (; i < x.Length; i++) dst[i] = CodeOf(x[i], invScale, zp);
    }

    /// <summary>Scalar reference.</summary>
    public static void QuantizeReference(ReadOnlySpan<float> x, float invScale, int zeroPoint, Span<byte> dst)
    {
        for (int i = 0; i < x.Length; i++) dst[i] = CodeOf(x[i], invScale, zeroPoint);
    }

    private static byte CodeOf(float x, float invScale, float zp)
    {
        float v = MathF.Round(x * invScale) + zp;
        v = MathF.Min(MathF.Max(v, 0), MaxCode);
        return (byte)(int)v;
    }

    private static Vector512<int> Code(Vector512<float> x, Vector512<float> inv, Vector512<float> z, Vector512<float> hi) =>
        Vector512.ConvertToInt32(Vector512.Min(Vector512.Max(Vector512.Round(x * inv) + z, Vector512<float>.Zero), hi));

    private static Vector256<int> Code(Vector256<float> x, Vector256<float> inv, Vector256<float> z, Vector256<float> hi) =>
        Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(x * inv) + z, Vector256<float>.Zero), hi));

    private static Vector128<int> Code(Vector128<float> x, Vector128<float> inv, Vector128<float> z, Vector128<float> hi) =>
        Vector128.ConvertToInt32(Vector128.Min(Vector128.Max(Vector128.Round(x * inv) + z, Vector128<float>.Zero), hi));
}
