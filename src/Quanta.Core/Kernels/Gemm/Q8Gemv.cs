using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Gguf;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>The one-token (decode, m = 1) part of <see cref="Q8Gemm"/>: the same arithmetic as every other path.</summary>
internal static unsafe partial class Q8Gemm
{
    // ------------------------------------------------------------------ 512-bit, one token (decode)

    /// <summary>
    /// y[r] for rows [r0, r1) and one token (panel at <paramref name="panel"/>): 4 rows at a time, the same arithmetic
    /// as every other path. First the 4 rows' scale products d_w·d_a (exact in fp32 either way) are formed into a
    /// buffer, 16 blocks at a time: weight scales gathered from the packed rows and widened in registers, times the
    /// panel's scale row. Then the product loop (no calls, so its accumulators stay in registers) takes each block
    /// pair's two scales from them with one permute.
    /// </summary>
    private static void Gemv512<TW>(byte* w, long rowBytes, int r0, int r1, byte* panel, int nb, float* y) where TW : struct, IGemmWeight
    {
        int groups = (nb + 15) >> 4;
        if (groups > MaxGemvGroups)
        {
            // rows of more than 64K elements: the 4-row tiles below keep the same arithmetic
            for (int rr = r0; rr < r1; rr += 4)
                Tile512<TW, Raw>(Math.Min(4, r1 - rr), 1, w + rr * rowBytes, rowBytes, panel, 0, nb, y + rr, 0);
            return;
        }
        float* scales = stackalloc float[4 * 16 * groups];   // [4 rows][groups x 16] d_w·d_a
        float* da = (float*)(panel + ScaleRowOffset(nb));
        int r = r0;
        for (; r + 4 <= r1; r += 4)
        {
            ScaleProducts<TW>(w + r * rowBytes, rowBytes, 4, nb, da, scales);
            Gemv512<TW, Tile4>(w + r * rowBytes, rowBytes, panel, scales, nb, y + r);
        }
        if (r == r1) return;
        ScaleProducts<TW>(w + r * rowBytes, rowBytes, r1 - r, nb, da, scales);
        switch (r1 - r)
        {
            case 3: Gemv512<TW, Tile3>(w + r * rowBytes, rowBytes, panel, scales, nb, y + r); break;
            case 2: Gemv512<TW, Tile2>(w + r * rowBytes, rowBytes, panel, scales, nb, y + r); break;
            default: Gemv512<TW, Tile1>(w + r * rowBytes, rowBytes, panel, scales, nb, y + r); break;
        }
    }

    private const int MaxGemvGroups = 128;   // 2048 blocks: 32 KiB of scale products per 4 rows

