using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// Scaled dot-product attention of one head, fused: Y[T, D] = softmax(Q·Kᵀ·scale + mask)·V with Q, K, V [T, D] read in
/// place (row stride ld, e.g. one head's D columns of a [T, H·D] or [T, 3·H·D] activation) and Y written in place (row
/// stride ldy). Kᵀ and V are packed once per call into the <see cref="Sgemm"/> micro-kernel's column panels; then for
/// each block of query rows (8 on Vector512, the micro-kernel's MR elsewhere) the score rows S [rows, T] are made by the
/// micro-kernel into an L1-sized scratch, turned into e = exp(z − max z), z = S·scale + mask, in two passes while they
/// are hot, multiplied by V with the same micro-kernel, and each output row is divided by its Σ e. The [T, T] score
/// matrix never exists. Scratch is per thread and reused (no allocation per call once warm).
/// <para>The mask is one row of T values per query row (row i at i·maskRowStride; stride 0 = one row for all) or, when
/// not per key, one value per query row. Paths Vector512 → Vector256 → Vector128 → scalar (the micro-kernels' and the
/// e^x of <see cref="FastExp.ExpFused(Vector512{float})"/>); <see cref="Reference"/> is the scalar reference (double sums, Math.Exp).</para>
/// </summary>
public static unsafe class AttentionHeadKernel
{
    [ThreadStatic] private static float[]? t_scratch;

    /// <summary>
    /// Y = softmax(Q·Kᵀ·scale + mask)·V for one head on the widest path. q, k, v start at row 0, column 0 of the head and
    /// hold (T − 1)·ld + D values; y holds (T − 1)·ldy + D; mask holds (T − 1)·maskRowStride + (maskPerKey ? T : 1).
    /// </summary>
    public static void Head(int t, int d, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int ld, float scale,
        ReadOnlySpan<float> mask, int maskRowStride, bool maskPerKey, Span<float> y, int ldy) =>
        Head(Sgemm.DefaultPath, t, d, q, k, v, ld, scale, mask, maskRowStride, maskPerKey, y, ldy);

