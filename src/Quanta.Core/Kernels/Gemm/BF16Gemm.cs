using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Formats.Float;
using Quanta.Core.Kernels.Float;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>
/// Register-blocked BF16 weights x BF16 activations (prefill): tiles of up to 2 weight rows x 3 tokens. Each 32-value
/// slice of a row is widened to F32 once per tile and used for every token; each activation slice once for every row.
/// <para>Arithmetic: that of <see cref="BF16VecDot"/>'s 512-bit Dot, unchanged, per output: over 64-element chunks,
/// a0/a1 take the even/odd values of elements 0..31 and a2/a3 those of 32..63 (a_k = MultiplyAddEstimate(w, x, a_k),
/// chunks ascending), then Vector512.Sum((a0 + a1) + (a2 + a3)) plus the row tail summed in scalar order. So every tile
/// shape gives the Dot's bits: results do not depend on the batch size, the tile or the thread split, and m = 1 (the
/// Dot) agrees with any batch.</para>
/// <para>The tiles run where that Dot takes its 512-bit path (<see cref="Vector512.IsHardwareAccelerated"/>); elsewhere
/// <see cref="Rows"/> computes each output with the Dot itself.</para>
/// Stateless, thread-safe, allocation-free.
/// </summary>
internal static unsafe class BF16Gemm
{
    private const int TokenBlock = 48;   // tokens whose activation rows stay in L2 while a row tile sweeps them

    /// <summary>True when <paramref name="kernel"/> is the BF16 kernel this GEMM reproduces.</summary>
    public static bool Supports(IVecDotKernel kernel) => kernel is BF16VecDot;

    /// <summary>The path <see cref="Rows"/> takes on this machine: V512 for the tiles, else the per-output Dot.</summary>
    public static SimdPath Widest => Vector512.IsHardwareAccelerated ? SimdPath.V512 : SimdPath.Scalar;

    /// <summary>
    /// Y[t, r] for rows [r0, r1) and tokens [0, m): weight row r at w + r·n (n BF16 values), the BF16 activation row of
    /// token t at x + t·xStride, output at y[t·yStride + r].
    /// </summary>
    public static void Rows(ushort* w, int n, int r0, int r1, ushort* x, int xStride, int m, float* y, int yStride)
    {
        SimdPath path = Widest;
        KernelPaths.Record("bf16*bf16 gemm", path);
        if (path != SimdPath.V512)
        {
            var k = BF16VecDot.Instance;
            for (int r = r0; r < r1; r++)
            {
                var wr = new ReadOnlySpan<byte>(w + (long)r * n, 2 * n);
                for (int t = 0; t < m; t++)
                    y[(long)t * yStride + r] = k.Dot(wr, new ReadOnlySpan<byte>(x + (long)t * xStride, 2 * n), n);
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
                    ushort* wr = w + (long)r * n, xt = x + (long)t * xStride;
                    float* yt = y + (long)t * yStride + r;
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

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tile512<TR, TT>(ushort* w, int n, ushort* x, int xs, float* y, int ys)
        where TR : struct, ITileCount where TT : struct, ITileCount
    {
        // a{k}{r}{t}: accumulator k of row r, token t
        Vector512<float> a000 = default, a001 = default, a002 = default, a010 = default, a011 = default, a012 = default;
        Vector512<float> a100 = default, a101 = default, a102 = default, a110 = default, a111 = default, a112 = default;
        Vector512<float> a200 = default, a201 = default, a202 = default, a210 = default, a211 = default, a212 = default;
        Vector512<float> a300 = default, a301 = default, a302 = default, a310 = default, a311 = default, a312 = default;
        ushort* w0 = w, w1 = TR.N > 1 ? w + n : w;
        ushort* x0 = x, x1 = TT.N > 1 ? x + xs : x, x2 = TT.N > 2 ? x + 2L * xs : x;
        int i = 0;
        for (; i + 64 <= n; i += 64)
        {
            Half(w0 + i, w1 + i, x0 + i, x1 + i, x2 + i, ref a000, ref a001, ref a002, ref a010, ref a011, ref a012, ref a100, ref a101, ref a102, ref a110, ref a111, ref a112);
            Half(w0 + i + 32, w1 + i + 32, x0 + i + 32, x1 + i + 32, x2 + i + 32, ref a200, ref a201, ref a202, ref a210, ref a211, ref a212, ref a300, ref a301, ref a302, ref a310, ref a311, ref a312);

            // 32 elements: even values into the c0 accumulators, odd values into the c1 ones
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            static void Half(ushort* p0, ushort* p1, ushort* q0, ushort* q1, ushort* q2,
                ref Vector512<float> c000, ref Vector512<float> c001, ref Vector512<float> c002, ref Vector512<float> c010, ref Vector512<float> c011, ref Vector512<float> c012,
                ref Vector512<float> c100, ref Vector512<float> c101, ref Vector512<float> c102, ref Vector512<float> c110, ref Vector512<float> c111, ref Vector512<float> c112)
            {
                Vector512<uint> hi = Vector512.Create(0xFFFF0000u);
                Vector512<uint> u0 = Vector512.Load((uint*)p0), u1 = TR.N > 1 ? Vector512.Load((uint*)p1) : default;
                Vector512<float> e0 = (u0 << 16).AsSingle(), o0 = (u0 & hi).AsSingle();
                Vector512<float> e1 = (u1 << 16).AsSingle(), o1 = (u1 & hi).AsSingle();
                {
                    Vector512<uint> v = Vector512.Load((uint*)q0);
                    Vector512<float> xe = (v << 16).AsSingle(), xo = (v & hi).AsSingle();
                    c000 = Vector512.MultiplyAddEstimate(e0, xe, c000);
                    c100 = Vector512.MultiplyAddEstimate(o0, xo, c100);
                    if (TR.N > 1) { c010 = Vector512.MultiplyAddEstimate(e1, xe, c010); c110 = Vector512.MultiplyAddEstimate(o1, xo, c110); }
                }
                if (TT.N > 1)
                {
                    Vector512<uint> v = Vector512.Load((uint*)q1);
                    Vector512<float> xe = (v << 16).AsSingle(), xo = (v & hi).AsSingle();
                    c001 = Vector512.MultiplyAddEstimate(e0, xe, c001);
                    c101 = Vector512.MultiplyAddEstimate(o0, xo, c101);
                    if (TR.N > 1) { c011 = Vector512.MultiplyAddEstimate(e1, xe, c011); c111 = Vector512.MultiplyAddEstimate(o1, xo, c111); }
                }
                if (TT.N > 2)
                {
                    Vector512<uint> v = Vector512.Load((uint*)q2);
                    Vector512<float> xe = (v << 16).AsSingle(), xo = (v & hi).AsSingle();
                    c002 = Vector512.MultiplyAddEstimate(e0, xe, c002);
                    c102 = Vector512.MultiplyAddEstimate(o0, xo, c102);
                    if (TR.N > 1) { c012 = Vector512.MultiplyAddEstimate(e1, xe, c012); c112 = Vector512.MultiplyAddEstimate(o1, xo, c112); }
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
    private static float Tail(ushort* w, ushort* x, int from, int n)
    {
        float s = 0;
        for (int i = from; i < n; i++) s += BF16Conversion.ToSingle(w[i]) * BF16Conversion.ToSingle(x[i]);
        return s;
    }
}
