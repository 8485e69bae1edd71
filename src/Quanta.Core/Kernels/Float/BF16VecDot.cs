using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Float;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Float;

/// <summary>
/// BF16 weights (ggml type 30) x BF16 activations (ggml's vec_dot_type for BF16 is BF16; the activation
/// is rounded with <see cref="BF16Conversion.FromSingle"/>). BF16 -> F32 is a 16-bit shift, done in registers on
/// the even/odd halves of each 32-bit lane of both rows (a permutation that leaves the sum unchanged).
/// Weight row: n little-endian 16-bit values (2n bytes); activation row: the same layout.
/// <see cref="DotReference"/> converts exactly and accumulates in F64; <see cref="Dot"/> streams both rows once into
/// four independent F32 vector accumulators. Tolerance against the reference: |Dot - DotReference| &lt;= 1e-5 * sum |w_i x_i|.
/// </summary>
public sealed class BF16VecDot : IVecDotKernel
{
    /// <summary>Kernel name used in logs and <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "bf16*bf16";

    /// <summary>The shared stateless instance.</summary>
    public static readonly BF16VecDot Instance = new();

    /// <inheritdoc/>
    public WeightFormat Format => WeightFormat.BF16;
    /// <inheritdoc/>
    public string Name => KernelName;
    /// <inheritdoc/>
    public int BlockSize => 1;
    /// <inheritdoc/>
    public long WeightRowBytes(int n) => 2L * n;
    /// <inheritdoc/>
    public int ActivationRowBytes(int n) => checked(2 * n);

    /// <inheritdoc/>
    public void QuantizeActivation(ReadOnlySpan<float> x, Span<byte> dst) =>
        BF16Conversion.FromSingleRow(x, MemoryMarshal.Cast<byte, ushort>(dst));

    /// <inheritdoc/>
    public float DotReference(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        var w = MemoryMarshal.Cast<byte, ushort>(weightRow)[..n];
        var x = MemoryMarshal.Cast<byte, ushort>(activation)[..n];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (double)BF16Conversion.ToSingle(w[i]) * BF16Conversion.ToSingle(x[i]);
        return (float)sum;
    }