    /// <summary>scales[k·16·groups + b] = d_w(row k, block b)·d_a(b) for k &lt; <paramref name="rows"/>, zeros past nb.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ScaleProducts<TW>(byte* w, long rowBytes, int rows, int nb, float* da, float* scales) where TW : struct, IGemmWeight
    {
        int stride = 16 * ((nb + 15) >> 4);
        for (int k = 0; k < rows; k++)
            for (int g = 0; g < nb; g += 16)
                (Scales16<TW>(w + k * rowBytes + (long)g * TW.Bytes, nb - g) * Vector512.Load(da + g)).Store(scales + k * stride + g);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Gemv512<TW, TR>(byte* w, long rowBytes, byte* panel, float* scales, int nb, float* y)
        where TW : struct, IGemmWeight where TR : struct, ITileCount
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<short> ones = Vector512.Create((short)1);
        Vector512<ushort> shifts = Shifts512();
        byte* w0 = w, w1 = TR.N > 1 ? w + rowBytes : w, w2 = TR.N > 2 ? w + 2 * rowBytes : w, w3 = TR.N > 3 ? w + 3 * rowBytes : w;
        int stride = 16 * ((nb + 15) >> 4);
        int np = (nb + 1) >> 1, wideLoads = WideLoads<TW>(nb);
        for (int g = 0; g < nb; g += 16)
        {
            Vector512<float> s0 = Vector512.Load(scales + g);
            Vector512<float> s1 = TR.N > 1 ? Vector512.Load(scales + stride + g) : default;
            Vector512<float> s2 = TR.N > 2 ? Vector512.Load(scales + 2 * stride + g) : default;
            Vector512<float> s3 = TR.N > 3 ? Vector512.Load(scales + 3 * stride + g) : default;
            Vector512<int> idx = Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
            int je = Math.Min(np, (g >> 1) + 8);
            for (int j = g >> 1; j < je; j++, idx += Vector512.Create(2))
            {
                byte* q = panel + (nint)j * PairBytes;
                Vector512<sbyte> a = Vector512.Load((sbyte*)q);
                Vector512<int> x = Vector512.Load((int*)(q + 128));
                bool full = 2 * j + 1 < nb, wide = j < wideLoads;
                long wo = 2L * j * TW.Bytes;
                Codes512<TW>(w0 + wo, full, wide, shifts, out Vector512<byte> c0, out Vector512<sbyte> n0);
                a0 = StepScaled512<TW>(c0, n0, Avx512F.PermuteVar16x32(s0, idx), a, x, ones, a0);
                if (TR.N > 1)
                {
                    Codes512<TW>(w1 + wo, full, wide, shifts, out Vector512<byte> c1, out Vector512<sbyte> n1);
                    a1 = StepScaled512<TW>(c1, n1, Avx512F.PermuteVar16x32(s1, idx), a, x, ones, a1);
                }
                if (TR.N > 2)
                {
                    Codes512<TW>(w2 + wo, full, wide, shifts, out Vector512<byte> c2, out Vector512<sbyte> n2);
                    a2 = StepScaled512<TW>(c2, n2, Avx512F.PermuteVar16x32(s2, idx), a, x, ones, a2);
                }
                if (TR.N > 3)
                {
                    Codes512<TW>(w3 + wo, full, wide, shifts, out Vector512<byte> c3, out Vector512<sbyte> n3);
                    a3 = StepScaled512<TW>(c3, n3, Avx512F.PermuteVar16x32(s3, idx), a, x, ones, a3);
                }
            }
        }
        y[0] = Reduce512(a0);
        if (TR.N > 1) y[1] = Reduce512(a1);
        if (TR.N > 2) y[2] = Reduce512(a2);
        if (TR.N > 3) y[3] = Reduce512(a3);
    }

    /// <summary>The codes of two weight blocks as <see cref="W512{TW}"/> lays them out, without the scales.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Codes512<TW>(byte* b, bool full, bool wide, Vector512<ushort> shifts, out Vector512<byte> c, out Vector512<sbyte> neg)
        where TW : struct, IGemmWeight
    {
        if (TW.Nibble && wide)
        {
            c = Avx512BW.ShiftRightLogicalVariable(Avx512Vbmi.PermuteVar64x8(Vector512.Load(b), PairNibbleIndex()).AsUInt16(), shifts).AsByte()
                & Vector512.Create((byte)0x0F);
            neg = default;
        }
        else if (TW.Nibble)
        {
            Vector128<byte> v0 = Vector128.Load(b + 2), v1 = full ? Vector128.Load(b + TW.Bytes + 2) : default;
            Vector512<uint> x = Avx512F.InsertVector128(v0.ToVector256Unsafe().ToVector512Unsafe().AsUInt32(), v1.AsUInt32(), 1);
            x = Avx512F.Shuffle4x128(x, x, 0x50);
            c = Avx512BW.ShiftRightLogicalVariable(x.AsUInt16(), shifts).AsByte() & Vector512.Create((byte)0x0F);
            neg = default;
        }
        else
        {
            Vector256<sbyte> v0 = Vector256.Load((sbyte*)(b + 2)), v1 = full ? Vector256.Load((sbyte*)(b + TW.Bytes + 2)) : default;
            Vector512<sbyte> v = Avx512F.InsertVector256(v0.ToVector512Unsafe(), v1, 1);
            c = Avx512BW.Abs(v);
            neg = Vector512.LessThan(v, Vector512<sbyte>.Zero);
        }
    }

