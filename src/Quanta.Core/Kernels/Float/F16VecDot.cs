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

    /// <summary>Whether <see cref="DotRows"/> has a multi-row path here (AVX-512); elsewhere it runs one <see cref="Dot"/> per row.</summary>
    internal static bool RowsAccelerated => Vector512.IsHardwareAccelerated;

    /// <summary>
    /// xs[i] = x[i] · 2^112 for the batch-1 row loop (<see cref="DotRows"/>). Exact for every F16 value (|x| ≤ 65504, so
    /// |xs| stays below float.MaxValue; infinities and NaNs stay so). x, xs: [n].
    /// </summary>
    internal static unsafe void ScaleForRows(float* x, float* xs, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16) (Vector512.Load(x + i) * Vector512.Create(F16Conversion.Two112)).Store(xs + i);
        for (; i < n; i++) xs[i] = x[i] * F16Conversion.Two112;
    }

    /// <summary>
    /// y[r] = <see cref="Dot"/>(row r, x) for r in [<paramref name="r0"/>, <paramref name="r1"/>), bit for bit: the batch-1
    /// matrix product. Row r at w + r·n (n F16 values); x: one activation row from <see cref="QuantizeActivation"/>; xs:
    /// the same row from <see cref="ScaleForRows"/>. With AVX-512, 4 rows at a time (<see cref="Rows4"/>): each
    /// activation vector is loaded once for the 4 rows, and the finite weights are only shifted and masked into F32
    /// position (value · 2^-112, exact) and multiplied by xs = x · 2^112, so each product w·x — and so each fused
    /// multiply-add — is exactly the Dot's; chunks holding an inf/NaN take the Dot's exact decode with x. Other paths run
    /// <see cref="Dot"/> per row.
    /// </summary>
    internal unsafe void DotRows(ushort* w, int n, int r0, int r1, float* x, float* xs, float* y)
    {
        int r = r0;
        if (RowsAccelerated)
        {
            KernelPaths.Record(KernelName, SimdPath.V512);
            for (; r + 4 <= r1; r += 4) Rows4((short*)w + (long)r * n, n, x, xs, y + r);
            for (; r < r1; r++) y[r] = Dot512(ref *((short*)w + (long)r * n), ref *x, n);
            return;
        }
        for (; r < r1; r++)
            y[r] = Dot(new ReadOnlySpan<byte>(w + (long)r * n, 2 * n), new ReadOnlySpan<byte>(x, 4 * n), n);
    }

    /// <summary>
    /// Whether the 64 weights at each of p0..p3 hold no inf/NaN (exponent field 31): the 16 masked 256-bit loads folded
    /// by max, one compare. 256-bit loads, because 512-bit ones span two cache lines on every row of a tensor at 32 mod
    /// 64 (GGUF's alignment; the weights' own loads are 256-bit, which never do); hot, x0.96 against 512-bit loads too.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe bool Finite4x64(short* p0, short* p1, short* p2, short* p3)
    {
        var m = Vector256.Create((short)0x7C00);
        return !Vector256.EqualsAny(Vector256.Max(Vector256.Max(Exponents64(p0, m), Exponents64(p1, m)), Vector256.Max(Exponents64(p2, m), Exponents64(p3, m))), m.AsUInt16());
    }

    /// <summary>The lane-wise max of the exponent fields (<paramref name="m"/>) of the 64 weights at p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<ushort> Exponents64(short* p, Vector256<short> m) =>
        Vector256.Max(Vector256.Max((Vector256.Load(p) & m).AsUInt16(), (Vector256.Load(p + 16) & m).AsUInt16()),
            Vector256.Max((Vector256.Load(p + 32) & m).AsUInt16(), (Vector256.Load(p + 48) & m).AsUInt16()));

    /// <summary>16 finite weights from p, their bits moved into F32 position: each lane is the weight · 2^-112, exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> Unscaled16(short* p) =>
        F16Conversion.UnscaledFinite512(Avx512F.ConvertToVector512Int32(Vector256.Load(p)));

    /// <summary>
    /// The 4 rows at w (stride n) against one activation row: per row the <see cref="Dot512"/> accumulators (a_k takes
    /// elements 64c + 16k .. + 15, chunk c ascending), final sum and scalar tail, so each y has the Dot's bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void Rows4(short* w, int n, float* x, float* xs, float* y)
    {
        short* w0 = w, w1 = w + n, w2 = w + 2L * n, w3 = w + 3L * n;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        // the 4 interleaved row streams defeat the hardware prefetchers (measured: the model's F16 decode halved while
        // the cache-resident microbenchmark ran faster), so each step prefetches its share (512 bytes) of the next
        // 4-row tile, which is contiguous: into L1 while the tile is at most 8 KiB, else into L2. 9 lines, not 8: GGUF
        // aligns tensors to 32 bytes only (the test models' F16 tensors all sit at 32 mod 64), where 512 bytes span 9
        // lines; the 9th prefetch made the 160M F16 token's products x0.86 there (the same as 64-byte-aligned weights,
        // which lose nothing by it: docs/perf-notes, f16tok)
        byte* pf = (byte*)(w + 4L * n);
        bool l1 = 8L * n <= 8192;
        int i = 0;
        for (; i + 64 <= n; i += 64, pf += 512)
        {
            if (l1) { for (int o = 0; o <= 512; o += 64) Sse.Prefetch0(pf + o); }
            else { for (int o = 0; o <= 512; o += 64) Sse.Prefetch1(pf + o); }
            if (Finite4x64(w0 + i, w1 + i, w2 + i, w3 + i))
            {
                Vector512<float> s0 = Vector512.Load(xs + i), s1 = Vector512.Load(xs + i + 16), s2 = Vector512.Load(xs + i + 32), s3 = Vector512.Load(xs + i + 48);
                a00 = Vector512.MultiplyAddEstimate(Unscaled16(w0 + i), s0, a00);
                a10 = Vector512.MultiplyAddEstimate(Unscaled16(w1 + i), s0, a10);
                a20 = Vector512.MultiplyAddEstimate(Unscaled16(w2 + i), s0, a20);
                a30 = Vector512.MultiplyAddEstimate(Unscaled16(w3 + i), s0, a30);
                a01 = Vector512.MultiplyAddEstimate(Unscaled16(w0 + i + 16), s1, a01);
                a11 = Vector512.MultiplyAddEstimate(Unscaled16(w1 + i + 16), s1, a11);
                a21 = Vector512.MultiplyAddEstimate(Unscaled16(w2 + i + 16), s1, a21);
                a31 = Vector512.MultiplyAddEstimate(Unscaled16(w3 + i + 16), s1, a31);
                a02 = Vector512.MultiplyAddEstimate(Unscaled16(w0 + i + 32), s2, a02);
                a12 = Vector512.MultiplyAddEstimate(Unscaled16(w1 + i + 32), s2, a12);
                a22 = Vector512.MultiplyAddEstimate(Unscaled16(w2 + i + 32), s2, a22);
                a32 = Vector512.MultiplyAddEstimate(Unscaled16(w3 + i + 32), s2, a32);
                a03 = Vector512.MultiplyAddEstimate(Unscaled16(w0 + i + 48), s3, a03);
                a13 = Vector512.MultiplyAddEstimate(Unscaled16(w1 + i + 48), s3, a13);
                a23 = Vector512.MultiplyAddEstimate(Unscaled16(w2 + i + 48), s3, a23);
                a33 = Vector512.MultiplyAddEstimate(Unscaled16(w3 + i + 48), s3, a33);
            }
            else
            {
                // rare: an inf/NaN among these weights: the Dot's exact decode against x, row by row
                a00 = Exact16(w0 + i, x + i, a00); a01 = Exact16(w0 + i + 16, x + i + 16, a01); a02 = Exact16(w0 + i + 32, x + i + 32, a02); a03 = Exact16(w0 + i + 48, x + i + 48, a03);
                a10 = Exact16(w1 + i, x + i, a10); a11 = Exact16(w1 + i + 16, x + i + 16, a11); a12 = Exact16(w1 + i + 32, x + i + 32, a12); a13 = Exact16(w1 + i + 48, x + i + 48, a13);
                a20 = Exact16(w2 + i, x + i, a20); a21 = Exact16(w2 + i + 16, x + i + 16, a21); a22 = Exact16(w2 + i + 32, x + i + 32, a22); a23 = Exact16(w2 + i + 48, x + i + 48, a23);
                a30 = Exact16(w3 + i, x + i, a30); a31 = Exact16(w3 + i + 16, x + i + 16, a31); a32 = Exact16(w3 + i + 32, x + i + 32, a32); a33 = Exact16(w3 + i + 48, x + i + 48, a33);
            }
        }
        y[0] = Vector512.Sum((a00 + a01) + (a02 + a03)) + ScalarRange(ref *w0, ref *x, i, n);
        y[1] = Vector512.Sum((a10 + a11) + (a12 + a13)) + ScalarRange(ref *w1, ref *x, i, n);
        y[2] = Vector512.Sum((a20 + a21) + (a22 + a23)) + ScalarRange(ref *w2, ref *x, i, n);
        y[3] = Vector512.Sum((a30 + a31) + (a32 + a33)) + ScalarRange(ref *w3, ref *x, i, n);
    }

    /// <summary>acc + (16 weights at w, exactly decoded whatever they hold) · (x[0..15]), one FMA as in <see cref="Dot512"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> Exact16(short* w, float* x, Vector512<float> acc) =>
        Vector512.MultiplyAddEstimate(F16Conversion.DecodeExact512(Avx512F.ConvertToVector512Int32(Vector256.Load(w))), Vector512.Load(x), acc);

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
