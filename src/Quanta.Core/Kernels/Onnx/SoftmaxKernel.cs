using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// Softmax of one contiguous row for the graph executor: y = exp(x − max x) / Σ exp(x − max x) (y may be x).
/// Paths Vector512 → Vector256 → Vector128 → scalar share the formula; the vector exp and the order of the float sum
/// differ from <see cref="Reference"/> (MathF.Exp, double sum) by a few ulps.
/// </summary>
public static class SoftmaxKernel
{
    /// <summary>Softmax of x into y on the widest path.</summary>
    public static void Row(ReadOnlySpan<float> x, Span<float> y) => Row(GeluKernel.DefaultPath, x, y);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void Row(int path, ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length;
        if (y.Length < n) throw new ArgumentException($"output of {y.Length} for {n} values", nameof(y));
        if (n == 0) return;
        KernelPaths.Record("Softmax", Sgemm.PathName(path));
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        float max = float.NegativeInfinity;
        int i = 0;
        if (path >= 3 && n >= 16)
        {
            var m = Vector512.Create(float.NegativeInfinity);
            for (; i + 16 <= n; i += 16) m = Vector512.Max(m, Vector512.LoadUnsafe(ref rx, (nuint)i));
            var h = Vector256.Max(m.GetLower(), m.GetUpper());
            max = MaxOf(Vector128.Max(h.GetLower(), h.GetUpper()));
        }
        else if (path >= 2 && n >= 8)
        {
            var m = Vector256.Create(float.NegativeInfinity);
            for (; i + 8 <= n; i += 8) m = Vector256.Max(m, Vector256.LoadUnsafe(ref rx, (nuint)i));
            max = MaxOf(Vector128.Max(m.GetLower(), m.GetUpper()));
        }
        else if (path >= 1 && n >= 4)
        {
            var m = Vector128.Create(float.NegativeInfinity);
            for (; i + 4 <= n; i += 4) m = Vector128.Max(m, Vector128.LoadUnsafe(ref rx, (nuint)i));
            max = MaxOf(m);
        }
        for (; i < n; i++) max = Math.Max(max, x[i]);

        float sum = 0;
        i = 0;
        if (path >= 3)
        {
            var vm = Vector512.Create(max);
            var s = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16) { var e = FastExp.Exp(Vector512.LoadUnsafe(ref rx, (nuint)i) - vm); e.StoreUnsafe(ref ry, (nuint)i); s += e; }
            sum += Vector512.Sum(s);
        }
        if (path >= 2)
        {
            var vm = Vector256.Create(max);
            var s = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8) { var e = FastExp.Exp(Vector256.LoadUnsafe(ref rx, (nuint)i) - vm); e.StoreUnsafe(ref ry, (nuint)i); s += e; }
            sum += Vector256.Sum(s);
        }
        if (path >= 1)
        {
            var vm = Vector128.Create(max);
            var s = Vector128<float>.Zero;
            for (; i + 4 <= n; i += 4) { var e = FastExp.Exp(Vector128.LoadUnsafe(ref rx, (nuint)i) - vm); e.StoreUnsafe(ref ry, (nuint)i); s += e; }
            sum += Vector128.Sum(s);
        }
        for (; i < n; i++) { float e = FastExp.Scalar(x[i] - max); y[i] = e; sum += e; }

        float inv = 1f / sum;
        i = 0;
        if (path >= 3) for (; i + 16 <= n; i += 16) (Vector512.LoadUnsafe(ref ry, (nuint)i) * inv).StoreUnsafe(ref ry, (nuint)i);
        if (path >= 2) for (; i + 8 <= n; i += 8) (Vector256.LoadUnsafe(ref ry, (nuint)i) * inv).StoreUnsafe(ref ry, (nuint)i);
        if (path >= 1) for (; i + 4 <= n; i += 4) (Vector128.LoadUnsafe(ref ry, (nuint)i) * inv).StoreUnsafe(ref ry, (nuint)i);
        for (; i < n; i++) y[i] *= inv;
    }

    private static float MaxOf(Vector128<float> v) => Math.Max(Math.Max(v[0], v[1]), Math.Max(v[2], v[3]));

    /// <summary>Scalar reference: MathF.Exp and a double sum.</summary>
    public static void Reference(ReadOnlySpan<float> x, Span<float> y)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x) max = Math.Max(max, v);
        double sum = 0;
        for (int i = 0; i < x.Length; i++) { y[i] = MathF.Exp(x[i] - max); sum += y[i]; }
        for (int i = 0; i < x.Length; i++) y[i] = (float)(y[i] / sum);
    }
}