    internal static void Head(int path, int t, int d, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int ld, float scale,
        ReadOnlySpan<float> mask, int maskRowStride, bool maskPerKey, Span<float> y, int ldy)
    {
        if (t < 0 || d < 0) throw new ArgumentException($"attention head of {t} rows and {d} columns");
        if (maskRowStride < 0) throw new ArgumentOutOfRangeException(nameof(maskRowStride), maskRowStride, "negative mask row stride");
        if (t == 0 || d == 0)
        {
            for (int i = 0; i < t; i++) y.Slice(i * ldy, d).Clear();
            if (t > 0 && d > 0) Sgemm.CheckExtent(y.Length, t, d, ldy, "Y");
            return;
        }
        Sgemm.CheckExtent(q.Length, t, d, ld, "Q");
        Sgemm.CheckExtent(k.Length, t, d, ld, "K");
        Sgemm.CheckExtent(v.Length, t, d, ld, "V");
        Sgemm.CheckExtent(y.Length, t, d, ldy, "Y");
        long maskNeed = (long)(t - 1) * maskRowStride + (maskPerKey ? t : 1);
        if (mask.Length < maskNeed) throw new ArgumentException($"mask of {mask.Length} values for {t} query rows (row stride {maskRowStride}, per key {maskPerKey})", nameof(mask));
        KernelPaths.Record("AttentionHead", Sgemm.PathName(path));

        int nr = Sgemm.Nr(path), rowsPer = SgemmMicroKernels.TallRows(path) > 0 ? SgemmMicroKernels.TallRows(path) : Sgemm.Mr(path);
        int tp = (t + nr - 1) / nr * nr, dp = (d + nr - 1) / nr * nr;
        // scratch: Kᵀ panels [tp/nr][d][nr] | V panels [dp/nr][t][nr] | score rows [rowsPer][t] | Σ e per row [rowsPer]
        long need = (long)d * tp + (long)t * dp + (long)rowsPer * t + rowsPer;
        if (need > int.MaxValue) throw new ArgumentException($"attention head of {t} rows and {d} columns is too large");
        var buf = t_scratch is { } b0 && b0.Length >= need ? b0 : t_scratch = GC.AllocateUninitializedArray<float>((int)need, pinned: true);
        fixed (float* pq = q) fixed (float* pk = k) fixed (float* pv = v) fixed (float* pm = mask) fixed (float* py = y) fixed (float* scratch = buf)
        {
            float* kt = scratch, vp = kt + (long)d * tp, s = vp + (long)t * dp, sums = s + (long)rowsPer * t;
            Sgemm.PackB(pk, ld, true, 0, d, 0, t, nr, kt);  // Kᵀ [D, T] from K stored [T, D]
            Sgemm.PackB(pv, ld, false, 0, t, 0, d, nr, vp); // V [T, D]
            for (int i0 = 0; i0 < t; i0 += rowsPer)
            {
                int rows = Math.Min(rowsPer, t - i0);
                // S [rows, T] = Q rows · Kᵀ
                for (int j = 0; j < t; j += nr)
                    Tile(path, d, pq + (long)i0 * ld, ld, kt + (long)(j / nr) * d * nr, s + j, t, rows, Math.Min(nr, t - j));
                for (int r = 0; r < rows; r++)
                    sums[r] = ExpRow(path, s + (long)r * t, t, scale, pm + (long)(i0 + r) * maskRowStride, maskPerKey);
                // Y rows = e · V, then / Σ e
                for (int j = 0; j < d; j += nr)
                    Tile(path, t, s, t, vp + (long)(j / nr) * t * nr, py + (long)i0 * ldy + j, ldy, rows, Math.Min(nr, d - j));
                for (int r = 0; r < rows; r++) ScaleRow(path, py + (long)(i0 + r) * ldy, d, 1f / sums[r]);
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Tile(int path, int kc, float* a, int lda, float* panel, float* c, int ldc, int rows, int cols)
    {
        if (SgemmMicroKernels.TallRows(path) > 0) SgemmMicroKernels.RunTall(path, kc, a, lda, 1, panel, c, ldc, rows, cols, false);
        else SgemmMicroKernels.Run(path, kc, a, lda, 1, panel, c, ldc, rows, cols, false);
    }

    /// <summary>x[i] ← e^(z[i] − max z), z = x·scale + mask (mask[i], or mask[0] when not per key); returns Σ e.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static float ExpRow(int path, float* x, int n, float scale, float* mask, bool perKey)
    {
        float m0 = mask[0], max = float.NegativeInfinity, sum = 0;
        int i = 0;
        if (path >= 3 && n >= 16)
        {
            var vs = Vector512.Create(scale);
            var vm = Vector512.Create(m0);
            var mx = Vector512.Create(float.NegativeInfinity);
            for (; i + 16 <= n; i += 16)
            {
                var z = Vector512.MultiplyAddEstimate(Vector512.Load(x + i), vs, perKey ? Vector512.Load(mask + i) : vm);
                z.Store(x + i);
                mx = Vector512.Max(mx, z);
            }
            var h = Vector256.Max(mx.GetLower(), mx.GetUpper());
            max = MaxOf(Vector128.Max(h.GetLower(), h.GetUpper()));
        }
        if (path >= 2 && n - i >= 8)
        {
            var vs = Vector256.Create(scale);
            var vm = Vector256.Create(m0);
            var mx = Vector256.Create(max);
            for (; i + 8 <= n; i += 8)
            {
                var z = Vector256.MultiplyAddEstimate(Vector256.Load(x + i), vs, perKey ? Vector256.Load(mask + i) : vm);
                z.Store(x + i);
                mx = Vector256.Max(mx, z);
            }
            max = MaxOf(Vector128.Max(mx.GetLower(), mx.GetUpper()));
        }
        if (path >= 1 && n - i >= 4)
        {
            var vs = Vector128.Create(scale);
            var vm = Vector128.Create(m0);
            var mx = Vector128.Create(max);
            for (; i + 4 <= n; i += 4)
            {
                var z = Vector128.MultiplyAddEstimate(Vector128.Load(x + i), vs, perKey ? Vector128.Load(mask + i) : vm);
                z.Store(x + i);
                mx = Vector128.Max(mx, z);
            }
            max = MaxOf(mx);
        }
        for (; i < n; i++)
        {
            float z = float.MultiplyAddEstimate(x[i], scale, perKey ? mask[i] : m0);
            x[i] = z;
            max = Math.Max(max, z);
        }

        i = 0;
        if (path >= 3)
        {
            var vmax = Vector512.Create(max);
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16) { var e = FastExp.ExpFused(Vector512.Load(x + i) - vmax); e.Store(x + i); acc += e; }
            sum += Vector512.Sum(acc);
        }
        if (path >= 2)
        {
            var vmax = Vector256.Create(max);
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8) { var e = FastExp.ExpFused(Vector256.Load(x + i) - vmax); e.Store(x + i); acc += e; }
            sum += Vector256.Sum(acc);
        }
        if (path >= 1)
        {
            var vmax = Vector128.Create(max);
            var acc = Vector128<float>.Zero;
            for (; i + 4 <= n; i += 4) { var e = FastExp.ExpFused(Vector128.Load(x + i) - vmax); e.Store(x + i); acc += e; }
            sum += Vector128.Sum(acc);
        }
        for (; i < n; i++) { float e = FastExp.ScalarFused(x[i] - max); x[i] = e; sum += e; }
        return sum;
    }

    private static float MaxOf(Vector128<float> v) => Math.Max(Math.Max(v[0], v[1]), Math.Max(v[2], v[3]));

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void ScaleRow(int path, float* y, int n, float f)
    {
        int i = 0;
        if (path >= 3) for (; i + 16 <= n; i += 16) (Vector512.Load(y + i) * f).Store(y + i);
        if (path >= 2) for (; i + 8 <= n; i += 8) (Vector256.Load(y + i) * f).Store(y + i);
        if (path >= 1) for (; i + 4 <= n; i += 4) (Vector128.Load(y + i) * f).Store(y + i);
        for (; i < n; i++) y[i] *= f;
    }

    /// <summary>Scalar reference: scores and Σ e in double, Math.Exp, P normalized before the product with V.</summary>
    public static void Reference(int t, int d, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int ld, float scale,
        ReadOnlySpan<float> mask, int maskRowStride, bool maskPerKey, Span<float> y, int ldy)
    {
        var z = new double[t];
        for (int i = 0; i < t; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < t; j++)
            {
                double dot = 0;
                for (int p = 0; p < d; p++) dot += (double)q[i * ld + p] * k[j * ld + p];
                z[j] = dot * scale + mask[i * maskRowStride + (maskPerKey ? j : 0)];
                max = Math.Max(max, z[j]);
            }
            double sum = 0;
            for (int j = 0; j < t; j++) { z[j] = Math.Exp(z[j] - max); sum += z[j]; }
            for (int p = 0; p < d; p++)
            {
                double acc = 0;
                for (int j = 0; j < t; j++) acc += z[j] / sum * v[j * ld + p];
                y[i * ldy + p] = (float)acc;
            }
        }
    }
}
