using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Formats.Float;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Float;

/// <summary>
/// The FP8 x F32 dot product shared by <see cref="Fp8E4M3VecDot"/> and <see cref="Fp8E5M2VecDot"/>, written once
/// and specialized per format by the JIT through the <see cref="IFp8Format"/> struct type argument (the format's
/// decoders are static calls on a struct, inlined into each loop, so the accumulators stay in registers).
/// Weight row: <c>[float32 scale][n codes]</c>; activation: n float32.
/// </summary>
internal static class Fp8VecDotCore
{
    /// <summary>F64 reference: scale * sum Decode(code_i) * x_i.</summary>
    internal static float DotReference<TFormat>(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
        where TFormat : struct, IFp8Format
    {
        float scale = BitConverter.ToSingle(weightRow);
        var codes = weightRow.Slice(4, n);
        var x = MemoryMarshal.Cast<byte, float>(activation)[..n];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (double)TFormat.Decode(codes[i]) * x[i];
        return (float)(sum * scale);
    }

    /// <summary>Dispatch to the widest accelerated vector size; records <paramref name="name"/> with the path taken.</summary>
    internal static float Dot<TFormat>(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n, string name)
        where TFormat : struct, IFp8Format
    {
        if (n < 0 || weightRow.Length < 4L + n || activation.Length < 4L * n)
            throw new ArgumentException("row spans shorter than n elements");
        float scale = BitConverter.ToSingle(weightRow);
        ref byte c = ref Unsafe.Add(ref MemoryMarshal.GetReference(weightRow), 4);
        ref float x = ref Unsafe.As<byte, float>(ref MemoryMarshal.GetReference(activation));
        if (Vector512.IsHardwareAccelerated) { KernelPaths.Record(name, SimdPath.V512); return scale * Dot512<TFormat>(ref c, ref x, n); }
        if (Vector256.IsHardwareAccelerated) { KernelPaths.Record(name, SimdPath.V256); return scale * Dot256<TFormat>(ref c, ref x, n); }
        if (Vector128.IsHardwareAccelerated) { KernelPaths.Record(name, SimdPath.V128); return scale * Dot128<TFormat>(ref c, ref x, n); }
        KernelPaths.Record(name, SimdPath.Scalar);
        return DotReference<TFormat>(weightRow, activation, n);
    }

    /// <summary>Exact scalar sum of Decode(c[i]) * x[i] over [from, to) (row tails).</summary>
    private static float ScalarRange<TFormat>(ref byte c, ref float x, int from, int to)
        where TFormat : struct, IFp8Format
    {
        float s = 0;
        for (int i = from; i < to; i++) s += TFormat.Decode(Unsafe.Add(ref c, i)) * Unsafe.Add(ref x, i);
        return s;
    }

    // NoInlining: each loop compiled as its own method, whatever the profile of the shared caller
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Dot512<TFormat>(ref byte c, ref float x, int n)
        where TFormat : struct, IFp8Format
    {
        // per iteration: 64 codes (one Vector512<byte>, checked for special codes) -> 4 accumulators of 16 lanes.
        // No calls inside the loop (the decoders inline), so the accumulators stay in registers.
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var mask = Vector512.Create(TFormat.SpecialMask);
        int i = 0;
        for (; i + 64 <= n; i += 64)
        {
            if (!Vector512.EqualsAny(Vector512.LoadUnsafe(ref c, (nuint)i) & mask, mask))
            {
                a0 = Vector512.MultiplyAddEstimate(TFormat.Finite(Fp8Simd.Load512(ref Unsafe.Add(ref c, i))), Vector512.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector512.MultiplyAddEstimate(TFormat.Finite(Fp8Simd.Load512(ref Unsafe.Add(ref c, i + 16))), Vector512.LoadUnsafe(ref x, (nuint)(i + 16)), a1);
                a2 = Vector512.MultiplyAddEstimate(TFormat.Finite(Fp8Simd.Load512(ref Unsafe.Add(ref c, i + 32))), Vector512.LoadUnsafe(ref x, (nuint)(i + 32)), a2);
                a3 = Vector512.MultiplyAddEstimate(TFormat.Finite(Fp8Simd.Load512(ref Unsafe.Add(ref c, i + 48))), Vector512.LoadUnsafe(ref x, (nuint)(i + 48)), a3);
            }
            else
            {
                // rare: a chunk with inf/NaN codes takes the exact decode (compare and select per vector)
                a0 = Vector512.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load512(ref Unsafe.Add(ref c, i))), Vector512.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector512.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load512(ref Unsafe.Add(ref c, i + 16))), Vector512.LoadUnsafe(ref x, (nuint)(i + 16)), a1);
                a2 = Vector512.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load512(ref Unsafe.Add(ref c, i + 32))), Vector512.LoadUnsafe(ref x, (nuint)(i + 32)), a2);
                a3 = Vector512.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load512(ref Unsafe.Add(ref c, i + 48))), Vector512.LoadUnsafe(ref x, (nuint)(i + 48)), a3);
            }
        }
        for (; i + 16 <= n; i += 16)
            a0 = Vector512.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load512(ref Unsafe.Add(ref c, i))), Vector512.LoadUnsafe(ref x, (nuint)i), a0);
        float sum = Vector512.Sum((a0 + a1) + (a2 + a3));
        return sum + ScalarRange<TFormat>(ref c, ref x, i, n);
    }

    // NoInlining: each loop compiled as its own method, whatever the profile of the shared caller
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Dot256<TFormat>(ref byte c, ref float x, int n)
        where TFormat : struct, IFp8Format
    {
        // per iteration: 32 codes (one Vector256<byte>, checked for special codes) -> 4 accumulators of 8 lanes.
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var mask = Vector256.Create(TFormat.SpecialMask);
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            if (!Vector256.EqualsAny(Vector256.LoadUnsafe(ref c, (nuint)i) & mask, mask))
            {
                a0 = Vector256.MultiplyAddEstimate(TFormat.Finite(Fp8Simd.Load256(ref Unsafe.Add(ref c, i))), Vector256.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector256.MultiplyAddEstimate(TFormat.Finite(Fp8Simd.Load256(ref Unsafe.Add(ref c, i + 8))), Vector256.LoadUnsafe(ref x, (nuint)(i + 8)), a1);
                a2 = Vector256.MultiplyAddEstimate(TFormat.Finite(Fp8Simd.Load256(ref Unsafe.Add(ref c, i + 16))), Vector256.LoadUnsafe(ref x, (nuint)(i + 16)), a2);
                a3 = Vector256.MultiplyAddEstimate(TFormat.Finite(Fp8Simd.Load256(ref Unsafe.Add(ref c, i + 24))), Vector256.LoadUnsafe(ref x, (nuint)(i + 24)), a3);
            }
            else
            {
                a0 = Vector256.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load256(ref Unsafe.Add(ref c, i))), Vector256.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector256.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load256(ref Unsafe.Add(ref c, i + 8))), Vector256.LoadUnsafe(ref x, (nuint)(i + 8)), a1);
                a2 = Vector256.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load256(ref Unsafe.Add(ref c, i + 16))), Vector256.LoadUnsafe(ref x, (nuint)(i + 16)), a2);
                a3 = Vector256.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load256(ref Unsafe.Add(ref c, i + 24))), Vector256.LoadUnsafe(ref x, (nuint)(i + 24)), a3);
            }
        }
        for (; i + 8 <= n; i += 8)
            a0 = Vector256.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load256(ref Unsafe.Add(ref c, i))), Vector256.LoadUnsafe(ref x, (nuint)i), a0);
        float sum = Vector256.Sum((a0 + a1) + (a2 + a3));
        return sum + ScalarRange<TFormat>(ref c, ref x, i, n);
    }

    // NoInlining: each loop compiled as its own method, whatever the profile of the shared caller
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Dot128<TFormat>(ref byte c, ref float x, int n)
        where TFormat : struct, IFp8Format
    {
        // per iteration: 16 codes (one Vector128<byte>, checked for special codes) -> 4 accumulators of 4 lanes.
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var mask = Vector128.Create(TFormat.SpecialMask);
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            if (!Vector128.EqualsAny(Vector128.LoadUnsafe(ref c, (nuint)i) & mask, mask))
            {
                a0 = Vector128.MultiplyAddEstimate(TFormat.Finite(Fp8Simd.Load128(ref Unsafe.Add(ref c, i))), Vector128.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector128.MultiplyAddEstimate(TFormat.Finite(Fp8Simd.Load128(ref Unsafe.Add(ref c, i + 4))), Vector128.LoadUnsafe(ref x, (nuint)(i + 4)), a1);
                a2 = Vector128.MultiplyAddEstimate(TFormat.Finite(Fp8Simd.Load128(ref Unsafe.Add(ref c, i + 8))), Vector128.LoadUnsafe(ref x, (nuint)(i + 8)), a2);
                a3 = Vector128.MultiplyAddEstimate(TFormat.Finite(Fp8Simd.Load128(ref Unsafe.Add(ref c, i + 12))), Vector128.LoadUnsafe(ref x, (nuint)(i + 12)), a3);
            }
            else
            {
                a0 = Vector128.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load128(ref Unsafe.Add(ref c, i))), Vector128.LoadUnsafe(ref x, (nuint)i), a0);
                a1 = Vector128.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load128(ref Unsafe.Add(ref c, i + 4))), Vector128.LoadUnsafe(ref x, (nuint)(i + 4)), a1);
                a2 = Vector128.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load128(ref Unsafe.Add(ref c, i + 8))), Vector128.LoadUnsafe(ref x, (nuint)(i + 8)), a2);
                a3 = Vector128.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load128(ref Unsafe.Add(ref c, i + 12))), Vector128.LoadUnsafe(ref x, (nuint)(i + 12)), a3);
            }
        }
        for (; i + 4 <= n; i += 4)
            a0 = Vector128.MultiplyAddEstimate(TFormat.Exact(Fp8Simd.Load128(ref Unsafe.Add(ref c, i))), Vector128.LoadUnsafe(ref x, (nuint)i), a0);
        float sum = Vector128.Sum((a0 + a1) + (a2 + a3));
        return sum + ScalarRange<TFormat>(ref c, ref x, i, n);
    }
}
