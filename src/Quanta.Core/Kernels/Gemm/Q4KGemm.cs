using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Kernels.Quantized;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>
/// Register-blocked Q4_K x Q8_K matrix product (prefill): Y[t, r] = W[r, :] · x[t, :] for a tile of up to 4 weight rows
/// x 4 tokens at once. Each super-block's nibbles and 6-bit scales are unpacked once per row and used for every token
/// of the tile; each activation block is loaded once per tile and used for every row.
/// <para>Arithmetic: that of <see cref="VecDotQ4_K"/> (ggml's ggml_vec_dot_q4_K_q8_K), unchanged. Per super-block the
/// integer sums isum = Σ_j sc_j Σ q4·q8 and summ = Σ_j m_j (bsums[2j] + bsums[2j+1]) are exact in int32 whatever the
/// summation order, and the float steps acc += d·isum; acc −= dmin·summ (d = d_a·d_w, dmin = d_a·dmin_w, no fused
/// multiply-add) run per output in super-block order. So every tile shape gives the bits of
/// <see cref="IVecDotKernel.Dot"/> for that row and token: results do not depend on the batch size, the tile or the
/// thread split, and m = 1 (which <see cref="MatMul"/> leaves to <see cref="IVecDotKernel.Dot"/>) agrees with any batch.</para>
/// <para>The tiles need AVX-512 BW; on other machines <see cref="Rows"/> computes each output with the kernel's
/// <see cref="IVecDotKernel.Dot"/> (whose 256-bit, 128-bit and scalar paths give the same bits).</para>
/// Stateless, thread-safe, allocation-free.
/// </summary>
internal static unsafe class Q4KGemm
{
    private const int TokenBlock = 32;   // tokens whose Q8_K rows stay in L2 while a row tile sweeps them

    /// <summary>True when <paramref name="kernel"/> is the q4_k*q8_k kernel this GEMM reproduces.</summary>
    public static bool Supports(IVecDotKernel kernel) => kernel is VecDotQ4_K;

    /// <summary>The path <see cref="Rows"/> takes on this machine: V512 for the tiles, else the per-output Dot.</summary>
    public static SimdPath Widest => Q8KActivation.Path;

    /// <summary>
    /// Y[t, r] for rows [r0, r1) and tokens [0, m): weight row r at w + r·rowBytes (nb super-blocks), the Q8_K
    /// activation row of token t at acts + t·actStride, output at y[t·yStride + r].
    /// </summary>
    public static void Rows(byte* w, long rowBytes, int r0, int r1, byte* acts, int actStride, int m, int nb, float* y, int yStride)
    {
        SimdPath path = Widest;
        KernelPaths.Record("q4_k*q8_k gemm", path);
        Rows(w, rowBytes, r0, r1, acts, actStride, m, nb, y, yStride, path);
    }

    /// <summary><see cref="Rows(byte*, long, int, int, byte*, int, int, int, float*, int)"/> on a named path: V512
    /// (must be supported) runs the tiles; Scalar the reference; other paths the kernel's Dot.</summary>
    internal static void Rows(byte* w, long rowBytes, int r0, int r1, byte* acts, int actStride, int m, int nb, float* y, int yStride, SimdPath path)
    {
        if (path != SimdPath.V512)
        {
            var k = VecDotQ4_K.Instance;
            int rb = nb * BlockQ4_K.Size, ab = nb * BlockQ8_K.Size, n = nb * 256;
            for (int r = r0; r < r1; r++)
            {
                var wr = new ReadOnlySpan<byte>(w + r * rowBytes, rb);
                for (int t = 0; t < m; t++)
                {
                    var a = new ReadOnlySpan<byte>(acts + (long)t * actStride, ab);
                    y[(long)t * yStride + r] = path == SimdPath.Scalar ? k.DotReference(wr, a, n) : k.Dot(wr, a, n);
                }
            }
            return;
        }
        for (int tb = 0; tb < m; tb += TokenBlock)
        {
            int te = Math.Min(m, tb + TokenBlock);
            for (int r = r0; r < r1; r += 4)
            {
                int nr = Math.Min(4, r1 - r);
                for (int t = tb; t < te; t += 4)
                    Tile512(nr, Math.Min(4, te - t), w + r * rowBytes, rowBytes, acts + (long)t * actStride, actStride, nb,
                        y + (long)t * yStride + r, yStride);
            }
        }
    }

