using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// Single-precision general matrix multiply for the ONNX graph executor:
/// C[m, n] = op(A)[m, k] · op(B)[k, n] (+ C when <c>accumulate</c>), row-major with leading dimensions,
/// op(X) = Xᵀ when the trans flag is set (A stored [k, m], B stored [n, k]).
/// <para>Blocked in the GotoBLAS style: B is packed in KC×NC blocks into NR-wide column panels, A in MC×KC
/// blocks into MR-tall row panels, and a register-tile micro-kernel (6×32 on Vector512, 6×16 on Vector256,
/// 4×8 on Vector128, 4×4 scalar) runs over the panels. Packing buffers are per thread and reused (no
/// allocation per call once warm). <see cref="MultiplyReference"/> is the scalar reference.</para>
/// </summary>
public static unsafe class Sgemm
{
    private const int KC = 256, MC = 96, NC = 1024;

    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

    /// <summary>The widest path this machine runs: 3 = Vector512, 2 = Vector256, 1 = Vector128, 0 = scalar.</summary>
    internal static int DefaultPath =>
        Vector512.IsHardwareAccelerated ? 3 : Vector256.IsHardwareAccelerated ? 2 : Vector128.IsHardwareAccelerated ? 1 : 0;

    /// <summary>Span overload of <see cref="Multiply(int,int,int,float*,int,bool,float*,int,bool,float*,int,bool)"/> for safe callers; spans start at element (0, 0).</summary>
    public static void Multiply(int m, int n, int k, ReadOnlySpan<float> a, int lda, bool transA, ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, bool accumulate)
    {
        if (m <= 0 || n <= 0) return;
        CheckExtent(a.Length, transA ? k : m, transA ? m : k, lda, "A");
        CheckExtent(b.Length, transB ? n : k, transB ? k : n, ldb, "B");
        CheckExtent(c.Length, m, n, ldc, "C");
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            Multiply(m, n, k, pa, lda, transA, pb, ldb, transB, pc, ldc, accumulate);
    }

    private static void CheckExtent(int length, int rows, int cols, int ld, string name)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols || (long)(rows - 1) * ld + cols > length)
            throw new ArgumentException($"{name} [{rows}, {cols}] with leading dimension {ld} does not fit {length} elements");
    }

    /// <summary>C = op(A)·op(B) (+ C if accumulate). Pointers must cover the stated extents.</summary>
    public static void Multiply(int m, int n, int k, float* a, int lda, bool transA, float* b, int ldb, bool transB,
        float* c, int ldc, bool accumulate) => Multiply(DefaultPath, m, n, k, a, lda, transA, b, ldb, transB, c, ldc, accumulate);

    /// <summary>As <see cref="Multiply(int,int,int,float*,int,bool,float*,int,bool,float*,int,bool)"/> on a forced path (tests compare paths); the path must be supported by the CPU.</summary>
    internal static void Multiply(int path, int m, int n, int k, float* a, int lda, bool transA, float* b, int ldb, bool transB,
        float* c, int ldc, bool accumulate)
    {
        if (m <= 0 || n <= 0) return;
        if (k <= 0)
        {
            if (!accumulate) for (int i = 0; i < m; i++) new Span<float>(c + (long)i * ldc, n).Clear();
            return;
        }
        KernelPaths.Record("Sgemm", path switch { 3 => SimdPath.V512, 2 => SimdPath.V256, 1 => SimdPath.V128, _ => SimdPath.Scalar });
        int mr = path >= 2 ? 6 : 4;
        int nr = path switch { 3 => 32, 2 => 16, 1 => 8, _ => 4 };
        int ncMax = Math.Min(NC, (n + nr - 1) / nr * nr);
        int mcMax = Math.Min(MC, (m + mr - 1) / mr * mr);
        int kcMax = Math.Min(KC, k);
        var packA = t_packA is { } pa0 && pa0.Length >= mcMax * kcMax ? pa0 : t_packA = GC.AllocateUninitializedArray<float>(Math.Max(mcMax * kcMax, MC * KC), pinned: true);
        var packB = t_packB is { } pb0 && pb0.Length >= ncMax * kcMax ? pb0 : t_packB = GC.AllocateUninitializedArray<float>(Math.Max(ncMax * kcMax, 64 * KC), pinned: true);
        fixed (float* bufA = packA) fixed (float* bufB = packB)
        {
            for (int j0 = 0; j0 < n; j0 += NC)
            {
                int nc = Math.Min(NC, n - j0);
                for (int p0 = 0; p0 < k; p0 += KC)
                {
                    int kc = Math.Min(KC, k - p0);
                    bool load = accumulate || p0 > 0;
                    PackB(b, ldb, transB, p0, kc, j0, nc, nr, bufB);
                    for (int i0 = 0; i0 < m; i0 += MC)
                    {
                        int mc = Math.Min(MC, m - i0);
                        PackA(a, lda, transA, i0, mc, p0, kc, mr, bufA);
                        for (int jj = 0; jj < nc; jj += nr)
                        {
                            float* pb = bufB + (long)(jj / nr) * kc * nr;
                            int nre = Math.Min(nr, nc - jj);
                            for (int ii = 0; ii < mc; ii += mr)
                            {
                                float* pa = bufA + (long)(ii / mr) * kc * mr;
                                SgemmMicroKernels.Run(path, kc, pa, pb, c + (long)(i0 + ii) * ldc + j0 + jj, ldc, Math.Min(mr, mc - ii), nre, load);
                            }
                        }
                    }
                }
            }
        }
    }

    // packA: [mc/mr panels][kc][mr], zero-padded rows.
    private static void PackA(float* a, int lda, bool transA, int i0, int mc, int p0, int kc, int mr, float* dst)
    {
        for (int ii = 0; ii < mc; ii += mr)
        {
            int rows = Math.Min(mr, mc - ii);
            for (int p = 0; p < kc; p++)
            {
                for (int r = 0; r < rows; r++)
                {
                    int i = i0 + ii + r, kk = p0 + p;
                    dst[r] = transA ? a[(long)kk * lda + i] : a[(long)i * lda + kk];
                }
                for (int r = rows; r < mr; r++) dst[r] = 0;
                dst += mr;
            }
        }
    }

    // packB: [nc/nr panels][kc][nr], zero-padded columns.
    private static void PackB(float* b, int ldb, bool transB, int p0, int kc, int j0, int nc, int nr, float* dst)
    {
        for (int jj = 0; jj < nc; jj += nr)
        {
            int cols = Math.Min(nr, nc - jj);
            for (int p = 0; p < kc; p++)
            {
                if (!transB && cols == nr)
                {
                    new ReadOnlySpan<float>(b + (long)(p0 + p) * ldb + j0 + jj, nr).CopyTo(new Span<float>(dst, nr));
                }
                else
                {
                    for (int j = 0; j < cols; j++)
                    {
                        int col = j0 + jj + j, kk = p0 + p;
                        dst[j] = transB ? b[(long)col * ldb + kk] : b[(long)kk * ldb + col];
                    }
                    for (int j = cols; j < nr; j++) dst[j] = 0;
                }
                dst += nr;
            }
        }
    }

    /// <summary>Scalar reference: the textbook triple loop with a float accumulator per output.</summary>
    public static void MultiplyReference(int m, int n, int k, ReadOnlySpan<float> a, int lda, bool transA, ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++)
                    s += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
            }
        }
    }
}
