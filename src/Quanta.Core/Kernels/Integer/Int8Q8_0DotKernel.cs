using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Formats.Integer;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Integer;

/// <summary>
/// "i8*q8_0": <see cref="WeightFormat.Int8"/> weight rows (<c>[float32 scale][sbyte q[n]]</c>, see
/// <see cref="Int8RowCodec"/>) times Q8_0 activations (<see cref="Q8_0Activation"/>).
/// <para>Math: <c>dot = scale * sum_b d_b * isum_b</c>, <c>isum_b = sum_{k in block b} q[k] * qs[k]</c> computed
/// exactly in int32 per 32-element block. SIMD paths: x86 forms the products with vpmaddubsw (|w| unsigned x
/// sign-adjusted activation) and vpmaddwd with ones (AVX-512BW, AVX2, SSSE3); other CPUs with Vector128
/// (Arm64 AdvSimd) widen to 16-bit, multiply and widen-add. Integer block sums are exact on every path;
/// only the F32 accumulation order differs from <see cref="DotReference"/>, so
/// <c>|Dot - DotReference| &lt;= 2^-20 * nb * |scale| * sum_b |d_b * isum_b|</c> (nb = n/32, standard
/// summation bound with slack).</para>
/// <para>Any weight code -128..127 is handled: activation codes are within -127..127, so each vpmaddubsw pair sum
/// is at most 2*128*127 &lt; 2^15 and never saturates.</para>
/// </summary>
public sealed class Int8Q8_0DotKernel : IVecDotKernel
{
    /// <summary>The shared instance.</summary>
    public static Int8Q8_0DotKernel Instance { get; } = new();

    /// <summary>Kernel name recorded in <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "i8*q8_0";

    /// <inheritdoc />
    public WeightFormat Format => WeightFormat.Int8;

    /// <inheritdoc />
    public string Name => KernelName;

    /// <inheritdoc />
    public int BlockSize => Q8_0Activation.BlockSize;

    /// <inheritdoc />
    public long WeightRowBytes(int n) => Int8RowCodec.HeaderBytes + (long)n;

    /// <inheritdoc />
    public int ActivationRowBytes(int n) => Q8_0Activation.RowBytes(n);

    /// <inheritdoc />
    public void QuantizeActivation(ReadOnlySpan<float> x, Span<byte> dst) => Q8_0Activation.Quantize(x, dst);

    /// <inheritdoc />
    public float Dot(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        Check(weightRow, activation, n);
        if (Avx512BW.IsSupported && Vector512.IsHardwareAccelerated)
        {
            KernelPaths.Record(KernelName, SimdPath.V512);
            return DotAvx512(weightRow, activation, n);
        }
        if (Avx2.IsSupported && Vector256.IsHardwareAccelerated)
        {
            KernelPaths.Record(KernelName, SimdPath.V256);
            return DotAvx2(weightRow, activation, n);
        }
        if (Ssse3.IsSupported && Vector128.IsHardwareAccelerated)
        {
            KernelPaths.Record(KernelName, SimdPath.V128);
            return DotSsse3(weightRow, activation, n);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            KernelPaths.Record(KernelName, SimdPath.V128);
            return DotVector128(weightRow, activation, n);
        }
        KernelPaths.Record(KernelName, SimdPath.Scalar);
        return DotScalar(weightRow, activation, n);
    }

    /// <inheritdoc />
    public float DotReference(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        Check(weightRow, activation, n);
        return DotScalar(weightRow, activation, n);
    }

