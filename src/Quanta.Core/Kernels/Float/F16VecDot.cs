using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Float;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Float;

/// <summary>
/// F16 weights (ggml type 1) x F16 activations: ggml's vec_dot_type for F16 is F16, so
/// <see cref="QuantizeActivation"/> rounds x to F16 (round to nearest even, as ggml's CPU from_float does).
/// Both operands are widened to F32 in registers: F16 bits are shifted into F32 position and multiplied by 2^112
/// (exact for zeros, subnormals and normals); a chunk that holds an inf/NaN in either row is decoded with the exact
/// variant (compare and select) instead, so specials propagate as in the reference. Lanes are processed as even/odd halves of each
/// 32-bit lane in both rows (a permutation that leaves the sum unchanged).
/// Weight row: n little-endian 16-bit values (2n bytes); activation row: the same layout.
/// <see cref="DotReference"/> converts exactly and accumulates in F64; <see cref="Dot"/> streams both rows once into
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
    public int ActivationRowBytes(int n) => checked(2 * n);

    /// <inheritdoc/>
    public void QuantizeActivation(ReadOnlySpan<float> x, Span<byte> dst) =>
        F16Conversion.FromSingleRow(x, MemoryMarshal.Cast<byte, ushort>(dst));

    /// <inheritdoc/>
    public float DotReference(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        var w = MemoryMarshal.Cast<byte, ushort>(weightRow)[..n];
        var x = MemoryMarshal.Cast<byte, ushort>(activation)[..n];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (double)F16Conversion.ToSingle(w[i]) * F16Conversion.ToSingle(x[i]);
        return (float)sum;
    }

    /// <inheritdoc/>
    public float Dot(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (n < 0 || weightRow.Length < WeightRowBytes(n) || activation.Length < ActivationRowBytes(n))
            throw new ArgumentException("row spans shorter than n elements");
        ref ushort w = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(weightRow));
        ref ushort x = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(activation));
        if (Vector512.IsHardwareAccelerated) { KernelPaths.Record(KernelName, SimdPath.V512); return Dot512(ref w, ref x, n); }
        if (Vector256.IsHardwareAccelerated) { KernelPaths.Record(KernelName, SimdPath.V256); return Dot256(ref w, ref x, n); }
        if (Vector128.IsHardwareAccelerated) { KernelPaths.Record(KernelName, SimdPath.V128); return Dot128(ref w, ref x, n); }
        KernelPaths.Record(KernelName, SimdPath.Scalar);
        return DotReference(weightRow, activation, n);
    }

    private const int HalfMask = unchecked((int)0x8FFFE000);  // sign + 5 exponent + 10 mantissa bits, F32 position
    private const uint TwoPow112 = 0x77800000u;

    /// <summary>F16 in the low half of each int32 lane to F32 (finite inputs): sign to bit 31, exponent and mantissa
    /// to F32 position, times 2^112.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Even512(Vector512<int> v) =>
        (((v << 16) >> 3) & Vector512.Create(HalfMask)).AsSingle() * Vector512.Create(TwoPow112).AsSingle();

    /// <summary>F16 in the high half of each int32 lane to F32 (finite inputs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Odd512(Vector512<int> v) =>
        ((v >> 3) & Vector512.Create(HalfMask)).AsSingle() * Vector512.Create(TwoPow112).AsSingle();

    /// <summary>F16 in the low half of each int32 lane to F32 (finite inputs): sign to bit 31, exponent and mantissa
    /// to F32 position, times 2^112.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Even256(Vector256<int> v) =>
        (((v << 16) >> 3) & Vector256.Create(HalfMask)).AsSingle() * Vector256.Create(TwoPow112).AsSingle();

    /// <summary>F16 in the high half of each int32 lane to F32 (finite inputs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Odd256(Vector256<int> v) =>
        ((v >> 3) & Vector256.Create(HalfMask)).AsSingle() * Vector256.Create(TwoPow112).AsSingle();

    /// <summary>F16 in the low half of each int32 lane to F32 (finite inputs): sign to bit 31, exponent and mantissa
    /// to F32 position, times 2^112.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Even128(Vector128<int> v) =>
        (((v << 16) >> 3) & Vector128.Create(HalfMask)).AsSingle() * Vector128.Create(TwoPow112).AsSingle();

    /// <summary>F16 in the high half of each int32 lane to F32 (finite inputs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Odd128(Vector128<int> v) =>
        ((v >> 3) & Vector128.Create(HalfMask)).AsSingle() * Vector128.Create(TwoPow112).AsSingle();

    /// <summary>Exact scalar sum of w[i] * x[i] over [from, to) (row tails).</summary>
    private static float ScalarRange(ref ushort w, ref ushort x, int from, int to)
    {
        float s = 0;
        for (int i = from; i < to; i++) s += F16Conversion.ToSingle(Unsafe.Add(ref w, i)) * F16Conversion.ToSingle(Unsafe.Add(ref x, i));
        return s;
    }

    private static float Dot512(ref ushort w, ref ushort x, int n)
    {
        // per iteration: 2 vectors of 32 halves from each row -> 4 accumulators (even/odd halves of the int32 lanes).
        // No calls inside the loop, so the accumulators stay in registers.
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var expMask = Vector512.Create((ushort)0x7C00);
        int i = 0;
        for (; i + 64 <= n; i += 64)
        {
            var w0 = Vector512.LoadUnsafe(ref w, (nuint)i);
            var w1 = Vector512.LoadUnsafe(ref w, (nuint)(i + 32));
            var x0 = Vector512.LoadUnsafe(ref x, (nuint)i);
            var x1 = Vector512.LoadUnsafe(ref x, (nuint)(i + 32));
            var wi0 = w0.AsInt32(); var xi0 = x0.AsInt32();
            var wi1 = w1.AsInt32(); var xi1 = x1.AsInt32();
            var ex = Vector512.Max(Vector512.Max(w0 & expMask, x0 & expMask), Vector512.Max(w1 & expMask, x1 & expMask));
            if (!Vector512.EqualsAny(ex, expMask))
            {
                a0 = Vector512.MultiplyAddEstimate(Even512(wi0), Even512(xi0), a0);
                a1 = Vector512.MultiplyAddEstimate(Odd512(wi0), Odd512(xi0), a1);
                a2 = Vector512.MultiplyAddEstimate(Even512(wi1), Even512(xi1), a2);
                a3 = Vector512.MultiplyAddEstimate(Odd512(wi1), Odd512(xi1), a3);
            }
            else
            {
                // rare: inf/NaN somewhere in the chunk: exact decode (compare and select) of sign-extended halves
                a0 = Vector512.MultiplyAddEstimate(F16Conversion.DecodeExact512(wi0 << 16 >> 16), F16Conversion.DecodeExact512(xi0 << 16 >> 16), a0);
                a1 = Vector512.MultiplyAddEstimate(F16Conversion.DecodeExact512(wi0 >> 16), F16Conversion.DecodeExact512(xi0 >> 16), a1);
                a2 = Vector512.MultiplyAddEstimate(F16Conversion.DecodeExact512(wi1 << 16 >> 16), F16Conversion.DecodeExact512(xi1 << 16 >> 16), a2);
                a3 = Vector512.MultiplyAddEstimate(F16Conversion.DecodeExact512(wi1 >> 16), F16Conversion.DecodeExact512(xi1 >> 16), a3);
            }
        }
        float sum = Vector512.Sum((a0 + a1) + (a2 + a3));
        return sum + ScalarRange(ref w, ref x, i, n);
    }

    private static float Dot256(ref ushort w, ref ushort x, int n)
    {
        // per iteration: 2 vectors of 16 halves from each row -> 4 accumulators (even/odd halves of the int32 lanes).
        // No calls inside the loop, so the accumulators stay in registers.
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var expMask = Vector256.Create((ushort)0x7C00);
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            var w0 = Vector256.LoadUnsafe(ref w, (nuint)i);
            var w1 = Vector256.LoadUnsafe(ref w, (nuint)(i + 16));
            var x0 = Vector256.LoadUnsafe(ref x, (nuint)i);
            var x1 = Vector256.LoadUnsafe(ref x, (nuint)(i + 16));
            var wi0 = w0.AsInt32(); var xi0 = x0.AsInt32();
            var wi1 = w1.AsInt32(); var xi1 = x1.AsInt32();
            var ex = Vector256.Max(Vector256.Max(w0 & expMask, x0 & expMask), Vector256.Max(w1 & expMask, x1 & expMask));
            if (!Vector256.EqualsAny(ex, expMask))
            {
                a0 = Vector256.MultiplyAddEstimate(Even256(wi0), Even256(xi0), a0);
                a1 = Vector256.MultiplyAddEstimate(Odd256(wi0), Odd256(xi0), a1);
                a2 = Vector256.MultiplyAddEstimate(Even256(wi1), Even256(xi1), a2);
                a3 = Vector256.MultiplyAddEstimate(Odd256(wi1), Odd256(xi1), a3);
            }
            else
            {
                // rare: inf/NaN somewhere in the chunk: exact decode (compare and select) of sign-extended halves
                a0 = Vector256.MultiplyAddEstimate(F16Conversion.DecodeExact256(wi0 << 16 >> 16), F16Conversion.DecodeExact256(xi0 << 16 >> 16), a0);
                a1 = Vector256.MultiplyAddEstimate(F16Conversion.DecodeExact256(wi0 >> 16), F16Conversion.DecodeExact256(xi0 >> 16), a1);
                a2 = Vector256.MultiplyAddEstimate(F16Conversion.DecodeExact256(wi1 << 16 >> 16), F16Conversion.DecodeExact256(xi1 << 16 >> 16), a2);
                a3 = Vector256.MultiplyAddEstimate(F16Conversion.DecodeExact256(wi1 >> 16), F16Conversion.DecodeExact256(xi1 >> 16), a3);
            }
        }
        float sum = Vector256.Sum((a0 + a1) + (a2 + a3));
        return sum + ScalarRange(ref w, ref x, i, n);
    }

    private static float Dot128(ref ushort w, ref ushort x, int n)
    {
        // per iteration: 2 vectors of 8 halves from each row -> 4 accumulators (even/odd halves of the int32 lanes).
        // No calls inside the loop, so the accumulators stay in registers.
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var expMask = Vector128.Create((ushort)0x7C00);
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var w0 = Vector128.LoadUnsafe(ref w, (nuint)i);
            var w1 = Vector128.LoadUnsafe(ref w, (nuint)(i + 8));
            var x0 = Vector128.LoadUnsafe(ref x, (nuint)i);
            var x1 = Vector128.LoadUnsafe(ref x, (nuint)(i + 8));
            var wi0 = w0.AsInt32(); var xi0 = x0.AsInt32();
            var wi1 = w1.AsInt32(); var xi1 = x1.AsInt32();
            var ex = Vector128.Max(Vector128.Max(w0 & expMask, x0 & expMask), Vector128.Max(w1 & expMask, x1 & expMask));
            if (!Vector128.EqualsAny(ex, expMask))
            {
                a0 = Vector128.MultiplyAddEstimate(Even128(wi0), Even128(xi0), a0);
                a1 = Vector128.MultiplyAddEstimate(Odd128(wi0), Odd128(xi0), a1);
                a2 = Vector128.MultiplyAddEstimate(Even128(wi1), Even128(xi1), a2);
                a3 = Vector128.MultiplyAddEstimate(Odd128(wi1), Odd128(xi1), a3);
            }
            else
            {
                // rare: inf/NaN somewhere in the chunk: exact decode (compare and select) of sign-extended halves
                a0 = Vector128.MultiplyAddEstimate(F16Conversion.DecodeExact128(wi0 << 16 >> 16), F16Conversion.DecodeExact128(xi0 << 16 >> 16), a0);
                a1 = Vector128.MultiplyAddEstimate(F16Conversion.DecodeExact128(wi0 >> 16), F16Conversion.DecodeExact128(xi0 >> 16), a1);
                a2 = Vector128.MultiplyAddEstimate(F16Conversion.DecodeExact128(wi1 << 16 >> 16), F16Conversion.DecodeExact128(xi1 << 16 >> 16), a2);
                a3 = Vector128.MultiplyAddEstimate(F16Conversion.DecodeExact128(wi1 >> 16), F16Conversion.DecodeExact128(xi1 >> 16), a3);
            }
        }
        float sum = Vector128.Sum((a0 + a1) + (a2 + a3));
        return sum + ScalarRange(ref w, ref x, i, n);
    }
}
