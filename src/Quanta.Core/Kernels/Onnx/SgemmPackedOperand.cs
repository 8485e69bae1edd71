namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// A constant <see cref="Sgemm"/> operand packed once into the kernel's panel layout, so products that reuse it
/// (weights of a linear layer or convolution, run after run) skip the per-call packing. Either the left operand
/// op(A) [Rows, K] (panels of MR rows) or the right operand op(B) [K, Cols] (panels of NR columns), for the SIMD path
/// of the machine it was packed on (or a forced path in tests). Immutable after construction; safe to share between
/// threads. Layout: for each K block of <c>Sgemm.KC</c> starting at p0, all panels [kc][w] from offset p0·padded.
/// </summary>
public sealed class SgemmPackedOperand
{
    private SgemmPackedOperand(bool isA, int outer, int k, int path, float[] data)
    {
        IsA = isA;
        Outer = outer;
        K = k;
        Path = path;
        Data = data;
    }

    /// <summary>True for a left operand op(A) [Outer, K], false for a right operand op(B) [K, Outer].</summary>
    public bool IsA { get; }
    /// <summary>Rows of op(A) or columns of op(B).</summary>
    public int Outer { get; }
    /// <summary>The shared (inner) dimension.</summary>
    public int K { get; }
    internal int Path { get; }
    internal float[] Data { get; }
    /// <summary>Outer rounded up to the panel width.</summary>
    internal int Padded => (Outer + Width - 1) / Width * Width;
    internal int Width => IsA ? Sgemm.Mr(Path) : Sgemm.Nr(Path);

    /// <summary>Packs op(A) [m, k] (stored [m, k] with row stride lda, or [k, m] when <paramref name="transA"/>).</summary>
    public static SgemmPackedOperand PackA(ReadOnlySpan<float> a, int m, int k, int lda, bool transA) => PackA(Sgemm.DefaultPath, a, m, k, lda, transA);

    /// <summary>Packs op(B) [k, n] (stored [k, n] with row stride ldb, or [n, k] when <paramref name="transB"/>).</summary>
    public static SgemmPackedOperand PackB(ReadOnlySpan<float> b, int k, int n, int ldb, bool transB) => PackB(Sgemm.DefaultPath, b, k, n, ldb, transB);

    internal static unsafe SgemmPackedOperand PackA(int path, ReadOnlySpan<float> a, int m, int k, int lda, bool transA)
    {
        Check(m, k);
        Sgemm.CheckExtent(a.Length, transA ? k : m, transA ? m : k, lda, "A");
        int mr = Sgemm.Mr(path), padded = (m + mr - 1) / mr * mr;
        var data = GC.AllocateUninitializedArray<float>(Math.Max(1, checked(padded * k)), pinned: true);
        fixed (float* pa = a) fixed (float* dst = data)
            for (int p0 = 0; p0 < k; p0 += Sgemm.KC)
            {
                int kc = Math.Min(Sgemm.KC, k - p0);
                Sgemm.PackA(pa, lda, transA, 0, m, p0, kc, mr, dst + (long)p0 * padded);
            }
        return new SgemmPackedOperand(true, m, k, path, data);
    }

    internal static unsafe SgemmPackedOperand PackB(int path, ReadOnlySpan<float> b, int k, int n, int ldb, bool transB)
    {
        Check(n, k);
        Sgemm.CheckExtent(b.Length, transB ? n : k, transB ? k : n, ldb, "B");
        int nr = Sgemm.Nr(path), padded = (n + nr - 1) / nr * nr;
        var data = GC.AllocateUninitializedArray<float>(Math.Max(1, checked(padded * k)), pinned: true);
        fixed (float* pb = b) fixed (float* dst = data)
            for (int p0 = 0; p0 < k; p0 += Sgemm.KC)
            {
                int kc = Math.Min(Sgemm.KC, k - p0);
                Sgemm.PackB(pb, ldb, transB, p0, kc, 0, n, nr, dst + (long)p0 * padded);
            }
        return new SgemmPackedOperand(false, n, k, path, data);
    }

    private static void Check(int outer, int k)
    {
        if (outer <= 0 || k < 0) throw new ArgumentException($"cannot pack a [{outer}, {k}] operand");
    }
}