    private static float DotScalar(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        float scale = Int8RowCodec.ReadScale(weightRow);
        ReadOnlySpan<sbyte> q = MemoryMarshal.Cast<byte, sbyte>(weightRow.Slice(Int8RowCodec.HeaderBytes, n));
        float sum = 0f;
        for (int b = 0; b < n / 32; b++)
        {
            ReadOnlySpan<byte> ab = activation.Slice(b * Q8_0Activation.BlockBytes, Q8_0Activation.BlockBytes);
            float d = (float)Unsafe.ReadUnaligned<Half>(ref MemoryMarshal.GetReference(ab));
            int isum = 0;
            for (int k = 0; k < 32; k++) isum += q[b * 32 + k] * (sbyte)ab[2 + k];
            sum += d * isum;
        }
        return sum * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float D(ref byte act, int b) => Fp16Table.ToSingle(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref act, b * Q8_0Activation.BlockBytes)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref byte Qs(ref byte act, int b) => ref Unsafe.Add(ref act, b * Q8_0Activation.BlockBytes + 2);

    /// <summary>AVX-512BW path: two blocks per 512-bit step.</summary>
    internal static float DotAvx512(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (!Avx512BW.IsSupported) throw new PlatformNotSupportedException();
        float scale = Int8RowCodec.ReadScale(weightRow);
        ref byte w = ref Unsafe.Add(ref MemoryMarshal.GetReference(weightRow), Int8RowCodec.HeaderBytes);
        ref byte act = ref MemoryMarshal.GetReference(activation);
        int nb = n / 32, b = 0;
        var acc0 = Vector512<float>.Zero;
        var acc1 = Vector512<float>.Zero;
        var ones = Vector512.Create((short)1);
        for (; b + 4 <= nb; b += 4)
        {
            acc0 = Avx512F.FusedMultiplyAdd(Pair512(ref w, ref act, b, ones), PairScale(ref act, b), acc0);
            acc1 = Avx512F.FusedMultiplyAdd(Pair512(ref w, ref act, b + 2, ones), PairScale(ref act, b + 2), acc1);
        }
        if (b + 2 <= nb)
        {
            acc0 = Avx512F.FusedMultiplyAdd(Pair512(ref w, ref act, b, ones), PairScale(ref act, b), acc0);
            b += 2;
        }
        var acc = acc0 + acc1;
        float sum = Vector512.Sum(acc);
        if (b < nb)
        {
            Vector256<sbyte> wv = Vector256.LoadUnsafe(ref w, (nuint)(b * 32)).AsSByte();
            Vector256<sbyte> av = Vector256.LoadUnsafe(ref Qs(ref act, b)).AsSByte();
            sum += D(ref act, b) * Vector256.Sum(BlockAvx2(wv, av));
        }
        return sum * scale;
    }

    /// <summary>Blocks b and b+1: 16 int32 lane sums (8 per block) as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pair512(ref byte w, ref byte act, int b, Vector512<short> ones)
    {
        Vector512<sbyte> wv = Vector512.LoadUnsafe(ref w, (nuint)(b * 32)).AsSByte();
        // vinserti64x4 on a fresh register (Vector512.Create(lo, hi) inserted into a stale one: a false dependency)
        Vector512<sbyte> av = Avx512F.InsertVector256(Vector256.LoadUnsafe(ref Qs(ref act, b)).AsSByte().ToVector512Unsafe(), Vector256.LoadUnsafe(ref Qs(ref act, b + 1)).AsSByte(), 1);
        Vector512<byte> ax = Avx512BW.Abs(wv);
        Vector512<sbyte> sy = Vector512.ConditionalSelect(Vector512.LessThan(wv, Vector512<sbyte>.Zero), -av, av);
        return Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(ax, sy), ones));
    }

    /// <summary>Activation scales of blocks b (lanes 0..7) and b+1 (lanes 8..15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> PairScale(ref byte act, int b) =>
        Avx512F.InsertVector256(Vector256.Create(D(ref act, b)).ToVector512Unsafe(), Vector256.Create(D(ref act, b + 1)), 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockAvx2(Vector256<sbyte> w, Vector256<sbyte> a)
    {
        Vector256<short> p16 = Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(a, w));
        return Avx2.MultiplyAddAdjacent(p16, Vector256.Create((short)1));
    }

    /// <summary>AVX2 path: one block per 256-bit step.</summary>
    internal static float DotAvx2(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (!Avx2.IsSupported) throw new PlatformNotSupportedException();
        float scale = Int8RowCodec.ReadScale(weightRow);
        ref byte w = ref Unsafe.Add(ref MemoryMarshal.GetReference(weightRow), Int8RowCodec.HeaderBytes);
        ref byte act = ref MemoryMarshal.GetReference(activation);
        var acc = Vector256<float>.Zero;
        for (int b = 0; b < n / 32; b++)
        {
            Vector256<int> p = BlockAvx2(Vector256.LoadUnsafe(ref w, (nuint)(b * 32)).AsSByte(), Vector256.LoadUnsafe(ref Qs(ref act, b)).AsSByte());
            acc += Vector256.ConvertToSingle(p) * Vector256.Create(D(ref act, b));
        }
        return Vector256.Sum(acc) * scale;
    }

    /// <summary>SSSE3 path: one block as two 128-bit halves.</summary>
    internal static float DotSsse3(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (!Ssse3.IsSupported) throw new PlatformNotSupportedException();
        float scale = Int8RowCodec.ReadScale(weightRow);
        ref byte w = ref Unsafe.Add(ref MemoryMarshal.GetReference(weightRow), Int8RowCodec.HeaderBytes);
        ref byte act = ref MemoryMarshal.GetReference(activation);
        var acc = Vector128<float>.Zero;
        var ones = Vector128.Create((short)1);
        for (int b = 0; b < n / 32; b++)
        {
            ref byte qs = ref Qs(ref act, b);
            Vector128<sbyte> w0 = Vector128.LoadUnsafe(ref w, (nuint)(b * 32)).AsSByte(), w1 = Vector128.LoadUnsafe(ref w, (nuint)(b * 32 + 16)).AsSByte();
            Vector128<sbyte> a0 = Vector128.LoadUnsafe(ref qs).AsSByte(), a1 = Vector128.LoadUnsafe(ref qs, 16).AsSByte();
            Vector128<int> p = Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(Ssse3.Abs(w0), Ssse3.Sign(a0, w0)), ones)
                             + Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(Ssse3.Abs(w1), Ssse3.Sign(a1, w1)), ones);
            acc += Vector128.ConvertToSingle(p) * Vector128.Create(D(ref act, b));
        }
        return Vector128.Sum(acc) * scale;
    }

    /// <summary>Portable Vector128 path (Arm64 AdvSimd and any other accelerated Vector128): widen to 16 bits, multiply, widen-add.</summary>
    internal static float DotVector128(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (!Vector128.IsHardwareAccelerated) throw new PlatformNotSupportedException();
        float scale = Int8RowCodec.ReadScale(weightRow);
        ref byte w = ref Unsafe.Add(ref MemoryMarshal.GetReference(weightRow), Int8RowCodec.HeaderBytes);
        ref byte act = ref MemoryMarshal.GetReference(activation);
        var acc = Vector128<float>.Zero;
        for (int b = 0; b < n / 32; b++)
        {
            ref byte qs = ref Qs(ref act, b);
            Vector128<int> p = Vector128<int>.Zero;
            for (int h = 0; h < 32; h += 16)
            {
                Vector128<sbyte> wv = Vector128.LoadUnsafe(ref w, (nuint)(b * 32 + h)).AsSByte();
                Vector128<sbyte> av = Vector128.LoadUnsafe(ref qs, (nuint)h).AsSByte();
                Vector128<short> lo = Vector128.WidenLower(wv) * Vector128.WidenLower(av);
                Vector128<short> hi = Vector128.WidenUpper(wv) * Vector128.WidenUpper(av);
                p += Vector128.WidenLower(lo) + Vector128.WidenUpper(lo) + Vector128.WidenLower(hi) + Vector128.WidenUpper(hi);
            }
            acc += Vector128.ConvertToSingle(p) * Vector128.Create(D(ref act, b));
        }
        return Vector128.Sum(acc) * scale;
    }

    private void Check(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (n < 0 || n % 32 != 0) throw new ArgumentException($"{Name}: n = {n} is not a multiple of 32", nameof(n));
        if (weightRow.Length < WeightRowBytes(n)) throw new ArgumentException($"{Name}: weight row needs {WeightRowBytes(n)} bytes, got {weightRow.Length}", nameof(weightRow));
        if (activation.Length < ActivationRowBytes(n)) throw new ArgumentException($"{Name}: activation row needs {ActivationRowBytes(n)} bytes, got {activation.Length}", nameof(activation));
    }
}
