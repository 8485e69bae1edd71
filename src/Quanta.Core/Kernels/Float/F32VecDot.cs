using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Float;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Float;

/// <summary>
/// F32 weight row x F32 activation row (ggml type 0; vec_dot_type F32). Weight row: n float32 (4n bytes);
/// activation: n float32 (<see cref="QuantizeActivation"/> copies). <see cref="DotReference"/> accumulates in
/// F64; <see cref="Dot"/> streams the row once into four independent F32 vector accumulators (fused multiply-add
/// where the CPU has it). Tolerance against the reference: |Dot - DotReference| &lt;= 1e-5 * sum |w_i x_i|.
/// </summary>
public sealed class F32VecDot : IVecDotKernel
{
    /// <summary>Kernel name used in logs and <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "f32*f32";

    /// <summary>The shared stateless instance.</summary>
    public static readonly F32VecDot Instance = new();

    /// <inheritdoc/>
    public WeightFormat Format => WeightFormat.F32;
    /// <inheritdoc/>
    public string Name => KernelName;
    /// <inheritdoc/>
    public int BlockSize => 1;
    /// <inheritdoc/>
    public long WeightRowBytes(int n) => 4L * n;
    /// <inheritdoc/>
    public int ActivationRowBytes(int n) => checked(4 * n);

    /// <inheritdoc/>
    public void QuantizeActivation(ReadOnlySpan<float> x, Span<byte> dst) => x.CopyTo(MemoryMarshal.Cast<byte, float>(dst));

    /// <inheritdoc/>
    public float DotReference(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        var w = MemoryMarshal.Cast<byte, float>(weightRow)[..n];
        var x = MemoryMarshal.Cast<byte, float>(activation)[..n];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (double)w[i] * x[i];
        return (float)sum;
    }

    /// <inheritdoc/>
    public float Dot(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (n < 0 || weightRow.Length < WeightRowBytes(n) || activation.Length < ActivationRowBytes(n))
            throw new ArgumentException("row spans shorter than n elements");
        ref float w = ref Unsafe.As<byte, float>(ref MemoryMarshal.GetReference(weightRow));
        ref float x = ref Unsafe.As<byte, float>(ref MemoryMarshal.GetReference(activation));
        if (Vector512.IsHardwareAccelerated) { KernelPaths.Record(KernelName, SimdPath.V512); return Dot512(ref w, ref x, n); }
        if (Vector256.IsHardwareAccelerated) { KernelPaths.Record(KernelName, SimdPath.V256); return Dot256(ref w, ref x, n); }
        if (Vector128.IsHardwareAccelerated) { KernelPaths.Record(KernelName, SimdPath.V128); return Dot128(ref w, ref x, n); }
        KernelPaths.Record(KernelName, SimdPath.Scalar);
        return DotReference(weightRow, activation, n);
    }
    private static float Dot512(ref float w, ref float x, int n)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i + 4 * 16 <= n; i += 4 * 16)
        {
            a0 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref w, (nuint)i), Vector512.LoadUnsafe(ref x, (nuint)i), a0);
            a1 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref w, (nuint)(i + 16)), Vector512.LoadUnsafe(ref x, (nuint)(i + 16)), a1);
            a2 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref w, (nuint)(i + 2 * 16)), Vector512.LoadUnsafe(ref x, (nuint)(i + 2 * 16)), a2);
            a3 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref w, (nuint)(i + 3 * 16)), Vector512.LoadUnsafe(ref x, (nuint)(i + 3 * 16)), a3);
        }
        for (; i + 16 <= n; i += 16)
            a0 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref w, (nuint)i), Vector512.LoadUnsafe(ref x, (nuint)i), a0);
        float s = Vector512.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++) s += Unsafe.Add(ref w, i) * Unsafe.Add(ref x, i);
        return s;
    }

    private static float Dot256(ref float w, ref float x, int n)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i + 4 * 8 <= n; i += 4 * 8)
        {
            a0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref w, (nuint)i), Vector256.LoadUnsafe(ref x, (nuint)i), a0);
            a1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref w, (nuint)(i + 8)), Vector256.LoadUnsafe(ref x, (nuint)(i + 8)), a1);
            a2 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref w, (nuint)(i + 2 * 8)), Vector256.LoadUnsafe(ref x, (nuint)(i + 2 * 8)), a2);
            a3 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref w, (nuint)(i + 3 * 8)), Vector256.LoadUnsafe(ref x, (nuint)(i + 3 * 8)), a3);
        }
        for (; i + 8 <= n; i += 8)
            a0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref w, (nuint)i), Vector256.LoadUnsafe(ref x, (nuint)i), a0);
        float s = Vector256.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++) s += Unsafe.Add(ref w, i) * Unsafe.Add(ref x, i);
        return s;
    }

    private static float Dot128(ref float w, ref float x, int n)
    {
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i + 4 * 4 <= n; i += 4 * 4)
        {
            a0 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref w, (nuint)i), Vector128.LoadUnsafe(ref x, (nuint)i), a0);
            a1 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref w, (nuint)(i + 4)), Vector128.LoadUnsafe(ref x, (nuint)(i + 4)), a1);
            a2 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref w, (nuint)(i + 2 * 4)), Vector128.LoadUnsafe(ref x, (nuint)(i + 2 * 4)), a2);
            a3 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref w, (nuint)(i + 3 * 4)), Vector128.LoadUnsafe(ref x, (nuint)(i + 3 * 4)), a3);
        }
        for (; i + 4 <= n; i += 4)
            a0 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref w, (nuint)i), Vector128.LoadUnsafe(ref x, (nuint)i), a0);
        float s = Vector128.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++) s += Unsafe.Add(ref w, i) * Unsafe.Add(ref x, i);
        return s;
    }

}
