using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// Single-precision general matrix multiply for the ONNX graph executor:
/// C[m, n] = op(A)[m, k] · op(B)[k, n] (+ C when <c>accumulate</c>), row-major with leading dimensions,
/// op(X) = Xᵀ when the trans flag is set (A stored [k, m], B stored [n, k]).
/// <para>Blocked in the GotoBLAS style: B is packed in KC×NC blocks into NR-wide column panels, a transposed A in MC×KC
/// blocks into MR-tall row panels (a row-major A is read in place, as MLAS does), and a register-tile micro-kernel (6×32 on Vector512, 6×16 on Vector256,
/// 4×8 on Vector128, 4×4 scalar; 8×32 on Vector512 for an A read in place) runs over the panels. Packing buffers are per thread and reused (no
/// allocation per call once warm). A constant operand can be packed once (<see cref="SgemmPackedOperand"/>) and
/// reused by every call (<see cref="SgemmParallel"/>); an optional epilogue adds a per-row or per-column bias and
/// applies ReLU while the tile is hot. <see cref="MultiplyReference"/> is the scalar reference.</para>
/// </summary>
public static unsafe class Sgemm
{
    internal const int KC = 256, MC = 96, NC = 1024;

    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

    /// <summary>The widest path this machine runs: 3 = Vector512, 2 = Vector256, 1 = Vector128, 0 = scalar.</summary>
    internal static int DefaultPath =>
        Vector512.IsHardwareAccelerated ? 3 : Vector256.IsHardwareAccelerated ? 2 : Vector128.IsHardwareAccelerated ? 1 : 0;

    /// <summary>Register-tile rows of a path.</summary>
    internal static int Mr(int path) => path >= 2 ? 6 : 4;
    /// <summary>Register-tile columns of a path.</summary>
    internal static int Nr(int path) => path switch { 3 => 32, 2 => 16, 1 => 8, _ => 4 };

    internal static SimdPath PathName(int path) => path switch { 3 => SimdPath.V512, 2 => SimdPath.V256, 1 => SimdPath.V128, _ => SimdPath.Scalar };

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

