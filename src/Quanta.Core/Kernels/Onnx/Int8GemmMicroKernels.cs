using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// Register tiles of <see cref="Int8Gemm"/>. Each reads A rows (4 bytes per k-step, broadcast to every lane) and
/// packed weight panels [kq][16 columns][4 k] and writes the int32 tile [rows, width] into <c>tile</c> (row stride =
/// tile width: 32 for the AVX-512 tile, 16 otherwise). Rows past <c>rows</c> re-read row 0 and are not used.
/// Per 4-k step and lane: vpmaddubsw (u8 activation × s8 weight, adjacent pairs to int16, exact for activation
/// codes ≤ 127) then vpmaddwd with ones (pairs of int16 to int32), added to the int32 accumulator.
/// </summary>
internal static unsafe class Int8GemmMicroKernels
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot512(uint a4, Vector512<sbyte> w, Vector512<short> ones) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Vector512.Create(a4).AsByte(), w), ones);

    /// <summary>6 rows × 2 panels (32 columns) on AVX-512BW: 12 zmm accumulators.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Tile512(int kq, byte* a, int lda, int rows, sbyte* w0, sbyte* w1, int* tile)
    {
        byte* a0 = a, a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + 2L * lda : a;
        byte* a3 = rows > 3 ? a + 3L * lda : a, a4 = rows > 4 ? a + 4L * lda : a, a5 = rows > 5 ? a + 5L * lda : a;
        var ones = Vector512.Create((short)1);
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<int> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int g = 0; g < kq; g++)
        {
            var v0 = Vector512.Load(w0 + g * 64L);
            var v1 = Vector512.Load(w1 + g * 64L);
            int o = g * 4;
            uint x = *(uint*)(a0 + o); c00 += Dot512(x, v0, ones); c01 += Dot512(x, v1, ones);
            x = *(uint*)(a1 + o); c10 += Dot512(x, v0, ones); c11 += Dot512(x, v1, ones);
            x = *(uint*)(a2 + o); c20 += Dot512(x, v0, ones); c21 += Dot512(x, v1, ones);
            x = *(uint*)(a3 + o); c30 += Dot512(x, v0, ones); c31 += Dot512(x, v1, ones);
            x = *(uint*)(a4 + o); c40 += Dot512(x, v0, ones); c41 += Dot512(x, v1, ones);
            x = *(uint*)(a5 + o); c50 += Dot512(x, v0, ones); c51 += Dot512(x, v1, ones);
        }
        c00.Store(tile); c01.Store(tile + 16);
        c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80);
        c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144);
        c50.Store(tile + 160); c51.Store(tile + 176);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot256(Vector256<byte> a, Vector256<sbyte> w, Vector256<short> ones) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a, w), ones);

    /// <summary>4 rows × 1 panel (16 columns) on AVX2: 8 ymm accumulators.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Tile256(int kq, byte* a, int lda, int rows, sbyte* w, int* tile)
    {
        byte* a0 = a, a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + 2L * lda : a, a3 = rows > 3 ? a + 3L * lda : a;
        var ones = Vector256.Create((short)1);
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int g = 0; g < kq; g++)
        {
            var v0 = Vector256.Load(w + g * 64L);
            var v1 = Vector256.Load(w + g * 64L + 32);
            int o = g * 4;
            var x = Vector256.Create(*(uint*)(a0 + o)).AsByte(); c00 += Dot256(x, v0, ones); c01 += Dot256(x, v1, ones);
            x = Vector256.Create(*(uint*)(a1 + o)).AsByte(); c10 += Dot256(x, v0, ones); c11 += Dot256(x, v1, ones);
            x = Vector256.Create(*(uint*)(a2 + o)).AsByte(); c20 += Dot256(x, v0, ones); c21 += Dot256(x, v1, ones);
            x = Vector256.Create(*(uint*)(a3 + o)).AsByte(); c30 += Dot256(x, v0, ones); c31 += Dot256(x, v1, ones);
        }
        c00.Store(tile); c01.Store(tile + 8);
        c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40);
        c30.Store(tile + 48); c31.Store(tile + 56);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Dot128(Vector128<byte> a, Vector128<sbyte> w, Vector128<short> ones) =>
        Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(a, w), ones);

    /// <summary>2 rows × 1 panel (16 columns) on SSSE3: 8 xmm accumulators.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Tile128(int kq, byte* a, int lda, int rows, sbyte* w, int* tile)
    {
        byte* a0 = a, a1 = rows > 1 ? a + lda : a;
        var ones = Vector128.Create((short)1);
        Vector128<int> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        for (int g = 0; g < kq; g++)
        {
            sbyte* p = w + g * 64L;
            var v0 = Vector128.Load(p); var v1 = Vector128.Load(p + 16); var v2 = Vector128.Load(p + 32); var v3 = Vector128.Load(p + 48);
            int o = g * 4;
            var x = Vector128.Create(*(uint*)(a0 + o)).AsByte();
            c00 += Dot128(x, v0, ones); c01 += Dot128(x, v1, ones); c02 += Dot128(x, v2, ones); c03 += Dot128(x, v3, ones);
            x = Vector128.Create(*(uint*)(a1 + o)).AsByte();
            c10 += Dot128(x, v0, ones); c11 += Dot128(x, v1, ones); c12 += Dot128(x, v2, ones); c13 += Dot128(x, v3, ones);
        }
        c00.Store(tile); c01.Store(tile + 4); c02.Store(tile + 8); c03.Store(tile + 12);
        c10.Store(tile + 16); c11.Store(tile + 20); c12.Store(tile + 24); c13.Store(tile + 28);
    }

    /// <summary>1 row × 1 panel, plain integer arithmetic (any CPU).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void TileScalar(int kq, byte* a, sbyte* w, int* tile)
    {
        for (int j = 0; j < 16; j++) tile[j] = 0;
        for (int g = 0; g < kq; g++)
        {
            byte* x = a + g * 4;
            sbyte* p = w + g * 64L;
            int x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
            for (int j = 0; j < 16; j++, p += 4) tile[j] += x0 * p[0] + x1 * p[1] + x2 * p[2] + x3 * p[3];
        }
    }
}