    /// <summary><see cref="Step512{TW}"/> with the scale product d_w·d_a already formed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> StepScaled512<TW>(Vector512<byte> c, Vector512<sbyte> neg, Vector512<float> s, Vector512<sbyte> a,
        Vector512<int> x, Vector512<short> ones, Vector512<float> acc) where TW : struct, IGemmWeight
    {
        Vector512<int> p32 = TW.Nibble
            ? Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c, a), ones) + x
            : Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c, Vector512.ConditionalSelect(neg, x.AsSByte(), a)), ones);
        return Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(p32), s, acc);
    }

    /// <summary>The weight scales d of the <paramref name="left"/> (at most 16 used) blocks at <paramref name="b"/> as
    /// floats, zeros past the count: exact (the same values as <see cref="Fp16Table"/>). Full groups of 8 are gathered
    /// with two-source word permutes from loads that stay inside those 8 blocks; a short group and a group holding an
    /// inf/NaN bit pattern go through the table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scales16<TW>(byte* b, int left) where TW : struct, IGemmWeight
    {
        if (left < 8) return ScalesShort<TW>(b, 0, left);
        Vector512<int> low8 = Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0);
        Vector512<int> h = left >= 16
            ? Vector512.ConditionalSelect(low8, Gather8<TW>(b, false), Gather8<TW>(b + 8 * TW.Bytes, true))
            : Gather8<TW>(b, false) & low8;
        if (Vector512.EqualsAny(h & Vector512.Create(0x7C00), Vector512.Create(0x7C00))) return ScalesShort<TW>(b, 0, Math.Min(left, 16));
        Vector512<float> f = HalfToSingle(h);
        // 9..15 blocks: the ones past the first 8 from the table
        return left is > 8 and < 16 ? Vector512.ConditionalSelect(low8.AsSingle(), f, ScalesShort<TW>(b, 8, left - 8)) : f;
    }

    /// <summary>The scale words (fp16 bits) of 8 blocks at <paramref name="b"/> in the low halves of int32 lanes 0..7
    /// (<paramref name="high"/> false) or 8..15; the other lanes and the high halves hold other bytes of the blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Gather8<TW>(byte* b, bool high) where TW : struct, IGemmWeight
    {
        if (TW.Nibble)
        {
            // Q4_0: 18-byte blocks, scale k at word 9k (k = 0..7): words 0..63 = bytes 0..127 of the 144
            Vector512<short> i = high
                ? Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 18, 0, 27, 0, 36, 0, 45, 0, 54, 0, 63, 0)
                : Vector512.Create(0, 0, 9, 0, 18, 0, 27, 0, 36, 0, 45, 0, 54, 0, 63, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            return Avx512BW.PermuteVar32x16x2(Vector512.Load((short*)b), i, Vector512.Load((short*)(b + 64))).AsInt32();
        }
        // Q8_0: 34-byte blocks, scale k at word 17k: k = 0..3 from bytes 0..127, k = 4..7 from bytes 128..255 of the 272
        Vector512<short> lo = high
            ? Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 34, 0, 51, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            : Vector512.Create(0, 0, 17, 0, 34, 0, 51, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        Vector512<short> hi = high
            ? Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 21, 0, 38, 0, 55, 0)
            : Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 21, 0, 38, 0, 55, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        Vector512<int> first = Avx512BW.PermuteVar32x16x2(Vector512.Load((short*)b), lo, Vector512.Load((short*)(b + 64))).AsInt32();
        Vector512<int> second = Avx512BW.PermuteVar32x16x2(Vector512.Load((short*)(b + 128)), hi, Vector512.Load((short*)(b + 192))).AsInt32();
        Vector512<int> firstLanes = high
            ? Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, 0, 0, 0, 0)
            : Vector512.Create(-1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        return Vector512.ConditionalSelect(firstLanes, first, second);
    }

    /// <summary>fp16 bits in the low half of each int32 lane to fp32, exact for zeros, subnormals and normals (inf/NaN
    /// patterns are routed to the table by the caller): the bits moved into place with the sign, times 2^112.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> HalfToSingle(Vector512<int> h) =>
        (((h << 16) >> 3) & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector512.Create(0x77800000u).AsSingle();

    /// <summary>Table path of <see cref="Scales16{TW}"/>: lanes [<paramref name="first"/>, first + <paramref name="count"/>)
    /// hold the scales of those blocks, the others zero.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector512<float> ScalesShort<TW>(byte* b, int first, int count) where TW : struct, IGemmWeight
    {
        float* s = stackalloc float[16];
        for (int k = 0; k < 16; k++) s[k] = k >= first && k < first + count ? Fp16Table.Load(b + (nint)k * TW.Bytes) : 0f;
        return Vector512.Load(s);
    }
}