    internal static void CheckExtent(int length, int rows, int cols, int ld, string name)
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
        var sa = new RawA(a, lda, transA, Mr(path));
        var sb = new RawB(b, ldb, transB, Nr(path));
        Run(path, 0, m, 0, n, k, ref sa, ref sb, c, ldc, accumulate, default);
    }

    /// <summary>
    /// The blocked product over rows [i0, i1) and columns [j0, j1) of C (absolute indices; i0 a multiple of MR and j0 of
    /// NR when the matching operand is pre-packed). Operands come from panel sources (packed per call or pre-packed);
    /// the epilogue runs on each tile after its last K block.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void Run<TA, TB>(int path, int i0, int i1, int j0, int j1, int k, ref TA a, ref TB b, float* c, int ldc, bool accumulate, SgemmEpilogue ep)
        where TA : struct, ISgemmPanels where TB : struct, ISgemmPanels
    {
        int m = i1 - i0, n = j1 - j0;
        if (m <= 0 || n <= 0) return;
        if (k <= 0)
        {
            for (int i = i0; i < i1; i++)
            {
                var row = new Span<float>(c + (long)i * ldc + j0, n);
                if (!accumulate) row.Clear();
                ep.Apply(path, c, ldc, i, 1, j0, n);
            }
            return;
        }
        KernelPaths.Record("Sgemm", PathName(path));
        int mr = Mr(path), nr = Nr(path);
        // A stored row-major is read in place by the micro-kernel (rows at stride lda, k contiguous) instead of being
        // packed: packing costs a strided copy of every A element per column block, as much as the product itself when
        // B has few columns (attention's P·V) and a third of a short product's time (one 16-token sentence).
        bool direct = typeof(TA) == typeof(RawA) && !System.Runtime.CompilerServices.Unsafe.As<TA, RawA>(ref a).Trans;
        float* aBase = direct ? System.Runtime.CompilerServices.Unsafe.As<TA, RawA>(ref a).A : null;
        nint lda = direct ? System.Runtime.CompilerServices.Unsafe.As<TA, RawA>(ref a).Lda : 0;
        nint rs = direct ? lda : 1, ks = direct ? 1 : mr;
        int tall = direct ? SgemmMicroKernels.TallRows(path) : 0;
        float[]? packA = null, packB = null;
        if (!a.Prepacked && !direct) packA = t_packA is { } pa0 && pa0.Length >= MC * KC ? pa0 : t_packA = GC.AllocateUninitializedArray<float>(MC * KC, pinned: true);
        if (!b.Prepacked) packB = t_packB is { } pb0 && pb0.Length >= NC * KC ? pb0 : t_packB = GC.AllocateUninitializedArray<float>(NC * KC, pinned: true);
        fixed (float* bufA = packA) fixed (float* bufB = packB)
        {
            if (direct && b.Prepacked)
            {
                // A in place and B packed once: row blocks outermost, so that an MC-row block of C (≤ MC·NC floats,
                // in L2) takes every K block before the next, instead of every row of C going through L3 once per K
                // block (rows at least 4× slower to reload for a [4096, 1536] product); B's panels stream from L3.
                for (int ib = i0; ib < i1; ib += MC)
                {
                    int mc = Math.Min(MC, i1 - ib);
                    for (int jb = j0; jb < j1; jb += NC)
                    {
                        int nc = Math.Min(NC, j1 - jb);
                        for (int p0 = 0; p0 < k; p0 += KC)
                        {
                            int kc = Math.Min(KC, k - p0);
                            Block(path, mr, nr, tall, aBase + ib * lda + p0, rs, ks, b.Panels(jb, nc, p0, kc, null), kc, c, ldc, ib, mc, jb, nc,
                                accumulate || p0 > 0, p0 + kc >= k, ep);
                        }
                    }
                }
                return;
            }
            for (int jb = j0; jb < j1; jb += NC)
            {
                int nc = Math.Min(NC, j1 - jb);
                for (int p0 = 0; p0 < k; p0 += KC)
                {
                    int kc = Math.Min(KC, k - p0);
                    float* pbBlock = b.Panels(jb, nc, p0, kc, bufB);
                    for (int ib = i0; ib < i1; ib += MC)
                    {
                        int mc = Math.Min(MC, i1 - ib);
                        float* paBlock = direct ? aBase + ib * lda + p0 : a.Panels(ib, mc, p0, kc, bufA);
                        Block(path, mr, nr, tall, paBlock, rs, ks, pbBlock, kc, c, ldc, ib, mc, jb, nc, accumulate || p0 > 0, p0 + kc >= k, ep);
                    }
                }
            }
        }
    }

    // The register tiles of one [mc, nc] block of C over one K block: A rows at stride rs (in place) or MR-row panels
    // (rs = 1, ks = MR), B as NR-column panels [kc][nr]; tall > 0 runs the taller in-place tile; the epilogue runs on
    // each tile after the last K block.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Block(int path, int mr, int nr, int tall, float* paBlock, nint rs, nint ks, float* pbBlock, int kc, float* c, int ldc,
        int ib, int mc, int jb, int nc, bool load, bool last, SgemmEpilogue ep)
    {
        for (int jj = 0; jj < nc; jj += nr)
        {
            float* pb = pbBlock + (long)(jj / nr) * kc * nr;
            int nre = Math.Min(nr, nc - jj);
            if (tall > 0)
            {
                // A in place: rows need no panel alignment, so the taller tile covers them (16 rows: 8 + 8, not 6 + 6 + 4).
                for (int ii = 0; ii < mc; ii += tall)
                {
                    int mre = Math.Min(tall, mc - ii);
                    SgemmMicroKernels.RunTall(path, kc, paBlock + ii * rs, rs, ks, pb, c + (long)(ib + ii) * ldc + jb + jj, ldc, mre, nre, load);
                    if (last && ep.Active) ep.Apply(path, c, ldc, ib + ii, mre, jb + jj, nre);
                }
                continue;
            }
            for (int ii = 0; ii < mc; ii += mr)
            {
                float* pa = ks == 1 ? paBlock + ii * rs : paBlock + (long)(ii / mr) * kc * mr; // in place (ks = 1) or MR-row panels
                int mre = Math.Min(mr, mc - ii);
                SgemmMicroKernels.Run(path, kc, pa, rs, ks, pb, c + (long)(ib + ii) * ldc + jb + jj, ldc, mre, nre, load);
                if (last && ep.Active) ep.Apply(path, c, ldc, ib + ii, mre, jb + jj, nre);
            }
        }
    }

    // packA: [mc/mr panels][kc][mr], zero-padded rows.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void PackA(float* a, int lda, bool transA, int i0, int mc, int p0, int kc, int mr, float* dst)
    {
        for (int ii = 0; ii < mc; ii += mr)
        {
            int rows = Math.Min(mr, mc - ii);
            if (transA && rows == mr)
            {
                // op(A) = Aᵀ: the mr rows of a panel are contiguous in each stored row of A.
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (long)(p0 + p) * lda + i0 + ii;
                    for (int r = 0; r < mr; r++) dst[r] = src[r];
                    dst += mr;
                }
                continue;
            }
            if (!transA)
            {
                for (int r = 0; r < rows; r++)
                {
                    float* src = a + (long)(i0 + ii + r) * lda + p0;
                    for (int p = 0; p < kc; p++) dst[p * mr + r] = src[p];
                }
                for (int r = rows; r < mr; r++)
                    for (int p = 0; p < kc; p++) dst[p * mr + r] = 0;
                dst += kc * mr;
                continue;
            }
            for (int p = 0; p < kc; p++)
            {
                for (int r = 0; r < rows; r++) dst[r] = a[(long)(p0 + p) * lda + i0 + ii + r];
                for (int r = rows; r < mr; r++) dst[r] = 0;
                dst += mr;
            }
        }
    }

    // packB: [nc/nr panels][kc][nr], zero-padded columns.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void PackB(float* b, int ldb, bool transB, int p0, int kc, int j0, int nc, int nr, float* dst)
    {
        for (int jj = 0; jj < nc; jj += nr)
        {
            int cols = Math.Min(nr, nc - jj);
            if (!transB)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(p0 + p) * ldb + j0 + jj;
                    if (cols == nr) CopyPanelRow(src, dst, nr);
                    else
                    {
                        for (int j = 0; j < cols; j++) dst[j] = src[j];
                        for (int j = cols; j < nr; j++) dst[j] = 0;
                    }
                    dst += nr;
                }
                continue;
            }
            for (int j = 0; j < cols; j++)
            {
                float* src = b + (long)(j0 + jj + j) * ldb + p0;
                for (int p = 0; p < kc; p++) dst[p * nr + j] = src[p];
            }
            for (int j = cols; j < nr; j++)
                for (int p = 0; p < kc; p++) dst[p * nr + j] = 0;
            dst += kc * nr;
        }
    }

    // One k row of a full B panel: nr = 32/16/8 floats (two vectors of the path's width) or 4 (scalar path).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void CopyPanelRow(float* src, float* dst, int nr)
    {
        if (nr == 32 && Vector512.IsHardwareAccelerated) { Vector512.Store(Vector512.Load(src), dst); Vector512.Store(Vector512.Load(src + 16), dst + 16); }
        else if (nr == 16 && Vector256.IsHardwareAccelerated) { Vector256.Store(Vector256.Load(src), dst); Vector256.Store(Vector256.Load(src + 8), dst + 8); }
        else if (nr == 8 && Vector128.IsHardwareAccelerated) { Vector128.Store(Vector128.Load(src), dst); Vector128.Store(Vector128.Load(src + 4), dst + 4); }
        else for (int j = 0; j < nr; j++) dst[j] = src[j];
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

/// <summary>
/// A source of packed operand panels for <see cref="Sgemm"/>: for rows (A) or columns (B) [start, start + count) and
/// k in [p0, p0 + kc), returns [⌈count/w⌉ panels][kc][w] floats (w = MR for A, NR for B), zero-padded, either packed
/// into <c>scratch</c> (room for MC·KC or NC·KC floats) or pointing into pre-packed storage.
/// </summary>
internal unsafe interface ISgemmPanels
{
    bool Prepacked { get; }
    float* Panels(int start, int count, int p0, int kc, float* scratch);
}

/// <summary>
/// A stored row-major (or transposed) A. <see cref="Sgemm.Run{TA, TB}"/> reads a row-major one in place (the micro-kernel
/// takes its row stride); a transposed one is packed per call.
/// </summary>
internal readonly unsafe struct RawA(float* a, int lda, bool trans, int mr) : ISgemmPanels
{
    public float* A { get; } = a;
    public int Lda { get; } = lda;
    public bool Trans { get; } = trans;
    public bool Prepacked => false;
    public float* Panels(int start, int count, int p0, int kc, float* scratch)
    {
        Sgemm.PackA(A, Lda, Trans, start, count, p0, kc, mr, scratch);
        return scratch;
    }
}

/// <summary>A stored row-major (or transposed) B, packed per call.</summary>
internal readonly unsafe struct RawB(float* b, int ldb, bool trans, int nr) : ISgemmPanels
{
    public bool Prepacked => false;
    public float* Panels(int start, int count, int p0, int kc, float* scratch)
    {
        Sgemm.PackB(b, ldb, trans, p0, kc, start, count, nr, scratch);
        return scratch;
    }
}

/// <summary>
/// Panels of a whole operand packed once (<see cref="SgemmPackedOperand"/>): the K block at p0 holds all
/// ⌈rows/w⌉ panels of [kc][w] floats from offset p0·padded (padded = rows rounded up to w).
/// </summary>
internal readonly unsafe struct PrepackedPanels(float* data, int padded, int w) : ISgemmPanels
{
    public bool Prepacked => true;
    public float* Panels(int start, int count, int p0, int kc, float* scratch) => data + (long)p0 * padded + (long)(start / w) * kc * w;
}

/// <summary>
/// What <see cref="Sgemm"/> does to each finished tile: add RowBias[i] (a per-row bias, e.g. conv output channels) and/or
/// ColBias[j] (a per-column bias, e.g. a linear layer's), then clamp at 0 when Relu, or apply GELU (erf form,
/// <see cref="GeluKernel"/>) when Gelu, while the tile is in cache. Pointers index absolute rows/columns.
/// </summary>
internal readonly unsafe struct SgemmEpilogue(float* rowBias, float* colBias, bool relu, bool gelu = false)
{
    public bool Active => rowBias != null || colBias != null || relu || gelu;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Apply(int path, float* c, int ldc, int i0, int rows, int j0, int cols)
    {
        if (!Active) return;
        for (int r = 0; r < rows; r++)
        {
            float* row = c + (long)(i0 + r) * ldc + j0;
            float rb = rowBias != null ? rowBias[i0 + r] : 0f;
            float* cb = colBias != null ? colBias + j0 : null;
            int j = 0;
            if (path >= 3 && Vector512.IsHardwareAccelerated)
            {
                var vr = Vector512.Create(rb);
                for (; j + 16 <= cols; j += 16)
                {
                    var v = Vector512.Load(row + j) + vr;
                    if (cb != null) v += Vector512.Load(cb + j);
                    if (relu) v = Vector512.Max(v, Vector512<float>.Zero);
                    if (gelu) v = GeluKernel.G512(v);
                    Vector512.Store(v, row + j);
                }
            }
            if (path >= 2 && Vector256.IsHardwareAccelerated)
            {
                var vr = Vector256.Create(rb);
                for (; j + 8 <= cols; j += 8)
                {
                    var v = Vector256.Load(row + j) + vr;
                    if (cb != null) v += Vector256.Load(cb + j);
                    if (relu) v = Vector256.Max(v, Vector256<float>.Zero);
                    if (gelu) v = GeluKernel.G256(v);
                    Vector256.Store(v, row + j);
                }
            }
            if (path >= 1 && Vector128.IsHardwareAccelerated)
            {
                var vr = Vector128.Create(rb);
                for (; j + 4 <= cols; j += 4)
                {
                    var v = Vector128.Load(row + j) + vr;
                    if (cb != null) v += Vector128.Load(cb + j);
                    if (relu) v = Vector128.Max(v, Vector128<float>.Zero);
                    if (gelu) v = GeluKernel.G128(v);
                    Vector128.Store(v, row + j);
                }
            }
            for (; j < cols; j++)
            {
                float v = row[j] + rb + (cb != null ? cb[j] : 0f);
                row[j] = relu ? Math.Max(v, 0f) : gelu ? GeluKernel.Scalar(v) : v;
            }
        }
    }
}
