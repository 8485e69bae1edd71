using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Float;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Float;

/// <summary>
/// F16 weights (ggml type 1) x activations rounded to F16: ggml's vec_dot_type for F16 is F16, so
/// <see cref="QuantizeActivation"/> rounds x to F16 (round to nearest even, as ggml's CPU from_float does) and stores the
/// rounded values widened back to F32 (exact), so the products equal llama.cpp's F16 x F16 products and only the weights
/// need converting in the loop.
/// Weights are widened to F32 in registers: each F16 is sign-extended to an int32 lane (natural element order), shifted
/// into F32 position and multiplied by 2^112 (exact for zeros, subnormals and normals); a chunk whose weights hold an
/// inf/NaN is decoded with the exact variant (compare and select) instead, so specials propagate as in the reference.
/// Weight row: n little-endian 16-bit values (2n bytes); activation row: n F32 values (4n bytes), each exactly an F16 value.
/// <see cref="DotReference"/> converts exactly and accumulates in F64; <see cref="Dot"/> streams the weights once into
/// four independent F32 vector accumulators. Tolerance against the reference: |Dot - DotReference| &lt;= 1e-5 * sum |w_i x_i|.
/// </summary>
public sealed class F16VecDot : IVecDotKernel
{
    /// <summary>Kernel name used in logs and <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "f16*f16";

    /// <summary>The shared stateless instance.</summary>
    public static readonly F16VecDot Instance = new();

    /// <inheritdoc/>
    public WeightFormat Format => WeightFormat.F16;
    /// <inheritdoc/>
    public string Name => KernelName;
    /// <inheritdoc/>
    public int BlockSize => 1;
    /// <inheritdoc/>
    public long WeightRowBytes(int n) => 2L * n;
    /// <inheritdoc/>
    public int ActivationRowBytes(int n) => checked(4 * n);

    /// <inheritdoc/>
    public void QuantizeActivation(ReadOnlySpan<float> x, Span<byte> dst)
    {
        if (dst.Length < ActivationRowBytes(x.Length)) throw new ArgumentException("destination shorter than 4 bytes per element", nameof(dst));
        Span<ushort> h = stackalloc ushort[256];   // one chunk of F16 bits
        Span<float> d = MemoryMarshal.Cast<byte, float>(dst);
        for (int i = 0; i < x.Length; i += h.Length)
        {
            int c = Math.Min(h.Length, x.Length - i);
            F16Conversion.FromSingleRow(x.Slice(i, c), h);
            F16Conversion.ToSingleRow(h[..c], d.Slice(i, c));
        }
    }

    /// <inheritdoc/>
    public float DotReference(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        var w = MemoryMarshal.Cast<byte, ushort>(weightRow)[..n];
        var x = MemoryMarshal.Cast<byte, float>(activation)[..n];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (double)F16Conversion.ToSingle(w[i]) * x[i];
        return (float)sum;
    }

    /// <inheritdoc/>
    public float Dot(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (n < 0 || weightRow.Length < WeightRowBytes(n) || activation.Length < ActivationRowBytes(n))
            throw new ArgumentException("row spans shorter than n elements");
        ref short w = ref Unsafe.As<byte, short>(ref MemoryMarshal.GetReference(weightRow));
        ref float x = ref Unsafe.As<byte, float>(ref MemoryMarshal.GetReference(activation));
        if (Vector512.IsHardwareAccelerated) { KernelPaths.Record(KernelName, SimdPath.V512); return Dot512(ref w, ref x, n); }
        if (Vector256.IsHardwareAccelerated && Avx2.IsSupported) { KernelPaths.Record(KernelName, SimdPath.V256); return Dot256(ref w, ref x, n); }
        if (Vector128.IsHardwareAccelerated) { KernelPaths.Record(KernelName, SimdPath.V128); return Dot128(ref w, ref x, n); }
        KernelPaths.Record(KernelName, SimdPath.Scalar);
        return DotReference(weightRow, activation, n);
    }

