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
    /// y[r] for rows [r0, r1) and one token (panel at <paramref name="panel"/>): 4 rows at a time in one pass over the
    /// rows, the same arithmetic as every other path. Per group of 16 blocks the 4 rows' scale products d_w·d_a (exact in
    /// fp32, so forming them first changes no bit) are formed in registers: weight scales gathered from the packed rows
    /// with word permutes and widened, times the panel's scale row. The product loop then takes each block pair's two
    /// scales with one permute. Each pair step also prefetches its share of the next 4-row tile (the tile's rows are
    /// contiguous: TR.N·2 blocks per step), so the memory reads overlap the arithmetic: into L1 while a tile is at most
    /// <see cref="L1PrefetchTile"/> bytes, else into L2 (two long tiles would not fit L1 together). The loop makes no
    /// calls, so the accumulators stay in registers.
    /// </summary>
    private static void Gemv512<TW>(byte* w, long rowBytes, int r0, int r1, byte* panel, int nb, float* y) where TW : struct, IGemmWeight
    {
        if (4 * rowBytes <= L1PrefetchTile) Gemv512<TW, L1>(w, rowBytes, r0, r1, panel, nb, y);
        else Gemv512<TW, L2>(w, rowBytes, r0, r1, panel, nb, y);
    }

    /// <summary>Largest 4-row tile (bytes) whose successor is prefetched into L1 rather than L2.</summary>
    private const long L1PrefetchTile = 8192;

    private static void Gemv512<TW, TP>(byte* w, long rowBytes, int r0, int r1, byte* panel, int nb, float* y)
        where TW : struct, IGemmWeight where TP : struct, IPrefetch
    {
        float* da = (float*)(panel + ScaleRowOffset(nb));   // [nb rounded up to 16]: d_a of each block, then zeros
        float* table = stackalloc float[16];                 // [16] scales of a group that takes the table path
        int r = r0;
        for (; r + 4 <= r1; r += 4)
            GemvRows<TW, Tile4, TP>(w + r * rowBytes, rowBytes, panel, da, nb, y + r, table);
        switch (r1 - r)
        {
            case 3: GemvRows<TW, Tile3, TP>(w + r * rowBytes, rowBytes, panel, da, nb, y + r, table); break;
            case 2: GemvRows<TW, Tile2, TP>(w + r * rowBytes, rowBytes, panel, da, nb, y + r, table); break;
            case 1: GemvRows<TW, Tile1, TP>(w + r * rowBytes, rowBytes, panel, da, nb, y + r, table); break;
        }
    }

    /// <summary>A software prefetch hint (a hint never faults, so addresses past the matrix are harmless).</summary>
    private interface IPrefetch
    {
        static abstract void Fetch(byte* p);
    }

    private readonly struct L1 : IPrefetch
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Fetch(byte* p) => Sse.Prefetch0(p);
    }

    private readonly struct L2 : IPrefetch
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Fetch(byte* p) => Sse.Prefetch1(p);
    }

    /// <summary>TR.N rows at w (row stride <paramref name="rowBytes"/>) times the panel: y[0..TR.N).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GemvRows<TW, TR, TP>(byte* w, long rowBytes, byte* panel, float* da, int nb, float* y, float* table)
        where TW : struct, IGemmWeight where TR : struct, ITileCount where TP : struct, IPrefetch
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<short> ones = Vector512.Create((short)1);
        Vector512<ushort> shifts = Shifts512();
        byte* w0 = w, w1 = TR.N > 1 ? w + rowBytes : w, w2 = TR.N > 2 ? w + 2 * rowBytes : w, w3 = TR.N > 3 ? w + 3 * rowBytes : w;
        byte* next = w + 4 * rowBytes;   // the next 4-row tile
        int np = (nb + 1) >> 1, wideLoads = WideLoads<TW>(nb);
        for (int g = 0; g < nb; g += 16)
        {
            int left = nb - g;
            long go = (long)g * TW.Bytes;
            Vector512<float> dag = Vector512.Load(da + g);
            Vector512<float> s0 = GroupScales<TW>(w0 + go, left, table) * dag;
            Vector512<float> s1 = TR.N > 1 ? GroupScales<TW>(w1 + go, left, table) * dag : default;
            Vector512<float> s2 = TR.N > 2 ? GroupScales<TW>(w2 + go, left, table) * dag : default;
            Vector512<float> s3 = TR.N > 3 ? GroupScales<TW>(w3 + go, left, table) * dag : default;
            Vector512<int> idx = Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
            int je = Math.Min(np, (g >> 1) + 8);
            for (int j = g >> 1; j < je; j++, idx += Vector512.Create(2))
            {
                byte* pp = next + (long)j * (TR.N * 2 * TW.Bytes);
                for (int o = 0; o < TR.N * 2 * TW.Bytes; o += 64) TP.Fetch(pp + o);
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

    /// <summary>The weight scales d of the min(<paramref name="left"/>, 16) blocks at <paramref name="b"/> as floats, zeros
    /// past the count: exact (the same values as <see cref="Fp16Table"/>). A full group (or exactly 8 blocks) is gathered
    /// with two-source word permutes from loads that stay inside its blocks; another short group and a group holding an
    /// inf/NaN bit pattern go through the table, in place (no call), via <paramref name="table"/> (16 floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> GroupScales<TW>(byte* b, int left, float* table) where TW : struct, IGemmWeight
    {
        if (left >= 16 || left == 8)
        {
            Vector512<int> low8 = Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0);
            Vector512<int> h = left >= 16
                ? Vector512.ConditionalSelect(low8, Gather8<TW>(b, false), Gather8<TW>(b + 8 * TW.Bytes, true))
                : Gather8<TW>(b, false) & low8;
            if (!Vector512.EqualsAny(h & Vector512.Create(0x7C00), Vector512.Create(0x7C00))) return HalfToSingle(h);
        }
        for (int k = 0; k < 16; k++) table[k] = k < left ? Fp16Table.Load(b + (nint)k * TW.Bytes) : 0f;
        return Vector512.Load(table);
    }

    /// <summary>The codes of two weight blocks as <see cref="W512{TW}"/> lays them out, without the scales.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Codes512<TW>(byte* b, bool full, bool wide, Vector512<ushort> shifts, out Vector512<byte> c, out Vector512<sbyte> neg)
        where TW : struct, IGemmWeight
    {
        if (TW.Nibble && wide)
        {
            // the pair's nibble bytes in place (one byte permute), then each 128-bit lane's nibble: low nibbles in lanes
            // 0 and 2, high in 1 and 3; GFNI does the per-lane shift and mask in one affine bit transform
            Vector512<byte> v = Avx512Vbmi.PermuteVar64x8(Vector512.Load(b), PairNibbleIndex());
            c = Gfni.V512.IsSupported
                ? Gfni.V512.GaloisFieldAffineTransform(v, NibbleMatrices(), 0)
                : Avx512BW.ShiftRightLogicalVariable(v.AsUInt16(), shifts).AsByte() & Vector512.Create((byte)0x0F);
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

    /// <summary>GF(2) affine matrices (one per qword, row of output bit i in byte 7 − i) that take a byte's low nibble
    /// (128-bit lanes 0 and 2) or its high nibble shifted down (lanes 1 and 3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> NibbleMatrices() =>
        Vector512.Create(LowNibble, LowNibble, HighNibble, HighNibble, LowNibble, LowNibble, HighNibble, HighNibble).AsByte();

    private const ulong LowNibble = 0x0102040800000000UL;    // bit i (i < 4) from bit i
    private const ulong HighNibble = 0x1020408000000000UL;   // bit i (i < 4) from bit i + 4

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
}
