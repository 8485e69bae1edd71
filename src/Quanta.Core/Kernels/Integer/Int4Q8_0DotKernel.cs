using System.Numerics;
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
/// "i4g32*q8_0", "i4g64*q8_0", "i4g128*q8_0": INT4 group weight rows (<see cref="Int4Group"/> layout:
/// per group <c>[Half s][Half m][G/2 bytes, low nibble first]</c>, <c>w = s*q + m</c>) times Q8_0 activations
/// (<see cref="Q8_0Activation"/>).
/// <para>Math: for Q8_0 block b (32 elements, inside group g since G is a multiple of 32),
/// <c>isumq_b = sum q[k]*qs[k]</c> and <c>isuma_b = sum qs[k]</c> are exact int32; then
/// <c>dot = sum_g ( s_g * sum_{b in g} d_b*isumq_b + m_g * sum_{b in g} d_b*isuma_b )</c>.
/// <see cref="DotReference"/> evaluates exactly that in F32 in block order; the SIMD paths (x86: vpmaddubsw of the
/// unsigned codes by the signed activations, and of ones by the activations for isuma, then vpmaddwd with ones,
/// on AVX-512BW / AVX2 / SSSE3; others: portable Vector128 widening multiplies) fold <c>d_b*s_g</c> and
/// <c>d_b*m_g</c> per block instead and sum in lane order, so they differ from the reference only by F32 rounding:
/// <c>|Dot - DotReference| &lt;= 2^-20 * nb * sum_b (|s_g d_b isumq_b| + |m_g d_b isuma_b|)</c>, nb = n/32.</para>
/// </summary>
public sealed class Int4Q8_0DotKernel : IVecDotKernel
{
    /// <summary>Kernel for <see cref="WeightFormat.Int4G32"/>.</summary>
    public static Int4Q8_0DotKernel G32 { get; } = new(32);
    /// <summary>Kernel for <see cref="WeightFormat.Int4G64"/>.</summary>
    public static Int4Q8_0DotKernel G64 { get; } = new(64);
    /// <summary>Kernel for <see cref="WeightFormat.Int4G128"/>.</summary>
    public static Int4Q8_0DotKernel G128 { get; } = new(128);

    /// <summary>The kernel for an INT4 weight format.</summary>
    public static Int4Q8_0DotKernel For(WeightFormat format) => Int4Group.GroupSizeOf(format) switch { 32 => G32, 64 => G64, _ => G128 };

    private readonly int _groupBytes;

    private Int4Q8_0DotKernel(int groupSize)
    {
        GroupSize = groupSize;
        _groupBytes = Int4Group.GroupBytes(groupSize);
        Format = Int4Group.FormatOf(groupSize);
        Name = "i4g" + groupSize.ToString(System.Globalization.CultureInfo.InvariantCulture) + "*q8_0";
    }

    /// <summary>Elements per weight group.</summary>
    public int GroupSize { get; }

    /// <inheritdoc />
    public WeightFormat Format { get; }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int BlockSize => GroupSize;