    /// <summary>Exact scalar sum of w[i] * x[i] over [from, to) (row tails).</summary>
    private static float ScalarRange(ref short w, ref float x, int from, int to)
    {
        float s = 0;
        for (int i = from; i < to; i++) s += F16Conversion.ToSingle((ushort)Unsafe.Add(ref w, i)) * Unsafe.Add(ref x, i);
        return s;
    }

    /// <summary>16 weights from element <paramref name="i"/>, sign-extended to int32 lanes (vpmovsxwd from memory).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Wide512(ref short w, int i) => Avx512F.ConvertToVector512Int32(Vector256.LoadUnsafe(ref w, (nuint)i));

    private static float Dot512(ref short w, ref float x, int n)
    {
        // per iteration: 64 weights; one exponent test on the raw halves, then 4 x 16 widened lanes -> 4 accumulators.
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var expMask = Vector512.Create((short)0x7C00);
        int i = 0;
        for (; i + 64 <= n; i += 64)
        {
            var r0 = Vector512.LoadUnsafe(ref w, (nuint)i) & expMask;
            var r1 = Vector512.LoadUnsafe(ref w, (nuint)(i + 32)) & expMask;
            if (!Vector512.EqualsAny(Vector512.Max(r0.AsUInt16(), r1.AsUInt16()), expMask.AsUInt16()))
            {
                a0 = Vector512.MultiplyAddEstimate(F16Conversion.DecodeFinite512(Wide512(ref w, i)), Vector512.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector512.MultiplyAddEstimate(F16Conversion.DecodeFinite512(Wide512(ref w, i + 16)), Vector512.LoadUnsafe(ref x, (nuint)(i + 16)), a1);
                a2 = Vector512.MultiplyAddEstimate(F16Conversion.DecodeFinite512(Wide512(ref w, i + 32)), Vector512.LoadUnsafe(ref x, (nuint)(i + 32)), a2);
                a3 = Vector512.MultiplyAddEstimate(F16Conversion.DecodeFinite512(Wide512(ref w, i + 48)), Vector512.LoadUnsafe(ref x, (nuint)(i + 48)), a3);
            }
            else
            {
                // rare: inf/NaN among these weights: exact decode (compare and select)
                a0 = Vector512.MultiplyAddEstimate(F16Conversion.DecodeExact512(Wide512(ref w, i)), Vector512.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector512.MultiplyAddEstimate(F16Conversion.DecodeExact512(Wide512(ref w, i + 16)), Vector512.LoadUnsafe(ref x, (nuint)(i + 16)), a1);
                a2 = Vector512.MultiplyAddEstimate(F16Conversion.DecodeExact512(Wide512(ref w, i + 32)), Vector512.LoadUnsafe(ref x, (nuint)(i + 32)), a2);
                a3 = Vector512.MultiplyAddEstimate(F16Conversion.DecodeExact512(Wide512(ref w, i + 48)), Vector512.LoadUnsafe(ref x, (nuint)(i + 48)), a3);
            }
        }
        float sum = Vector512.Sum((a0 + a1) + (a2 + a3));
        return sum + ScalarRange(ref w, ref x, i, n);
    }

    /// <summary>8 weights from element <paramref name="i"/>, sign-extended to int32 lanes (vpmovsxwd from memory).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Wide256(ref short w, int i) => Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref w, (nuint)i));

    private static float Dot256(ref short w, ref float x, int n)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var expMask = Vector256.Create((short)0x7C00);
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            var r0 = Vector256.LoadUnsafe(ref w, (nuint)i) & expMask;
            var r1 = Vector256.LoadUnsafe(ref w, (nuint)(i + 16)) & expMask;
            if (!Vector256.EqualsAny(Vector256.Max(r0.AsUInt16(), r1.AsUInt16()), expMask.AsUInt16()))
            {
                a0 = Vector256.MultiplyAddEstimate(F16Conversion.DecodeFinite256(Wide256(ref w, i)), Vector256.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector256.MultiplyAddEstimate(F16Conversion.DecodeFinite256(Wide256(ref w, i + 8)), Vector256.LoadUnsafe(ref x, (nuint)(i + 8)), a1);
                a2 = Vector256.MultiplyAddEstimate(F16Conversion.DecodeFinite256(Wide256(ref w, i + 16)), Vector256.LoadUnsafe(ref x, (nuint)(i + 16)), a2);
                a3 = Vector256.MultiplyAddEstimate(F16Conversion.DecodeFinite256(Wide256(ref w, i + 24)), Vector256.LoadUnsafe(ref x, (nuint)(i + 24)), a3);
            }
            else
            {
                a0 = Vector256.MultiplyAddEstimate(F16Conversion.DecodeExact256(Wide256(ref w, i)), Vector256.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector256.MultiplyAddEstimate(F16Conversion.DecodeExact256(Wide256(ref w, i + 8)), Vector256.LoadUnsafe(ref x, (nuint)(i + 8)), a1);
                a2 = Vector256.MultiplyAddEstimate(F16Conversion.DecodeExact256(Wide256(ref w, i + 16)), Vector256.LoadUnsafe(ref x, (nuint)(i + 16)), a2);
                a3 = Vector256.MultiplyAddEstimate(F16Conversion.DecodeExact256(Wide256(ref w, i + 24)), Vector256.LoadUnsafe(ref x, (nuint)(i + 24)), a3);
            }
        }
        float sum = Vector256.Sum((a0 + a1) + (a2 + a3));
        return sum + ScalarRange(ref w, ref x, i, n);
    }

    private static float Dot128(ref short w, ref float x, int n)
    {
        // per iteration: 16 weights, widened with portable WidenLower/WidenUpper (x64 SSE2 and Arm64 AdvSimd alike)
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var expMask = Vector128.Create((short)0x7C00);
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var h0 = Vector128.LoadUnsafe(ref w, (nuint)i);
            var h1 = Vector128.LoadUnsafe(ref w, (nuint)(i + 8));
            if (!Vector128.EqualsAny(Vector128.Max((h0 & expMask).AsUInt16(), (h1 & expMask).AsUInt16()), expMask.AsUInt16()))
            {
                a0 = Vector128.MultiplyAddEstimate(F16Conversion.DecodeFinite128(Vector128.WidenLower(h0)), Vector128.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector128.MultiplyAddEstimate(F16Conversion.DecodeFinite128(Vector128.WidenUpper(h0)), Vector128.LoadUnsafe(ref x, (nuint)(i + 4)), a1);
                a2 = Vector128.MultiplyAddEstimate(F16Conversion.DecodeFinite128(Vector128.WidenLower(h1)), Vector128.LoadUnsafe(ref x, (nuint)(i + 8)), a2);
                a3 = Vector128.MultiplyAddEstimate(F16Conversion.DecodeFinite128(Vector128.WidenUpper(h1)), Vector128.LoadUnsafe(ref x, (nuint)(i + 12)), a3);
            }
            else
            {
                a0 = Vector128.MultiplyAddEstimate(F16Conversion.DecodeExact128(Vector128.WidenLower(h0)), Vector128.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector128.MultiplyAddEstimate(F16Conversion.DecodeExact128(Vector128.WidenUpper(h0)), Vector128.LoadUnsafe(ref x, (nuint)(i + 4)), a1);
                a2 = Vector128.MultiplyAddEstimate(F16Conversion.DecodeExact128(Vector128.WidenLower(h1)), Vector128.LoadUnsafe(ref x, (nuint)(i + 8)), a2);
                a3 = Vector128.MultiplyAddEstimate(F16Conversion.DecodeExact128(Vector128.WidenUpper(h1)), Vector128.LoadUnsafe(ref x, (nuint)(i + 12)), a3);
            }
        }
        float sum = Vector128.Sum((a0 + a1) + (a2 + a3));
        return sum + ScalarRange(ref w, ref x, i, n);
    }
}
