using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Float;
using Quanta.Core.Kernels.Float;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>
/// Register-blocked F16 weights x F32 activations (prefill): tiles of up to 2 weight rows x 3 tokens. Each 16-weight
/// slice is widened to F32 once per row and used for every token of the tile; each activation slice is loaded once and
/// used for every row.
/// <para>Arithmetic: that of <see cref="F16VecDot"/>'s 512-bit Dot, unchanged, per output: four 16-lane accumulators
/// a_k over 64-element chunks (a_k = MultiplyAddEstimate(w, x, a_k) on elements 64c + 16k .. 64c + 16k + 15, chunks
/// ascending; a chunk holding an inf/NaN weight widened by the exact decode), then
/// Vector512.Sum((a0 + a1) + (a2 + a3)) plus the row tail summed in scalar order. So every tile shape gives the Dot's
/// bits: results do not depend on the batch size, the tile or the thread split, and m = 1 (the Dot) agrees with any
/// batch.</para>
/// <para>The tiles run where that Dot takes its 512-bit path (<see cref="Vector512.IsHardwareAccelerated"/>); elsewhere
/// <see cref="Rows"/> computes each output with the Dot itself.</para>
/// Stateless, thread-safe, allocation-free.
/// </summary>
internal static unsafe class F16Gemm
{
    private const int TokenBlock = 48;   // tokens whose activation rows stay in L2 while a row tile sweeps them

    /// <summary>True when <paramref name="kernel"/> is the F16 kernel this GEMM reproduces.</summary>
    public static bool Supports(IVecDotKernel kernel) => kernel is F16VecDot;

    /// <summary>The path <see cref="Rows"/> takes on this machine: V512 for the tiles, else the per-output Dot.</summary>
    public static SimdPath Widest => Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? SimdPath.V512 : SimdPath.Scalar;

