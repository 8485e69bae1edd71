using System.Runtime.Intrinsics;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// Register-tile micro-kernels of <see cref="Sgemm"/> (generated shape: MR rows × two vectors).
/// Each reads an A tile [MR, kc] (a packed panel or rows of A in place, see <see cref="Run"/>) and a packed B panel [kc, NR] and writes (or, with load, adds)
/// the mr×nr valid corner of the tile into C (row stride ldc).
/// </summary>
internal static unsafe partial class SgemmMicroKernels
{
    /// <summary>6×32 register tile on Vector512: C tile (+)= packA[kc, 6] · packB[kc, 32].</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Micro512(int kc, float* pa, nint rs, nint ks, float* pb, float* c, int ldc, int mr, int nr, bool load)
    {
        Vector512<float> c00 = Vector512<float>.Zero, c01 = Vector512<float>.Zero;
        Vector512<float> c10 = Vector512<float>.Zero, c11 = Vector512<float>.Zero;
        Vector512<float> c20 = Vector512<float>.Zero, c21 = Vector512<float>.Zero;
        Vector512<float> c30 = Vector512<float>.Zero, c31 = Vector512<float>.Zero;
        Vector512<float> c40 = Vector512<float>.Zero, c41 = Vector512<float>.Zero;
        Vector512<float> c50 = Vector512<float>.Zero, c51 = Vector512<float>.Zero;
        float* a0 = pa, a1 = Row(pa, rs, 1, mr), a2 = Row(pa, rs, 2, mr), a3 = Row(pa, rs, 3, mr), a4 = Row(pa, rs, 4, mr), a5 = Row(pa, rs, 5, mr);
        nint off = 0;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(pb); var b1 = Vector512.Load(pb + 16);
            var v0 = Vector512.Create(a0[off]);
            c00 = Vector512.MultiplyAddEstimate(v0, b0, c00); c01 = Vector512.MultiplyAddEstimate(v0, b1, c01);
            var v1 = Vector512.Create(a1[off]);
            c10 = Vector512.MultiplyAddEstimate(v1, b0, c10); c11 = Vector512.MultiplyAddEstimate(v1, b1, c11);
            var v2 = Vector512.Create(a2[off]);
            c20 = Vector512.MultiplyAddEstimate(v2, b0, c20); c21 = Vector512.MultiplyAddEstimate(v2, b1, c21);
            var v3 = Vector512.Create(a3[off]);
            c30 = Vector512.MultiplyAddEstimate(v3, b0, c30); c31 = Vector512.MultiplyAddEstimate(v3, b1, c31);
            var v4 = Vector512.Create(a4[off]);
            c40 = Vector512.MultiplyAddEstimate(v4, b0, c40); c41 = Vector512.MultiplyAddEstimate(v4, b1, c41);
            var v5 = Vector512.Create(a5[off]);
            c50 = Vector512.MultiplyAddEstimate(v5, b0, c50); c51 = Vector512.MultiplyAddEstimate(v5, b1, c51);
            off += ks; pb += 32;
        }
        if (nr == 32)
        {
            if (mr > 0) { float* cr = c + 0 * (long)ldc; if (load) { c00 += Vector512.Load(cr); c01 += Vector512.Load(cr + 16); } Vector512.Store(c00, cr); Vector512.Store(c01, cr + 16); }
            if (mr > 1) { float* cr = c + 1 * (long)ldc; if (load) { c10 += Vector512.Load(cr); c11 += Vector512.Load(cr + 16); } Vector512.Store(c10, cr); Vector512.Store(c11, cr + 16); }
            if (mr > 2) { float* cr = c + 2 * (long)ldc; if (load) { c20 += Vector512.Load(cr); c21 += Vector512.Load(cr + 16); } Vector512.Store(c20, cr); Vector512.Store(c21, cr + 16); }
            if (mr > 3) { float* cr = c + 3 * (long)ldc; if (load) { c30 += Vector512.Load(cr); c31 += Vector512.Load(cr + 16); } Vector512.Store(c30, cr); Vector512.Store(c31, cr + 16); }
            if (mr > 4) { float* cr = c + 4 * (long)ldc; if (load) { c40 += Vector512.Load(cr); c41 += Vector512.Load(cr + 16); } Vector512.Store(c40, cr); Vector512.Store(c41, cr + 16); }
            if (mr > 5) { float* cr = c + 5 * (long)ldc; if (load) { c50 += Vector512.Load(cr); c51 += Vector512.Load(cr + 16); } Vector512.Store(c50, cr); Vector512.Store(c51, cr + 16); }
            return;
        }
        float* t = stackalloc float[192];
        Vector512.Store(c00, t + 0); Vector512.Store(c01, t + 16);
        Vector512.Store(c10, t + 32); Vector512.Store(c11, t + 48);
        Vector512.Store(c20, t + 64); Vector512.Store(c21, t + 80);
        Vector512.Store(c30, t + 96); Vector512.Store(c31, t + 112);
        Vector512.Store(c40, t + 128); Vector512.Store(c41, t + 144);
        Vector512.Store(c50, t + 160); Vector512.Store(c51, t + 176);
        StoreTile(t, 32, c, ldc, mr, nr, load);
    }

    /// <summary>8×32 register tile on Vector512 for an A read in place (no MR-row packing constraint): 16 accumulators, so a
    /// 16-row product (one 16-token sentence) runs as two full tiles instead of 6 + 6 + 4 rows. Same FMA chain per element as
    /// <see cref="Micro512"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Micro512x8(int kc, float* pa, nint rs, nint ks, float* pb, float* c, int ldc, int mr, int nr, bool load)
    {
        Vector512<float> c00 = Vector512<float>.Zero, c01 = Vector512<float>.Zero;
        Vector512<float> c10 = Vector512<float>.Zero, c11 = Vector512<float>.Zero;
        Vector512<float> c20 = Vector512<float>.Zero, c21 = Vector512<float>.Zero;
        Vector512<float> c30 = Vector512<float>.Zero, c31 = Vector512<float>.Zero;
        Vector512<float> c40 = Vector512<float>.Zero, c41 = Vector512<float>.Zero;
        Vector512<float> c50 = Vector512<float>.Zero, c51 = Vector512<float>.Zero;
        Vector512<float> c60 = Vector512<float>.Zero, c61 = Vector512<float>.Zero;
        Vector512<float> c70 = Vector512<float>.Zero, c71 = Vector512<float>.Zero;
        float* a0 = pa, a1 = Row(pa, rs, 1, mr), a2 = Row(pa, rs, 2, mr), a3 = Row(pa, rs, 3, mr), a4 = Row(pa, rs, 4, mr), a5 = Row(pa, rs, 5, mr), a6 = Row(pa, rs, 6, mr), a7 = Row(pa, rs, 7, mr);
        nint off = 0;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(pb); var b1 = Vector512.Load(pb + 16);
            var v0 = Vector512.Create(a0[off]);
            c00 = Vector512.MultiplyAddEstimate(v0, b0, c00); c01 = Vector512.MultiplyAddEstimate(v0, b1, c01);
            var v1 = Vector512.Create(a1[off]);
            c10 = Vector512.MultiplyAddEstimate(v1, b0, c10); c11 = Vector512.MultiplyAddEstimate(v1, b1, c11);
            var v2 = Vector512.Create(a2[off]);
            c20 = Vector512.MultiplyAddEstimate(v2, b0, c20); c21 = Vector512.MultiplyAddEstimate(v2, b1, c21);
            var v3 = Vector512.Create(a3[off]);
            c30 = Vector512.MultiplyAddEstimate(v3, b0, c30); c31 = Vector512.MultiplyAddEstimate(v3, b1, c31);
            var v4 = Vector512.Create(a4[off]);
            c40 = Vector512.MultiplyAddEstimate(v4, b0, c40); c41 = Vector512.MultiplyAddEstimate(v4, b1, c41);
            var v5 = Vector512.Create(a5[off]);
            c50 = Vector512.MultiplyAddEstimate(v5, b0, c50); c51 = Vector512.MultiplyAddEstimate(v5, b1, c51);
            var v6 = Vector512.Create(a6[off]);
            c60 = Vector512.MultiplyAddEstimate(v6, b0, c60); c61 = Vector512.MultiplyAddEstimate(v6, b1, c61);
            var v7 = Vector512.Create(a7[off]);
            c70 = Vector512.MultiplyAddEstimate(v7, b0, c70); c71 = Vector512.MultiplyAddEstimate(v7, b1, c71);
            off += ks; pb += 32;
        }
        if (nr == 32)
        {
            if (mr > 0) { float* cr = c + 0 * (long)ldc; if (load) { c00 += Vector512.Load(cr); c01 += Vector512.Load(cr + 16); } Vector512.Store(c00, cr); Vector512.Store(c01, cr + 16); }
            if (mr > 1) { float* cr = c + 1 * (long)ldc; if (load) { c10 += Vector512.Load(cr); c11 += Vector512.Load(cr + 16); } Vector512.Store(c10, cr); Vector512.Store(c11, cr + 16); }
            if (mr > 2) { float* cr = c + 2 * (long)ldc; if (load) { c20 += Vector512.Load(cr); c21 += Vector512.Load(cr + 16); } Vector512.Store(c20, cr); Vector512.Store(c21, cr + 16); }
            if (mr > 3) { float* cr = c + 3 * (long)ldc; if (load) { c30 += Vector512.Load(cr); c31 += Vector512.Load(cr + 16); } Vector512.Store(c30, cr); Vector512.Store(c31, cr + 16); }
            if (mr > 4) { float* cr = c + 4 * (long)ldc; if (load) { c40 += Vector512.Load(cr); c41 += Vector512.Load(cr + 16); } Vector512.Store(c40, cr); Vector512.Store(c41, cr + 16); }
            if (mr > 5) { float* cr = c + 5 * (long)ldc; if (load) { c50 += Vector512.Load(cr); c51 += Vector512.Load(cr + 16); } Vector512.Store(c50, cr); Vector512.Store(c51, cr + 16); }
            if (mr > 6) { float* cr = c + 6 * (long)ldc; if (load) { c60 += Vector512.Load(cr); c61 += Vector512.Load(cr + 16); } Vector512.Store(c60, cr); Vector512.Store(c61, cr + 16); }
            if (mr > 7) { float* cr = c + 7 * (long)ldc; if (load) { c70 += Vector512.Load(cr); c71 += Vector512.Load(cr + 16); } Vector512.Store(c70, cr); Vector512.Store(c71, cr + 16); }
            return;
        }
        float* t = stackalloc float[256];
        Vector512.Store(c00, t + 0); Vector512.Store(c01, t + 16);
        Vector512.Store(c10, t + 32); Vector512.Store(c11, t + 48);
        Vector512.Store(c20, t + 64); Vector512.Store(c21, t + 80);
        Vector512.Store(c30, t + 96); Vector512.Store(c31, t + 112);
        Vector512.Store(c40, t + 128); Vector512.Store(c41, t + 144);
        Vector512.Store(c50, t + 160); Vector512.Store(c51, t + 176);
        Vector512.Store(c60, t + 192); Vector512.Store(c61, t + 208);
        Vector512.Store(c70, t + 224); Vector512.Store(c71, t + 240);
        StoreTile(t, 32, c, ldc, mr, nr, load);
    }

    /// <summary>6×16 register tile on Vector256: C tile (+)= packA[kc, 6] · packB[kc, 16].</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Micro256(int kc, float* pa, nint rs, nint ks, float* pb, float* c, int ldc, int mr, int nr, bool load)
    {
        Vector256<float> c00 = Vector256<float>.Zero, c01 = Vector256<float>.Zero;
        Vector256<float> c10 = Vector256<float>.Zero, c11 = Vector256<float>.Zero;
        Vector256<float> c20 = Vector256<float>.Zero, c21 = Vector256<float>.Zero;
        Vector256<float> c30 = Vector256<float>.Zero, c31 = Vector256<float>.Zero;
        Vector256<float> c40 = Vector256<float>.Zero, c41 = Vector256<float>.Zero;
        Vector256<float> c50 = Vector256<float>.Zero, c51 = Vector256<float>.Zero;
        float* a0 = pa, a1 = Row(pa, rs, 1, mr), a2 = Row(pa, rs, 2, mr), a3 = Row(pa, rs, 3, mr), a4 = Row(pa, rs, 4, mr), a5 = Row(pa, rs, 5, mr);
        nint off = 0;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(pb); var b1 = Vector256.Load(pb + 8);
            var v0 = Vector256.Create(a0[off]);
            c00 = Vector256.MultiplyAddEstimate(v0, b0, c00); c01 = Vector256.MultiplyAddEstimate(v0, b1, c01);
            var v1 = Vector256.Create(a1[off]);
            c10 = Vector256.MultiplyAddEstimate(v1, b0, c10); c11 = Vector256.MultiplyAddEstimate(v1, b1, c11);
            var v2 = Vector256.Create(a2[off]);
            c20 = Vector256.MultiplyAddEstimate(v2, b0, c20); c21 = Vector256.MultiplyAddEstimate(v2, b1, c21);
            var v3 = Vector256.Create(a3[off]);
            c30 = Vector256.MultiplyAddEstimate(v3, b0, c30); c31 = Vector256.MultiplyAddEstimate(v3, b1, c31);
            var v4 = Vector256.Create(a4[off]);
            c40 = Vector256.MultiplyAddEstimate(v4, b0, c40); c41 = Vector256.MultiplyAddEstimate(v4, b1, c41);
            var v5 = Vector256.Create(a5[off]);
            c50 = Vector256.MultiplyAddEstimate(v5, b0, c50); c51 = Vector256.MultiplyAddEstimate(v5, b1, c51);
            off += ks; pb += 16;
        }
        if (nr == 16)
        {
            if (mr > 0) { float* cr = c + 0 * (long)ldc; if (load) { c00 += Vector256.Load(cr); c01 += Vector256.Load(cr + 8); } Vector256.Store(c00, cr); Vector256.Store(c01, cr + 8); }
            if (mr > 1) { float* cr = c + 1 * (long)ldc; if (load) { c10 += Vector256.Load(cr); c11 += Vector256.Load(cr + 8); } Vector256.Store(c10, cr); Vector256.Store(c11, cr + 8); }
            if (mr > 2) { float* cr = c + 2 * (long)ldc; if (load) { c20 += Vector256.Load(cr); c21 += Vector256.Load(cr + 8); } Vector256.Store(c20, cr); Vector256.Store(c21, cr + 8); }
            if (mr > 3) { float* cr = c + 3 * (long)ldc; if (load) { c30 += Vector256.Load(cr); c31 += Vector256.Load(cr + 8); } Vector256.Store(c30, cr); Vector256.Store(c31, cr + 8); }
            if (mr > 4) { float* cr = c + 4 * (long)ldc; if (load) { c40 += Vector256.Load(cr); c41 += Vector256.Load(cr + 8); } Vector256.Store(c40, cr); Vector256.Store(c41, cr + 8); }
            if (mr > 5) { float* cr = c + 5 * (long)ldc; if (load) { c50 += Vector256.Load(cr); c51 += Vector256.Load(cr + 8); } Vector256.Store(c50, cr); Vector256.Store(c51, cr + 8); }
            return;
        }
        float* t = stackalloc float[96];
        Vector256.Store(c00, t + 0); Vector256.Store(c01, t + 8);
        Vector256.Store(c10, t + 16); Vector256.Store(c11, t + 24);
        Vector256.Store(c20, t + 32); Vector256.Store(c21, t + 40);
        Vector256.Store(c30, t + 48); Vector256.Store(c31, t + 56);
        Vector256.Store(c40, t + 64); Vector256.Store(c41, t + 72);
        Vector256.Store(c50, t + 80); Vector256.Store(c51, t + 88);
        StoreTile(t, 16, c, ldc, mr, nr, load);
    }

    /// <summary>4×8 register tile on Vector128: C tile (+)= packA[kc, 4] · packB[kc, 8].</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Micro128(int kc, float* pa, nint rs, nint ks, float* pb, float* c, int ldc, int mr, int nr, bool load)
    {
        Vector128<float> c00 = Vector128<float>.Zero, c01 = Vector128<float>.Zero;
        Vector128<float> c10 = Vector128<float>.Zero, c11 = Vector128<float>.Zero;
        Vector128<float> c20 = Vector128<float>.Zero, c21 = Vector128<float>.Zero;
        Vector128<float> c30 = Vector128<float>.Zero, c31 = Vector128<float>.Zero;
        float* a0 = pa, a1 = Row(pa, rs, 1, mr), a2 = Row(pa, rs, 2, mr), a3 = Row(pa, rs, 3, mr);
        nint off = 0;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector128.Load(pb); var b1 = Vector128.Load(pb + 4);
            var v0 = Vector128.Create(a0[off]);
            c00 = Vector128.MultiplyAddEstimate(v0, b0, c00); c01 = Vector128.MultiplyAddEstimate(v0, b1, c01);
            var v1 = Vector128.Create(a1[off]);
            c10 = Vector128.MultiplyAddEstimate(v1, b0, c10); c11 = Vector128.MultiplyAddEstimate(v1, b1, c11);
            var v2 = Vector128.Create(a2[off]);
            c20 = Vector128.MultiplyAddEstimate(v2, b0, c20); c21 = Vector128.MultiplyAddEstimate(v2, b1, c21);
            var v3 = Vector128.Create(a3[off]);
            c30 = Vector128.MultiplyAddEstimate(v3, b0, c30); c31 = Vector128.MultiplyAddEstimate(v3, b1, c31);
            off += ks; pb += 8;
        }
        if (nr == 8)
        {
            if (mr > 0) { float* cr = c + 0 * (long)ldc; if (load) { c00 += Vector128.Load(cr); c01 += Vector128.Load(cr + 4); } Vector128.Store(c00, cr); Vector128.Store(c01, cr + 4); }
            if (mr > 1) { float* cr = c + 1 * (long)ldc; if (load) { c10 += Vector128.Load(cr); c11 += Vector128.Load(cr + 4); } Vector128.Store(c10, cr); Vector128.Store(c11, cr + 4); }
            if (mr > 2) { float* cr = c + 2 * (long)ldc; if (load) { c20 += Vector128.Load(cr); c21 += Vector128.Load(cr + 4); } Vector128.Store(c20, cr); Vector128.Store(c21, cr + 4); }
            if (mr > 3) { float* cr = c + 3 * (long)ldc; if (load) { c30 += Vector128.Load(cr); c31 += Vector128.Load(cr + 4); } Vector128.Store(c30, cr); Vector128.Store(c31, cr + 4); }
            return;
        }
        float* t = stackalloc float[32];
        Vector128.Store(c00, t + 0); Vector128.Store(c01, t + 4);
        Vector128.Store(c10, t + 8); Vector128.Store(c11, t + 12);
        Vector128.Store(c20, t + 16); Vector128.Store(c21, t + 20);
        Vector128.Store(c30, t + 24); Vector128.Store(c31, t + 28);
        StoreTile(t, 8, c, ldc, mr, nr, load);
    }

    /// <summary>Scalar 4×4 tile, used when no vector path is hardware-accelerated.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void MicroScalar(int kc, float* pa, nint rs, nint ks, float* pb, float* c, int ldc, int mr, int nr, bool load)
    {
        float* t = stackalloc float[16];
        for (int i = 0; i < 16; i++) t[i] = 0;
        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < 4; r++)
            {
                float a = Row(pa, rs, r, mr)[p * ks];
                for (int j = 0; j < 4; j++) t[r * 4 + j] += a * pb[j];
            }
            pb += 4;
        }
        StoreTile(t, 4, c, ldc, mr, nr, load);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void StoreTile(float* t, int tileStride, float* c, int ldc, int mr, int nr, bool load)
    {
        for (int r = 0; r < mr; r++)
        {
            float* cr = c + r * (long)ldc;
            for (int j = 0; j < nr; j++) cr[j] = load ? cr[j] + t[r * tileStride + j] : t[r * tileStride + j];
        }
    }

    /// <summary>Runs the micro-kernel for <paramref name="path"/> (its MR/NR must match the packing).</summary>
    /// <remarks>
    /// A is read as a(r, p) = pa[r·rs + p·ks]: a packed panel has rs = 1, ks = MR; a row-major matrix read in place has
    /// rs = its row stride, ks = 1. Rows at or past <paramref name="mr"/> are never stored, so they re-read the last valid
    /// row instead of going past the end of an unpacked A.
    /// </remarks>
    public static void Run(int path, int kc, float* pa, nint rs, nint ks, float* pb, float* c, int ldc, int mr, int nr, bool load)
    {
        switch (path)
        {
            case 3: Micro512(kc, pa, rs, ks, pb, c, ldc, mr, nr, load); break;
            case 2: Micro256(kc, pa, rs, ks, pb, c, ldc, mr, nr, load); break;
            case 1: Micro128(kc, pa, rs, ks, pb, c, ldc, mr, nr, load); break;
            default: MicroScalar(kc, pa, rs, ks, pb, c, ldc, mr, nr, load); break;
        }
    }

    /// <summary>Rows of the tall tile <see cref="RunTall"/> runs (0: none on this path).</summary>
    public static int TallRows(int path) => path == 3 ? 8 : 0;

    /// <summary>The 8-row tile of <paramref name="path"/> (3 only, see <see cref="TallRows"/>) for an A read in place; arguments as <see cref="Run"/>.</summary>
    public static void RunTall(int path, int kc, float* pa, nint rs, nint ks, float* pb, float* c, int ldc, int mr, int nr, bool load)
    {
        if (path != 3) throw new ArgumentOutOfRangeException(nameof(path), path, "no tall tile on this path");
        Micro512x8(kc, pa, rs, ks, pb, c, ldc, mr, nr, load);
    }

    /// <summary>Row r of the A tile, or the last valid row (r ≥ mr) so that reads stay inside the operand.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static float* Row(float* pa, nint rs, int r, int mr) => pa + (r < mr ? r : mr - 1) * rs;
}