    private static void Tile512(int nr, int nt, byte* w, long rowBytes, byte* a, int actStride, int nb, float* y, int ys)
    {
        switch (nr)
        {
            case 4: Tile512R<Tile4>(nt, w, rowBytes, a, actStride, nb, y, ys); break;
            case 3: Tile512R<Tile3>(nt, w, rowBytes, a, actStride, nb, y, ys); break;
            case 2: Tile512R<Tile2>(nt, w, rowBytes, a, actStride, nb, y, ys); break;
            default: Tile512R<Tile1>(nt, w, rowBytes, a, actStride, nb, y, ys); break;
        }
    }

    private static void Tile512R<TR>(int nt, byte* w, long rowBytes, byte* a, int actStride, int nb, float* y, int ys) where TR : struct, ITileCount
    {
        switch (nt)
        {
            case 4: Tile512<TR, Tile4>(w, rowBytes, a, actStride, nb, y, ys); break;
            case 3: Tile512<TR, Tile3>(w, rowBytes, a, actStride, nb, y, ys); break;
            case 2: Tile512<TR, Tile2>(w, rowBytes, a, actStride, nb, y, ys); break;
            default: Tile512<TR, Tile1>(w, rowBytes, a, actStride, nb, y, ys); break;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tile512<TR, TT>(byte* w, long rowBytes, byte* a, int actStride, int nb, float* y, int ys)
        where TR : struct, ITileCount where TT : struct, ITileCount
    {
        // acc[r * 4 + t]: the running float result of row r, token t (the Dot's acc)
        float* acc = stackalloc float[16];
        for (int i = 0; i < 16; i++) acc[i] = 0f;
        // vpermw controls: chunk k covers sub-blocks 2k (pair sums 0..15) and 2k+1 (16..31)
        Vector512<short> idx0 = Vector512.Create(
            (short)0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        Vector512<short> two = Vector512.Create((short)2);
        for (int i = 0; i < nb; i++)
        {
            var x0 = (BlockQ4_K*)w + i;
            var x1 = (BlockQ4_K*)(TR.N > 1 ? w + rowBytes : w) + i;
            var x2 = (BlockQ4_K*)(TR.N > 2 ? w + 2 * rowBytes : w) + i;
            var x3 = (BlockQ4_K*)(TR.N > 3 ? w + 3 * rowBytes : w) + i;
            var y0 = (BlockQ8_K*)a + i;
            var y1 = (BlockQ8_K*)(TT.N > 1 ? a + actStride : a) + i;
            var y2 = (BlockQ8_K*)(TT.N > 2 ? a + 2L * actStride : a) + i;
            var y3 = (BlockQ8_K*)(TT.N > 3 ? a + 3L * actStride : a) + i;
            Vector128<byte> sm0 = KQuantSimd.ScaleMinK4(x0->Scales);
            Vector128<byte> sm1 = TR.N > 1 ? KQuantSimd.ScaleMinK4(x1->Scales) : default;
            Vector128<byte> sm2 = TR.N > 2 ? KQuantSimd.ScaleMinK4(x2->Scales) : default;
            Vector128<byte> sm3 = TR.N > 3 ? KQuantSimd.ScaleMinK4(x3->Scales) : default;
            Vector512<short> s0 = Vector128.WidenLower(sm0).AsInt16().ToVector256Unsafe().ToVector512Unsafe();
            Vector512<short> s1 = Vector128.WidenLower(sm1).AsInt16().ToVector256Unsafe().ToVector512Unsafe();
            Vector512<short> s2 = Vector128.WidenLower(sm2).AsInt16().ToVector256Unsafe().ToVector512Unsafe();
            Vector512<short> s3 = Vector128.WidenLower(sm3).AsInt16().ToVector256Unsafe().ToVector512Unsafe();
            Vector512<int> i00 = default, i01 = default, i02 = default, i03 = default;
            Vector512<int> i10 = default, i11 = default, i12 = default, i13 = default;
            Vector512<int> i20 = default, i21 = default, i22 = default, i23 = default;
            Vector512<int> i30 = default, i31 = default, i32 = default, i33 = default;
            Vector512<short> idx = idx0;
            for (int k = 0; k < 4; k++, idx += two)
            {
                // row r's 64 quants of chunk k (sub-blocks 2k, 2k+1) and their scales spread over the pair sums
                Vector512<byte> u0 = Quants(x0->Qs + 32 * k), u1 = TR.N > 1 ? Quants(x1->Qs + 32 * k) : default;
                Vector512<byte> u2 = TR.N > 2 ? Quants(x2->Qs + 32 * k) : default, u3 = TR.N > 3 ? Quants(x3->Qs + 32 * k) : default;
                Vector512<short> c0 = Avx512BW.PermuteVar32x16(s0, idx);
                Vector512<short> c1 = TR.N > 1 ? Avx512BW.PermuteVar32x16(s1, idx) : default;
                Vector512<short> c2 = TR.N > 2 ? Avx512BW.PermuteVar32x16(s2, idx) : default;
                Vector512<short> c3 = TR.N > 3 ? Avx512BW.PermuteVar32x16(s3, idx) : default;
                {
                    Vector512<sbyte> q = Vector512.Load(y0->Qs + 64 * k);
                    i00 += Mac(u0, q, c0);
                    if (TR.N > 1) i10 += Mac(u1, q, c1);
                    if (TR.N > 2) i20 += Mac(u2, q, c2);
                    if (TR.N > 3) i30 += Mac(u3, q, c3);
                }
                if (TT.N > 1)
                {
                    Vector512<sbyte> q = Vector512.Load(y1->Qs + 64 * k);
                    i01 += Mac(u0, q, c0);
                    if (TR.N > 1) i11 += Mac(u1, q, c1);
                    if (TR.N > 2) i21 += Mac(u2, q, c2);
                    if (TR.N > 3) i31 += Mac(u3, q, c3);
                }
                if (TT.N > 2)
                {
                    Vector512<sbyte> q = Vector512.Load(y2->Qs + 64 * k);
                    i02 += Mac(u0, q, c0);
                    if (TR.N > 1) i12 += Mac(u1, q, c1);
                    if (TR.N > 2) i22 += Mac(u2, q, c2);
                    if (TR.N > 3) i32 += Mac(u3, q, c3);
                }
                if (TT.N > 3)
                {
                    Vector512<sbyte> q = Vector512.Load(y3->Qs + 64 * k);
                    i03 += Mac(u0, q, c0);
                    if (TR.N > 1) i13 += Mac(u1, q, c1);
                    if (TR.N > 2) i23 += Mac(u2, q, c2);
                    if (TR.N > 3) i33 += Mac(u3, q, c3);
                }
            }
            Finish(acc + 0, x0, sm0, y0, i00);
            if (TR.N > 1) Finish(acc + 4, x1, sm1, y0, i10);
            if (TR.N > 2) Finish(acc + 8, x2, sm2, y0, i20);
            if (TR.N > 3) Finish(acc + 12, x3, sm3, y0, i30);
            if (TT.N > 1)
            {
                Finish(acc + 1, x0, sm0, y1, i01);
                if (TR.N > 1) Finish(acc + 5, x1, sm1, y1, i11);
                if (TR.N > 2) Finish(acc + 9, x2, sm2, y1, i21);
                if (TR.N > 3) Finish(acc + 13, x3, sm3, y1, i31);
            }
            if (TT.N > 2)
            {
                Finish(acc + 2, x0, sm0, y2, i02);
                if (TR.N > 1) Finish(acc + 6, x1, sm1, y2, i12);
                if (TR.N > 2) Finish(acc + 10, x2, sm2, y2, i22);
                if (TR.N > 3) Finish(acc + 14, x3, sm3, y2, i32);
            }
            if (TT.N > 3)
            {
                Finish(acc + 3, x0, sm0, y3, i03);
                if (TR.N > 1) Finish(acc + 7, x1, sm1, y3, i13);
                if (TR.N > 2) Finish(acc + 11, x2, sm2, y3, i23);
                if (TR.N > 3) Finish(acc + 15, x3, sm3, y3, i33);
            }
        }
        for (int t = 0; t < TT.N; t++)
            for (int r = 0; r < TR.N; r++)
                y[(long)t * ys + r] = acc[r * 4 + t];
    }

    /// <summary>The 64 unsigned 4-bit quants of one 32-byte chunk: low nibbles (first sub-block), then high nibbles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Quants(byte* q)
    {
        Vector256<byte> v = Vector256.Load(q);
        return KQuantSimd.Join(KQuantSimd.Lo(v), KQuantSimd.Hi(v));
    }

    /// <summary>Σ sc · (q4·q8 pair sums) over one chunk, exact in int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Mac(Vector512<byte> u, Vector512<sbyte> q, Vector512<short> sc) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, q), sc);

    /// <summary>One super-block's float steps for one output, exactly as the Dot: acc += d·isum; acc −= dmin·summ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(float* acc, BlockQ4_K* x, Vector128<byte> sm, BlockQ8_K* yb, Vector512<int> isums)
    {
        int isum = KQuantSimd.Sum(isums);
        int summ = KQuantSimd.MinSum(sm, yb->BSums);
        float d = yb->D * KQuantMath.Fp16ToFp32(x->D);
        float dmin = yb->D * KQuantMath.Fp16ToFp32(x->DMin);
        float v = *acc;
        v += d * isum;
        v -= dmin * summ;
        *acc = v;
    }
}