    /// <summary>
    /// Y[t, r] for rows [r0, r1) and tokens [0, m): weight row r at w + r·2n bytes (n F16 values), the activation row
    /// of token t (n F32 values, each an F16 value, from <see cref="F16VecDot.QuantizeActivation"/>) at
    /// x + t·xStride floats, output at y[t·yStride + r].
    /// </summary>
    public static void Rows(ushort* w, int n, int r0, int r1, float* x, int xStride, int m, float* y, int yStride)
    {
        SimdPath path = Widest;
        KernelPaths.Record("f16*f16 gemm", path);
        if (path != SimdPath.V512)
        {
            var k = F16VecDot.Instance;
            for (int r = r0; r < r1; r++)
            {
                var wr = new ReadOnlySpan<byte>(w + (long)r * n, 2 * n);
                for (int t = 0; t < m; t++)
                    y[(long)t * yStride + r] = k.Dot(wr, new ReadOnlySpan<byte>(x + (long)t * xStride, 4 * n), n);
            }
            return;
        }
        for (int tb = 0; tb < m; tb += TokenBlock)
        {
            int te = Math.Min(m, tb + TokenBlock);
            for (int r = r0; r < r1; r += 2)
            {
                bool two = r + 1 < r1;
                for (int t = tb; t < te; t += 3)
                {
                    int nt = Math.Min(3, te - t);
                    ushort* wr = w + (long)r * n;
                    float* xt = x + (long)t * xStride, yt = y + (long)t * yStride + r;
                    switch (nt)
                    {
                        case 3: if (two) Tile512<Tile2, Tile3>(wr, n, xt, xStride, yt, yStride); else Tile512<Tile1, Tile3>(wr, n, xt, xStride, yt, yStride); break;
                        case 2: if (two) Tile512<Tile2, Tile2>(wr, n, xt, xStride, yt, yStride); else Tile512<Tile1, Tile2>(wr, n, xt, xStride, yt, yStride); break;
                        default: if (two) Tile512<Tile2, Tile1>(wr, n, xt, xStride, yt, yStride); else Tile512<Tile1, Tile1>(wr, n, xt, xStride, yt, yStride); break;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen(ushort* w, bool special) =>
        special ? F16Conversion.DecodeExact512(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)w)))
                : F16Conversion.DecodeFinite512(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)w)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Special(ushort* w)
    {
        Vector512<short> e = Vector512.Create((short)0x7C00);
        var r0 = Vector512.Load((short*)w) & e;
        var r1 = Vector512.Load((short*)w + 32) & e;
        return Vector512.EqualsAny(Vector512.Max(r0.AsUInt16(), r1.AsUInt16()), e.AsUInt16());
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tile512<TR, TT>(ushort* w, int n, float* x, int xs, float* y, int ys)
        where TR : struct, ITileCount where TT : struct, ITileCount
    {
        // a{k}{r}{t}: accumulator k (elements 16k.. of each chunk) of row r, token t
        Vector512<float> a000 = default, a001 = default, a002 = default, a010 = default, a011 = default, a012 = default;
        Vector512<float> a100 = default, a101 = default, a102 = default, a110 = default, a111 = default, a112 = default;
        Vector512<float> a200 = default, a201 = default, a202 = default, a210 = default, a211 = default, a212 = default;
        Vector512<float> a300 = default, a301 = default, a302 = default, a310 = default, a311 = default, a312 = default;
        ushort* w0 = w, w1 = TR.N > 1 ? w + n : w;
        float* x0 = x, x1 = TT.N > 1 ? x + xs : x, x2 = TT.N > 2 ? x + 2L * xs : x;
        int i = 0;
        for (; i + 64 <= n; i += 64)
        {
            bool sp0 = Special(w0 + i), sp1 = TR.N > 1 && Special(w1 + i);
            Step(w0 + i, w1 + i, sp0, sp1, x0 + i, x1 + i, x2 + i, ref a000, ref a001, ref a002, ref a010, ref a011, ref a012);
            Step(w0 + i + 16, w1 + i + 16, sp0, sp1, x0 + i + 16, x1 + i + 16, x2 + i + 16, ref a100, ref a101, ref a102, ref a110, ref a111, ref a112);
            Step(w0 + i + 32, w1 + i + 32, sp0, sp1, x0 + i + 32, x1 + i + 32, x2 + i + 32, ref a200, ref a201, ref a202, ref a210, ref a211, ref a212);
            Step(w0 + i + 48, w1 + i + 48, sp0, sp1, x0 + i + 48, x1 + i + 48, x2 + i + 48, ref a300, ref a301, ref a302, ref a310, ref a311, ref a312);

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            static void Step(ushort* p0, ushort* p1, bool s0, bool s1, float* q0, float* q1, float* q2,
                ref Vector512<float> c00, ref Vector512<float> c01, ref Vector512<float> c02, ref Vector512<float> c10, ref Vector512<float> c11, ref Vector512<float> c12)
            {
                Vector512<float> v0 = Widen(p0, s0), v1 = TR.N > 1 ? Widen(p1, s1) : default;
                Vector512<float> xa = Vector512.Load(q0);
                c00 = Vector512.MultiplyAddEstimate(v0, xa, c00);
                if (TR.N > 1) c10 = Vector512.MultiplyAddEstimate(v1, xa, c10);
                if (TT.N > 1)
                {
                    Vector512<float> xb = Vector512.Load(q1);
                    c01 = Vector512.MultiplyAddEstimate(v0, xb, c01);
                    if (TR.N > 1) c11 = Vector512.MultiplyAddEstimate(v1, xb, c11);
                }
                if (TT.N > 2)
                {
                    Vector512<float> xc = Vector512.Load(q2);
                    c02 = Vector512.MultiplyAddEstimate(v0, xc, c02);
                    if (TR.N > 1) c12 = Vector512.MultiplyAddEstimate(v1, xc, c12);
                }
            }
        }
        y[0] = Vector512.Sum((a000 + a100) + (a200 + a300)) + Tail(w0, x0, i, n);
        if (TR.N > 1) y[1] = Vector512.Sum((a010 + a110) + (a210 + a310)) + Tail(w1, x0, i, n);
        if (TT.N > 1)
        {
            y[ys] = Vector512.Sum((a001 + a101) + (a201 + a301)) + Tail(w0, x1, i, n);
            if (TR.N > 1) y[ys + 1] = Vector512.Sum((a011 + a111) + (a211 + a311)) + Tail(w1, x1, i, n);
        }
        if (TT.N > 2)
        {
            y[2L * ys] = Vector512.Sum((a002 + a102) + (a202 + a302)) + Tail(w0, x2, i, n);
            if (TR.N > 1) y[2L * ys + 1] = Vector512.Sum((a012 + a112) + (a212 + a312)) + Tail(w1, x2, i, n);
        }
    }

    /// <summary>The row tail [from, n) in scalar order, as the Dot sums it.</summary>
    private static float Tail(ushort* w, float* x, int from, int n)
    {
        float s = 0;
        for (int i = from; i < n; i++) s += F16Conversion.ToSingle(w[i]) * x[i];
        return s;
    }
}
