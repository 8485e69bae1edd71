using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// Attention-score softmax of one contiguous row, the scale and the additive mask folded in:
/// y = softmax(x·scale + mask), mask either a row of the same length or one value for the whole row (y may be x).
/// One pass writes x·scale + mask into y while the row is in L1, then <see cref="SoftmaxKernel"/> normalizes y in
/// place, so the graph's Div, Add and Softmax read and write the score tensor once instead of three times. Paths
/// Vector512 → Vector256 → Vector128 → scalar; <see cref="Reference"/> is the scalar reference (double sum, MathF.Exp).
/// </summary>
public static class MaskedSoftmaxKernel
{
    /// <summary>y = softmax(x·scale + mask) on the widest path; mask has x.Length values or 1.</summary>
    public static void Row(ReadOnlySpan<float> x, float scale, ReadOnlySpan<float> mask, Span<float> y) => Row(GeluKernel.DefaultPath, x, scale, mask, y);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void Row(int path, ReadOnlySpan<float> x, float scale, ReadOnlySpan<float> mask, Span<float> y)
    {
        int n = x.Length;
        if (y.Length < n) throw new ArgumentException($"output of {y.Length} for {n} values", nameof(y));
        if (mask.Length != n && mask.Length != 1) throw new ArgumentException($"mask of {mask.Length} values for a row of {n}", nameof(mask));
        if (n == 0) return;
        KernelPaths.Record("MaskedSoftmax", Sgemm.PathName(path));
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rm = ref MemoryMarshal.GetReference(mask);
        bool row = mask.Length == n && n > 1;
        float m0 = mask[0];
        int i = 0;
        if (path >= 3)
        {
            var vs = Vector512.Create(scale);
            var vm = Vector512.Create(m0);
            for (; i + 16 <= n; i += 16)
                (Vector512.LoadUnsafe(ref rx, (nuint)i) * vs + (row ? Vector512.LoadUnsafe(ref rm, (nuint)i) : vm)).StoreUnsafe(ref ry, (nuint)i);
        }
        if (path >= 2)
        {
            var vs = Vector256.Create(scale);
            var vm = Vector256.Create(m0);
            for (; i + 8 <= n; i += 8)
                (Vector256.LoadUnsafe(ref rx, (nuint)i) * vs + (row ? Vector256.LoadUnsafe(ref rm, (nuint)i) : vm)).StoreUnsafe(ref ry, (nuint)i);
        }
        if (path >= 1)
        {
            var vs = Vector128.Create(scale);
            var vm = Vector128.Create(m0);
            for (; i + 4 <= n; i += 4)
                (Vector128.LoadUnsafe(ref rx, (nuint)i) * vs + (row ? Vector128.LoadUnsafe(ref rm, (nuint)i) : vm)).StoreUnsafe(ref ry, (nuint)i);
        }
        for (; i < n; i++) y[i] = x[i] * scale + (row ? mask[i] : m0);
        SoftmaxKernel.Row(path, y[..n], y);
    }

    /// <summary>Scalar reference: z = x·scale + mask in float (as the unfused graph rounds it), MathF.Exp and a double sum.</summary>
    public static void Reference(ReadOnlySpan<float> x, float scale, ReadOnlySpan<float> mask, Span<float> y)
    {
        int n = x.Length;
        var z = new float[n];
        for (int i = 0; i < n; i++) z[i] = x[i] * scale + (mask.Length == n ? mask[i] : mask[0]);
        SoftmaxKernel.Reference(z, y);
    }
}