    /// <inheritdoc/>
    public float Dot(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (n < 0 || weightRow.Length < WeightRowBytes(n) || activation.Length < ActivationRowBytes(n))
            throw new ArgumentException("row spans shorter than n elements");
        ref ushort w = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(weightRow));
        ref ushort x = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(activation));
        if (Vector512.IsHardwareAccelerated) { KernelPaths.Record(KernelName, SimdPath.V512); return Dot512(ref w, ref x, n); }
        if (Vector256.IsHardwareAccelerated) { KernelPaths.Record(KernelName, SimdPath.V256); return Dot256(ref w, ref x, n); }
        if (Vector128.IsHardwareAccelerated) { KernelPaths.Record(KernelName, SimdPath.V128); return Dot128(ref w, ref x, n); }
        KernelPaths.Record(KernelName, SimdPath.Scalar);
        return DotReference(weightRow, activation, n);
    }

    /// <summary>Scalar sum of w[i] * x[i] over [from, to) (row tails).</summary>
    private static float ScalarRange(ref ushort w, ref ushort x, int from, int to)
    {
        float s = 0;
        for (int i = from; i < to; i++) s += BF16Conversion.ToSingle(Unsafe.Add(ref w, i)) * BF16Conversion.ToSingle(Unsafe.Add(ref x, i));
        return s;
    }

    private static float Dot512(ref ushort w, ref ushort x, int n)
    {
        // per iteration: 2 vectors of 2*16 halves from each row -> 4 accumulators (even/odd lanes)
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var hi = Vector512.Create(0xFFFF0000u);
        int i = 0;
        for (; i + 4 * 16 <= n; i += 4 * 16)
        {
            var w0 = Vector512.LoadUnsafe(ref w, (nuint)i).AsUInt32();
            var w1 = Vector512.LoadUnsafe(ref w, (nuint)(i + 2 * 16)).AsUInt32();
            var x0 = Vector512.LoadUnsafe(ref x, (nuint)i).AsUInt32();
            var x1 = Vector512.LoadUnsafe(ref x, (nuint)(i + 2 * 16)).AsUInt32();
            a0 = Vector512.MultiplyAddEstimate((w0 << 16).AsSingle(), (x0 << 16).AsSingle(), a0);
            a1 = Vector512.MultiplyAddEstimate((w0 & hi).AsSingle(), (x0 & hi).AsSingle(), a1);
            a2 = Vector512.MultiplyAddEstimate((w1 << 16).AsSingle(), (x1 << 16).AsSingle(), a2);
            a3 = Vector512.MultiplyAddEstimate((w1 & hi).AsSingle(), (x1 & hi).AsSingle(), a3);
        }
        return Vector512.Sum((a0 + a1) + (a2 + a3)) + ScalarRange(ref w, ref x, i, n);
    }

    private static float Dot256(ref ushort w, ref ushort x, int n)
    {
        // per iteration: 2 vectors of 2*8 halves from each row -> 4 accumulators (even/odd lanes)
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var hi = Vector256.Create(0xFFFF0000u);
        int i = 0;
        for (; i + 4 * 8 <= n; i += 4 * 8)
        {
            var w0 = Vector256.LoadUnsafe(ref w, (nuint)i).AsUInt32();
            var w1 = Vector256.LoadUnsafe(ref w, (nuint)(i + 2 * 8)).AsUInt32();
            var x0 = Vector256.LoadUnsafe(ref x, (nuint)i).AsUInt32();
            var x1 = Vector256.LoadUnsafe(ref x, (nuint)(i + 2 * 8)).AsUInt32();
            a0 = Vector256.MultiplyAddEstimate((w0 << 16).AsSingle(), (x0 << 16).AsSingle(), a0);
            a1 = Vector256.MultiplyAddEstimate((w0 & hi).AsSingle(), (x0 & hi).AsSingle(), a1);
            a2 = Vector256.MultiplyAddEstimate((w1 << 16).AsSingle(), (x1 << 16).AsSingle(), a2);
            a3 = Vector256.MultiplyAddEstimate((w1 & hi).AsSingle(), (x1 & hi).AsSingle(), a3);
        }
        return Vector256.Sum((a0 + a1) + (a2 + a3)) + ScalarRange(ref w, ref x, i, n);
    }

    private static float Dot128(ref ushort w, ref ushort x, int n)
    {
        // per iteration: 2 vectors of 2*4 halves from each row -> 4 accumulators (even/odd lanes)
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var hi = Vector128.Create(0xFFFF0000u);
        int i = 0;
        for (; i + 4 * 4 <= n; i += 4 * 4)
        {
            var w0 = Vector128.LoadUnsafe(ref w, (nuint)i).AsUInt32();
            var w1 = Vector128.LoadUnsafe(ref w, (nuint)(i + 2 * 4)).AsUInt32();
            var x0 = Vector128.LoadUnsafe(ref x, (nuint)i).AsUInt32();
            var x1 = Vector128.LoadUnsafe(ref x, (nuint)(i + 2 * 4)).AsUInt32();
            a0 = Vector128.MultiplyAddEstimate((w0 << 16).AsSingle(), (x0 << 16).AsSingle(), a0);
            a1 = Vector128.MultiplyAddEstimate((w0 & hi).AsSingle(), (x0 & hi).AsSingle(), a1);
            a2 = Vector128.MultiplyAddEstimate((w1 << 16).AsSingle(), (x1 << 16).AsSingle(), a2);
            a3 = Vector128.MultiplyAddEstimate((w1 & hi).AsSingle(), (x1 & hi).AsSingle(), a3);
        }
        return Vector128.Sum((a0 + a1) + (a2 + a3)) + ScalarRange(ref w, ref x, i, n);
    }
}
