using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Float;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Float;

/// <summary>
/// FP8 E5M2 weights (<see cref="WeightFormat.Fp8E5M2"/>) x F32 activations. Weight row of n elements: 4 + n bytes,
/// <c>[float32 scale (little-endian)][n <see cref="Fp8E5M2"/> codes]</c> (see <see cref="Fp8E5M2Codec"/>);
/// activation: n float32 (<see cref="QuantizeActivation"/> copies). Result: scale * sum Decode(code_i) * x_i.
/// <see cref="DotReference"/> decodes through the exact table and accumulates in F64. <see cref="Dot"/> decodes in
/// registers (codes sign-extended to int32, bits shifted into F32 position, one multiply by a power of two; no table,
/// no per-element branch) and streams the row once into four independent F32 vector accumulators; a chunk that holds a
/// inf/NaN (exponent 31) code is decoded with the exact variant (one compare and select more) so specials propagate as in the
/// reference.
/// Tolerance against the reference: |Dot - DotReference| &lt;= 1e-5 * |scale| * sum |Decode(code_i) x_i|.
/// </summary>
public sealed class Fp8E5M2VecDot : IVecDotKernel
{
    /// <summary>Kernel name used in logs and <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "fp8e5m2*f32";

    /// <summary>The shared stateless instance.</summary>
    public static readonly Fp8E5M2VecDot Instance = new();

    /// <inheritdoc/>
    public WeightFormat Format => WeightFormat.Fp8E5M2;
    /// <inheritdoc/>
    public string Name => KernelName;
    /// <inheritdoc/>
    public int BlockSize => 1;
    /// <inheritdoc/>
    public long WeightRowBytes(int n) => 4L + n;
    /// <inheritdoc/>
    public int ActivationRowBytes(int n) => checked(4 * n);

    /// <inheritdoc/>
    public void QuantizeActivation(ReadOnlySpan<float> x, Span<byte> dst) => x.CopyTo(MemoryMarshal.Cast<byte, float>(dst));

    /// <inheritdoc/>
    public float DotReference(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        float scale = BitConverter.ToSingle(weightRow);
        var codes = weightRow.Slice(4, n);
        var x = MemoryMarshal.Cast<byte, float>(activation)[..n];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (double)Fp8E5M2.Decode(codes[i]) * x[i];
        return (float)(sum * scale);
    }

    /// <inheritdoc/>
    public float Dot(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (n < 0 || weightRow.Length < WeightRowBytes(n) || activation.Length < ActivationRowBytes(n))
            throw new ArgumentException("row spans shorter than n elements");
        float scale = BitConverter.ToSingle(weightRow);
        ref byte c = ref Unsafe.Add(ref MemoryMarshal.GetReference(weightRow), 4);
        ref float x = ref Unsafe.As<byte, float>(ref MemoryMarshal.GetReference(activation));
        if (Vector512.IsHardwareAccelerated) { KernelPaths.Record(KernelName, SimdPath.V512); return scale * Dot512(ref c, ref x, n); }
        if (Vector256.IsHardwareAccelerated) { KernelPaths.Record(KernelName, SimdPath.V256); return scale * Dot256(ref c, ref x, n); }
        if (Vector128.IsHardwareAccelerated) { KernelPaths.Record(KernelName, SimdPath.V128); return scale * Dot128(ref c, ref x, n); }
        KernelPaths.Record(KernelName, SimdPath.Scalar);
        return DotReference(weightRow, activation, n);
    }

    /// <summary>Exact scalar sum of Decode(c[i]) * x[i] over [from, to) (row tails).</summary>
    private static float ScalarRange(ref byte c, ref float x, int from, int to)
    {
        float s = 0;
        for (int i = from; i < to; i++) s += Fp8E5M2.Decode(Unsafe.Add(ref c, i)) * Unsafe.Add(ref x, i);
        return s;
    }