    /// <inheritdoc />
    public long WeightRowBytes(int n) => Int4Group.RowBytes(n, GroupSize);

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
            KernelPaths.Record(Name, SimdPath.V512);
            return DotAvx512(weightRow, activation, n);
        }
        if (Avx2.IsSupported && Vector256.IsHardwareAccelerated)
        {
            KernelPaths.Record(Name, SimdPath.V256);
            return DotAvx2(weightRow, activation, n);
        }
        if (Ssse3.IsSupported && Vector128.IsHardwareAccelerated)
        {
            KernelPaths.Record(Name, SimdPath.V128);
            return DotSsse3(weightRow, activation, n);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            KernelPaths.Record(Name, SimdPath.V128);
            return DotVector128(weightRow, activation, n);
        }
        KernelPaths.Record(Name, SimdPath.Scalar);
        return DotScalar(weightRow, activation, n);
    }

    /// <inheritdoc />
    public float DotReference(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        Check(weightRow, activation, n);
        return DotScalar(weightRow, activation, n);
    }

    private float DotScalar(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        int g = GroupSize, gb = _groupBytes;
        float sum = 0f;
        for (int grp = 0; grp < n / g; grp++)
        {
            ReadOnlySpan<byte> wg = weightRow.Slice(grp * gb, gb);
            float s = (float)Unsafe.ReadUnaligned<Half>(ref MemoryMarshal.GetReference(wg));
            float m = (float)Unsafe.ReadUnaligned<Half>(ref Unsafe.AsRef(in wg[2]));
            float sq = 0f, sa = 0f;
            for (int bl = 0; bl < g / 32; bl++)
            {
                int b = grp * (g / 32) + bl;
                ReadOnlySpan<byte> ab = activation.Slice(b * Q8_0Activation.BlockBytes, Q8_0Activation.BlockBytes);
                float d = (float)Unsafe.ReadUnaligned<Half>(ref MemoryMarshal.GetReference(ab));
                int isumq = 0, isuma = 0;
                for (int j = 0; j < 16; j++)
                {
                    int v = wg[4 + bl * 16 + j];
                    int a0 = (sbyte)ab[2 + 2 * j], a1 = (sbyte)ab[3 + 2 * j];
                    isumq += (v & 0xF) * a0 + (v >> 4) * a1;
                    isuma += a0 + a1;
                }
                sq += d * isumq;
                sa += d * isuma;
            }
            sum += s * sq + m * sa;
        }
        return sum;
    }

    /// <summary>Byte offset of block b's group header, and of its 16 packed bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Locate(int b, out int header, out int packed)
    {
        int perGroup = GroupSize / 32;
        int grp = b / perGroup;
        header = grp * _groupBytes;
        packed = header + 4 + (b - grp * perGroup) * 16;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe float ReadHalf(ref byte p, int offset) => Fp16Table.ToSingle(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref p, offset)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref byte Qs(ref byte act, int b) => ref Unsafe.Add(ref act, b * Q8_0Activation.BlockBytes + 2);

    /// <summary>AVX-512BW path: two Q8_0 blocks per 512-bit step.</summary>
    internal unsafe float DotAvx512(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (!Avx512BW.IsSupported) throw new PlatformNotSupportedException();
        // block b (32 codes) lives in group b >> shift at packed offset 4 + (b & blockMask) * 16: group sizes are powers
        // of two, so no integer division in the loop
        int perGroup = GroupSize / 32, shift = BitOperations.Log2((uint)perGroup), blockMask = perGroup - 1, gb = _groupBytes;
        int nb = n / 32, b = 0;
        var accQ = Vector512<float>.Zero;
        var accA = Vector512<float>.Zero;
        var ones16 = Vector512.Create((short)1);
        var ones8 = Vector512.Create((byte)1);
        var m0 = Vector512.Create((ushort)0x000F);
        var m1 = Vector512.Create((ushort)0x0F00);
        float sum = 0f;
        fixed (byte* w = weightRow)
        fixed (byte* act = activation)
        {
            for (; b + 2 <= nb; b += 2)
            {
                byte* h0 = w + (nint)(b >> shift) * gb, h1 = w + (nint)((b + 1) >> shift) * gb;
                byte* p0 = h0 + 4 + (b & blockMask) * 16, p1 = h1 + 4 + ((b + 1) & blockMask) * 16;
                byte* a0 = act + (nint)b * Q8_0Activation.BlockBytes, a1 = a0 + Q8_0Activation.BlockBytes;
                // 2 x 16 packed bytes -> 64 codes in element order (see Int4Nibbles)
                Vector512<ushort> v = Avx512BW.ConvertToVector512UInt16(Vector256.Create(Vector128.Load(p0), Vector128.Load(p1)));
                Vector512<byte> codes = ((v & m0) | ((v << 4) & m1)).AsByte();
                Vector512<sbyte> av = Avx512F.InsertVector256(Vector256.Load((sbyte*)(a0 + 2)).ToVector512Unsafe(), Vector256.Load((sbyte*)(a1 + 2)), 1);
                Vector512<int> pq = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(codes, av), ones16);
                Vector512<int> pa = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(ones8, av), ones16);
                float d0 = Fp16Table.Load(a0), d1 = Fp16Table.Load(a1);
                var ds = Avx512F.InsertVector256(Vector256.Create(d0 * Fp16Table.Load(h0)).ToVector512Unsafe(), Vector256.Create(d1 * Fp16Table.Load(h1)), 1);
                var dm = Avx512F.InsertVector256(Vector256.Create(d0 * Fp16Table.Load(h0 + 2)).ToVector512Unsafe(), Vector256.Create(d1 * Fp16Table.Load(h1 + 2)), 1);
                accQ = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(pq), ds, accQ);
                accA = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(pa), dm, accA);
            }
            sum = Vector512.Sum(accQ + accA);
            if (b < nb)
            {
                byte* h = w + (nint)(b >> shift) * gb;
                byte* p = h + 4 + (b & blockMask) * 16;
                byte* ab = act + (nint)b * Q8_0Activation.BlockBytes;
                Vector256<byte> codes = Int4Nibbles.Expand16(Vector128.Load(p));
                BlockAvx2(codes, Vector256.Load((sbyte*)(ab + 2)), out Vector256<int> pq, out Vector256<int> pa);
                float d = Fp16Table.Load(ab);
                sum += d * Fp16Table.Load(h) * Vector256.Sum(pq) + d * Fp16Table.Load(h + 2) * Vector256.Sum(pa);
            }
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BlockAvx2(Vector256<byte> codes, Vector256<sbyte> av, out Vector256<int> pq, out Vector256<int> pa)
    {
        var ones16 = Vector256.Create((short)1);
        pq = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(codes, av), ones16);
        pa = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.Create((byte)1), av), ones16);
    }

    /// <summary>AVX2 path: one Q8_0 block per 256-bit step.</summary>
    internal unsafe float DotAvx2(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (!Avx2.IsSupported) throw new PlatformNotSupportedException();
        int perGroup = GroupSize / 32, shift = BitOperations.Log2((uint)perGroup), blockMask = perGroup - 1, gb = _groupBytes;
        var accQ = Vector256<float>.Zero;
        var accA = Vector256<float>.Zero;
        fixed (byte* w = weightRow)
        fixed (byte* act = activation)
        {
            for (int b = 0; b < n / 32; b++)
            {
                byte* h = w + (nint)(b >> shift) * gb;
                byte* p = h + 4 + (b & blockMask) * 16;
                byte* ab = act + (nint)b * Q8_0Activation.BlockBytes;
                Vector256<byte> codes = Int4Nibbles.Expand16(Vector128.Load(p));
                BlockAvx2(codes, Vector256.Load((sbyte*)(ab + 2)), out Vector256<int> pq, out Vector256<int> pa);
                float d = Fp16Table.Load(ab);
                accQ = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(pq), Vector256.Create(d * Fp16Table.Load(h)), accQ);
                accA = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(pa), Vector256.Create(d * Fp16Table.Load(h + 2)), accA);
            }
        }
        return Vector256.Sum(accQ + accA);
    }

    /// <summary>SSSE3 path: one Q8_0 block as two 128-bit halves.</summary>
    internal float DotSsse3(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (!Ssse3.IsSupported) throw new PlatformNotSupportedException();
        ref byte w = ref MemoryMarshal.GetReference(weightRow);
        ref byte act = ref MemoryMarshal.GetReference(activation);
        var acc = Vector128<float>.Zero;
        var ones16 = Vector128.Create((short)1);
        var ones8 = Vector128.Create((byte)1);
        for (int b = 0; b < n / 32; b++)
        {
            Locate(b, out int h, out int p);
            Vector256<byte> codes = Int4Nibbles.Expand16(Vector128.LoadUnsafe(ref w, (nuint)p));
            ref byte qs = ref Qs(ref act, b);
            Vector128<sbyte> a0 = Vector128.LoadUnsafe(ref qs).AsSByte(), a1 = Vector128.LoadUnsafe(ref qs, 16).AsSByte();
            Vector128<int> pq = Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(codes.GetLower(), a0) + Ssse3.MultiplyAddAdjacent(codes.GetUpper(), a1), ones16);
            Vector128<int> pa = Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(ones8, a0) + Ssse3.MultiplyAddAdjacent(ones8, a1), ones16);
            float d = ReadHalf(ref act, b * Q8_0Activation.BlockBytes);
            acc += Vector128.ConvertToSingle(pq) * Vector128.Create(d * ReadHalf(ref w, h))
                 + Vector128.ConvertToSingle(pa) * Vector128.Create(d * ReadHalf(ref w, h + 2));
        }
        return Vector128.Sum(acc);
    }

    /// <summary>Portable Vector128 path (Arm64 AdvSimd and any other accelerated Vector128): widen to 16 bits, multiply, widen-add.</summary>
    internal float DotVector128(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (!Vector128.IsHardwareAccelerated) throw new PlatformNotSupportedException();
        ref byte w = ref MemoryMarshal.GetReference(weightRow);
        ref byte act = ref MemoryMarshal.GetReference(activation);
        var acc = Vector128<float>.Zero;
        for (int b = 0; b < n / 32; b++)
        {
            Locate(b, out int h, out int p);
            Vector256<byte> codes = Int4Nibbles.Expand16(Vector128.LoadUnsafe(ref w, (nuint)p));
            ref byte qs = ref Qs(ref act, b);
            Vector128<short> pq16 = Vector128<short>.Zero, pa16 = Vector128<short>.Zero;
            for (int half = 0; half < 2; half++)
            {
                Vector128<short> c = half == 0 ? Vector128.WidenLower(codes.GetLower()).AsInt16() : Vector128.WidenLower(codes.GetUpper()).AsInt16();
                Vector128<short> c2 = half == 0 ? Vector128.WidenUpper(codes.GetLower()).AsInt16() : Vector128.WidenUpper(codes.GetUpper()).AsInt16();
                Vector128<sbyte> av = Vector128.LoadUnsafe(ref qs, (nuint)(16 * half)).AsSByte();
                Vector128<short> al = Vector128.WidenLower(av), ah = Vector128.WidenUpper(av);
                // |sum| per 16-bit lane <= 2 * 15 * 128 and 4 * 128: no overflow
                pq16 += c * al + c2 * ah;
                pa16 += al + ah;
            }
            Vector128<int> pq = Vector128.WidenLower(pq16) + Vector128.WidenUpper(pq16);
            Vector128<int> pa = Vector128.WidenLower(pa16) + Vector128.WidenUpper(pa16);
            float d = ReadHalf(ref act, b * Q8_0Activation.BlockBytes);
            acc += Vector128.ConvertToSingle(pq) * Vector128.Create(d * ReadHalf(ref w, h))
                 + Vector128.ConvertToSingle(pa) * Vector128.Create(d * ReadHalf(ref w, h + 2));
        }
        return Vector128.Sum(acc);
    }

    private void Check(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        if (n < 0 || n % GroupSize != 0) throw new ArgumentException($"{Name}: n = {n} is not a multiple of {GroupSize}", nameof(n));
        if (weightRow.Length < WeightRowBytes(n)) throw new ArgumentException($"{Name}: weight row needs {WeightRowBytes(n)} bytes, got {weightRow.Length}", nameof(weightRow));
        if (activation.Length < ActivationRowBytes(n)) throw new ArgumentException($"{Name}: activation row needs {ActivationRowBytes(n)} bytes, got {activation.Length}", nameof(activation));
    }
}