    private static float Dot512(ref byte c, ref float x, int n)
    {
        // per iteration: 64 codes (one Vector512<byte>, checked for special codes) -> 4 accumulators of 16 lanes.
        // No calls inside the loop, so the accumulators stay in registers.
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var mask = Vector512.Create((byte)0x7C);
        int i = 0;
        for (; i + 64 <= n; i += 64)
        {
            if (!Vector512.EqualsAny(Vector512.LoadUnsafe(ref c, (nuint)i) & mask, mask))
            {
                a0 = Vector512.MultiplyAddEstimate(Fp8Simd.E5M2Finite512(Fp8Simd.Load512(ref Unsafe.Add(ref c, i))), Vector512.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector512.MultiplyAddEstimate(Fp8Simd.E5M2Finite512(Fp8Simd.Load512(ref Unsafe.Add(ref c, i + 16))), Vector512.LoadUnsafe(ref x, (nuint)(i + 16)), a1);
                a2 = Vector512.MultiplyAddEstimate(Fp8Simd.E5M2Finite512(Fp8Simd.Load512(ref Unsafe.Add(ref c, i + 32))), Vector512.LoadUnsafe(ref x, (nuint)(i + 32)), a2);
                a3 = Vector512.MultiplyAddEstimate(Fp8Simd.E5M2Finite512(Fp8Simd.Load512(ref Unsafe.Add(ref c, i + 48))), Vector512.LoadUnsafe(ref x, (nuint)(i + 48)), a3);
            }
            else
            {
                // rare: a chunk with inf/NaN codes takes the exact decode (compare and select per vector)
                a0 = Vector512.MultiplyAddEstimate(Fp8Simd.E5M2Exact512(Fp8Simd.Load512(ref Unsafe.Add(ref c, i))), Vector512.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector512.MultiplyAddEstimate(Fp8Simd.E5M2Exact512(Fp8Simd.Load512(ref Unsafe.Add(ref c, i + 16))), Vector512.LoadUnsafe(ref x, (nuint)(i + 16)), a1);
                a2 = Vector512.MultiplyAddEstimate(Fp8Simd.E5M2Exact512(Fp8Simd.Load512(ref Unsafe.Add(ref c, i + 32))), Vector512.LoadUnsafe(ref x, (nuint)(i + 32)), a2);
                a3 = Vector512.MultiplyAddEstimate(Fp8Simd.E5M2Exact512(Fp8Simd.Load512(ref Unsafe.Add(ref c, i + 48))), Vector512.LoadUnsafe(ref x, (nuint)(i + 48)), a3);
            }
        }
        for (; i + 16 <= n; i += 16)
            a0 = Vector512.MultiplyAddEstimate(Fp8Simd.E5M2Exact512(Fp8Simd.Load512(ref Unsafe.Add(ref c, i))), Vector512.LoadUnsafe(ref x, (nuint)i), a0);
        float sum = Vector512.Sum((a0 + a1) + (a2 + a3));
        return sum + ScalarRange(ref c, ref x, i, n);
    }

    private static float Dot256(ref byte c, ref float x, int n)
    {
        // per iteration: 32 codes (one Vector256<byte>, checked for special codes) -> 4 accumulators of 8 lanes.
        // No calls inside the loop, so the accumulators stay in registers.
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var mask = Vector256.Create((byte)0x7C);
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            if (!Vector256.EqualsAny(Vector256.LoadUnsafe(ref c, (nuint)i) & mask, mask))
            {
                a0 = Vector256.MultiplyAddEstimate(Fp8Simd.E5M2Finite256(Fp8Simd.Load256(ref Unsafe.Add(ref c, i))), Vector256.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector256.MultiplyAddEstimate(Fp8Simd.E5M2Finite256(Fp8Simd.Load256(ref Unsafe.Add(ref c, i + 8))), Vector256.LoadUnsafe(ref x, (nuint)(i + 8)), a1);
                a2 = Vector256.MultiplyAddEstimate(Fp8Simd.E5M2Finite256(Fp8Simd.Load256(ref Unsafe.Add(ref c, i + 16))), Vector256.LoadUnsafe(ref x, (nuint)(i + 16)), a2);
                a3 = Vector256.MultiplyAddEstimate(Fp8Simd.E5M2Finite256(Fp8Simd.Load256(ref Unsafe.Add(ref c, i + 24))), Vector256.LoadUnsafe(ref x, (nuint)(i + 24)), a3);
            }
            else
            {
                // rare: a chunk with inf/NaN codes takes the exact decode (compare and select per vector)
                a0 = Vector256.MultiplyAddEstimate(Fp8Simd.E5M2Exact256(Fp8Simd.Load256(ref Unsafe.Add(ref c, i))), Vector256.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector256.MultiplyAddEstimate(Fp8Simd.E5M2Exact256(Fp8Simd.Load256(ref Unsafe.Add(ref c, i + 8))), Vector256.LoadUnsafe(ref x, (nuint)(i + 8)), a1);
                a2 = Vector256.MultiplyAddEstimate(Fp8Simd.E5M2Exact256(Fp8Simd.Load256(ref Unsafe.Add(ref c, i + 16))), Vector256.LoadUnsafe(ref x, (nuint)(i + 16)), a2);
                a3 = Vector256.MultiplyAddEstimate(Fp8Simd.E5M2Exact256(Fp8Simd.Load256(ref Unsafe.Add(ref c, i + 24))), Vector256.LoadUnsafe(ref x, (nuint)(i + 24)), a3);
            }
        }
        for (; i + 8 <= n; i += 8)
            a0 = Vector256.MultiplyAddEstimate(Fp8Simd.E5M2Exact256(Fp8Simd.Load256(ref Unsafe.Add(ref c, i))), Vector256.LoadUnsafe(ref x, (nuint)i), a0);
        float sum = Vector256.Sum((a0 + a1) + (a2 + a3));
        return sum + ScalarRange(ref c, ref x, i, n);
    }

    private static float Dot128(ref byte c, ref float x, int n)
    {
        // per iteration: 16 codes (one Vector128<byte>, checked for special codes) -> 4 accumulators of 4 lanes.
        // No calls inside the loop, so the accumulators stay in registers.
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var mask = Vector128.Create((byte)0x7C);
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            if (!Vector128.EqualsAny(Vector128.LoadUnsafe(ref c, (nuint)i) & mask, mask))
            {
                a0 = Vector128.MultiplyAddEstimate(Fp8Simd.E5M2Finite128(Fp8Simd.Load128(ref Unsafe.Add(ref c, i))), Vector128.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector128.MultiplyAddEstimate(Fp8Simd.E5M2Finite128(Fp8Simd.Load128(ref Unsafe.Add(ref c, i + 4))), Vector128.LoadUnsafe(ref x, (nuint)(i + 4)), a1);
                a2 = Vector128.MultiplyAddEstimate(Fp8Simd.E5M2Finite128(Fp8Simd.Load128(ref Unsafe.Add(ref c, i + 8))), Vector128.LoadUnsafe(ref x, (nuint)(i + 8)), a2);
                a3 = Vector128.MultiplyAddEstimate(Fp8Simd.E5M2Finite128(Fp8Simd.Load128(ref Unsafe.Add(ref c, i + 12))), Vector128.LoadUnsafe(ref x, (nuint)(i + 12)), a3);
            }
            else
            {
                // rare: a chunk with inf/NaN codes takes the exact decode (compare and select per vector)
                a0 = Vector128.MultiplyAddEstimate(Fp8Simd.E5M2Exact128(Fp8Simd.Load128(ref Unsafe.Add(ref c, i))), Vector128.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector128.MultiplyAddEstimate(Fp8Simd.E5M2Exact128(Fp8Simd.Load128(ref Unsafe.Add(ref c, i + 4))), Vector128.LoadUnsafe(ref x, (nuint)(i + 4)), a1);
                a2 = Vector128.MultiplyAddEstimate(Fp8Simd.E5M2Exact128(Fp8Simd.Load128(ref Unsafe.Add(ref c, i + 8))), Vector128.LoadUnsafe(ref x, (nuint)(i + 8)), a2);
                a3 = Vector128.MultiplyAddEstimate(Fp8Simd.E5M2Exact128(Fp8Simd.Load128(ref Unsafe.Add(ref c, i + 12))), Vector128.LoadUnsafe(ref x, (nuint)(i + 12)), a3);
            }
        }
        for (; i + 4 <= n; i += 4)
            a0 = Vector128.MultiplyAddEstimate(Fp8Simd.E5M2Exact128(Fp8Simd.Load128(ref Unsafe.Add(ref c, i))), Vector128.LoadUnsafe(ref x, (nuint)i), a0);
        float sum = Vector128.Sum((a0 + a1) + (a2 + a3));
        return sum + ScalarRange(ref c, ref x, i, n);
    }
}
