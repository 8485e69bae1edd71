using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Body shared by the legacy dot kernels (q4_0*q8_0, q4_1*q8_1, q5_0*q8_0, q5_1*q8_1, q8_0*q8_0), specialized
/// per weight block type by the JIT. Per 32-element block: exact int32 sum of code_w * code_a, then
/// sum += sumi * (d_w * d_a) in float (plus m_w * s_a for the offset formats, whose activations are Q8_1).
/// Weight bytes are streamed once. The 512-bit path of the 4/5-bit formats takes 16 blocks per iteration (exact per-block
/// int32 sums against the activation's nibble-order codes, one FMA with 16 block scales); Q8_0 weights take 4 blocks
/// (sign trick); the 256/128-bit paths take 2 blocks per iteration into two independent float accumulators.
/// Nothing is allocated.
/// Activation row: <see cref="LegacyActivationLayout"/> (ggml blocks, Q8_0 = d(fp16) qs[32] (34 bytes), Q8_1 = d(fp16)
/// s(fp16) qs[32] (36 bytes), then per-block arrays); every path but the 512-bit one reads only the ggml blocks.
/// </summary>
internal static unsafe class LegacyDot<TW> where TW : struct, ILegacyWeightBlock
{
    // Activation block bytes and code offset are written inline as (TW.HasMin ? 36 : 34) and (TW.HasMin ? 4 : 2):
    // the JIT folds them per TW, whereas private properties holding them were not inlined.

    /// <summary>Dispatches Vector512 -> Vector256 -> Vector128 -> scalar and records the path taken.</summary>
    public static float Dot(byte* w, byte* a, int nb, string name)
    {
        if (Vector512.IsHardwareAccelerated && Avx512BW.IsSupported)
        {
            KernelPaths.Record(name, SimdPath.V512);
            return Dot512(w, a, nb);
        }
        if (Vector256.IsHardwareAccelerated && Avx2.IsSupported)
        {
            KernelPaths.Record(name, SimdPath.V256);
            return Dot256(w, a, nb);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            KernelPaths.Record(name, SimdPath.V128);
            return Ssse3.IsSupported ? Dot128Ssse3(w, a, nb) : Dot128Portable(w, a, nb);
        }
        KernelPaths.Record(name, SimdPath.Scalar);
        return DotScalar(w, a, nb);
    }

    /// <summary>Runs one named path (tests use this to cover every path on one machine).</summary>
    internal static float DotPath(byte* w, byte* a, int nb, SimdPath path, bool portable128) => path switch
    {
        SimdPath.V512 => Dot512(w, a, nb),
        SimdPath.V256 => Dot256(w, a, nb),
        SimdPath.V128 => portable128 ? Dot128Portable(w, a, nb) : Dot128Ssse3(w, a, nb),
        _ => DotScalar(w, a, nb),
    };

    /// <summary>Integer dot product of one block (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BlockSumScalar(byte* wb, byte* ab)
    {
        sbyte* y = (sbyte*)(ab + (TW.HasMin ? 4 : 2));
        int sumi = 0;
        for (int j = 0; j < 32; j++) sumi += TW.Code(wb, j) * y[j];
        return sumi;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ActS(byte* ab) => TW.HasMin ? LegacyBits.Half(ab + 2) : 0f;

    /// <summary>
    /// Scalar reference: the same arithmetic, in the same order and with the same fused multiply-adds, as
    /// ggml's compiled scalar kernel (ggml_vec_dot_*_generic) on x86-64 with FMA, so it is bit-identical to it.
    /// </summary>
    public static float Reference(byte* w, byte* a, int nb)
    {
        int wbStride = TW.Bytes, abStride = (TW.HasMin ? 36 : 34);
        float sum = 0f;
        for (int ib = 0; ib < nb; ib++)
        {
            byte* wb = w + (nint)ib * wbStride;
            byte* ab = a + (nint)ib * abStride;
            int sumi = BlockSumScalar(wb, ab);
            sum = TW.Accumulate(sum, sumi, TW.Scale(wb), LegacyBits.Half(ab), TW.Min(wb), ActS(ab));
        }
        return sum;
    }

    /// <summary>Scalar fallback for machines without SIMD: plain multiply and add, no fused operations.</summary>
    private static float DotScalar(byte* w, byte* a, int nb)
    {
        int wbStride = TW.Bytes, abStride = (TW.HasMin ? 36 : 34);
        float sum0 = 0f, sum1 = 0f, summs = 0f;
        int ib = 0;
        for (; ib + 2 <= nb; ib += 2)
        {
            byte* wb = w + (nint)ib * wbStride;
            byte* ab = a + (nint)ib * abStride;
            sum0 += BlockSumScalar(wb, ab) * (TW.Scale(wb) * LegacyBits.Half(ab));
            sum1 += BlockSumScalar(wb + wbStride, ab + abStride) * (TW.Scale(wb + wbStride) * LegacyBits.Half(ab + abStride));
            if (TW.HasMin) summs += TW.Min(wb) * ActS(ab) + TW.Min(wb + wbStride) * ActS(ab + abStride);
        }
        for (; ib < nb; ib++)
        {
            byte* wb = w + (nint)ib * wbStride;
            byte* ab = a + (nint)ib * abStride;
            sum0 += BlockSumScalar(wb, ab) * (TW.Scale(wb) * LegacyBits.Half(ab));
            if (TW.HasMin) summs += TW.Min(wb) * ActS(ab);
        }
        return sum0 + sum1 + summs;
    }

    // ---------------------------------------------------------------- 512-bit (AVX-512 BW)

    /// <summary>Two 256-bit halves into one 512-bit vector (vinserti64x4 on a fresh register: no dependency on an
    /// older value of the destination, which Vector512.Create(lo, hi) produced here).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Join(Vector256<sbyte> lo, Vector256<sbyte> hi) =>
        Avx512F.InsertVector256(lo.ToVector512Unsafe(), hi, 1);

    /// <summary>4 blocks: unsigned codes (<see cref="ILegacyWeightBlock.Quad512"/>, nibble order) x the activation's
    /// nibble-order codes at <paramref name="codes"/> [128] -> 128-bit lane k = 4 int32 partial sums of block k (exact:
    /// each vpmaddubsw pair stays within 2 * 31 * 128, so the two halves add without saturation).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> QuadSums512(byte* wb, byte* codes)
    {
        TW.Quad512(wb, out Vector512<byte> lo, out Vector512<byte> hi);
        Vector512<short> p16 = Avx512BW.MultiplyAddAdjacent(lo, Vector512.Load((sbyte*)codes))
                             + Avx512BW.MultiplyAddAdjacent(hi, Vector512.Load((sbyte*)(codes + 64)));
        return Avx512BW.MultiplyAddAdjacent(p16, Vector512.Create((short)1));
    }

    /// <summary>Level 2: blocks 0..3 and 4..7 (4 lanes each) -> lane k holds [k, k, 4+k, 4+k] (2 partial sums each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Fold2(Vector512<int> a, Vector512<int> b) =>
        Avx512F.UnpackLow(a.AsInt64(), b.AsInt64()).AsInt32() + Avx512F.UnpackHigh(a.AsInt64(), b.AsInt64()).AsInt32();

    /// <summary>Level 3: -> lane 4k + m = block k + 4m, complete sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Fold1(Vector512<int> a, Vector512<int> b) =>
        Avx512F.Shuffle(a.AsSingle(), b.AsSingle(), 0x88).AsInt32() + Avx512F.Shuffle(a.AsSingle(), b.AsSingle(), 0xDD).AsInt32();

    /// <summary>The 16-bit words at <paramref name="offset"/> in 16 consecutive blocks, zero-extended to int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Halves16(byte* wb, int offset)
    {
        int st = TW.Bytes;
        byte* p = wb + offset;
        ulong q0 = Q4(p, st), q1 = Q4(p + 4 * st, st), q2 = Q4(p + 8 * st, st), q3 = Q4(p + 12 * st, st);
        return Avx512F.ConvertToVector512Int32(Vector256.Create(q0, q1, q2, q3).AsUInt16()).AsInt32();
    }

    /// <summary>The 32-bit words at the start of 16 consecutive blocks, one per int32 lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Words16(byte* wb)
    {
        int st = TW.Bytes;
        return Vector512.Create(D2(wb, st), D2(wb + 2 * st, st), D2(wb + 4 * st, st), D2(wb + 6 * st, st),
                                D2(wb + 8 * st, st), D2(wb + 10 * st, st), D2(wb + 12 * st, st), D2(wb + 14 * st, st)).AsInt32();
    }

    /// <summary>The dwords at p and p + stride packed into one qword.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong D2(byte* p, int stride) => *(uint*)p | ((ulong)*(uint*)(p + stride) << 32);

    /// <summary>The words at p + k * stride, k = 0..3, packed into one qword (word k in bits 16k..16k+15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Q4(byte* p, int stride) =>
        *(ushort*)p | ((ulong)*(ushort*)(p + stride) << 16) | ((ulong)*(ushort*)(p + 2 * stride) << 32) | ((ulong)*(ushort*)(p + 3 * stride) << 48);

    /// <summary>F16 bits in the low (<paramref name="high"/> false) or high half of each int32 lane to F32, exact for
    /// zeros, subnormals and normals (callers route inf/NaN elsewhere): bits moved to F32 position, times 2^112.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> HalfToSingle(Vector512<int> v, bool high) =>
        (((high ? v : v << 16) >> 3) & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector512.Create(0x77800000u).AsSingle();

    /// <summary>
    /// 16 blocks per iteration: codes built in registers 4 blocks at a time, exact int32 sums per block (products
    /// reduced to one lane per block by a shuffle tree, the code offset removed with the activation's code sums),
    /// one conversion and one FMA against the 16 block scales d_w * d_a (weight scales gathered and widened in
    /// registers, activation scales read as floats from the activation row). Rows shorter than 16 blocks, the tail,
    /// and groups holding an inf/NaN weight scale go block by block through <see cref="Step256"/>.
    /// </summary>
    private static float Dot512(byte* w, byte* a, int nb) => TW.SignedQuad ? Dot512Signed(w, a, nb) : Dot512Nibble(w, a, nb);

    // NoInlining: compiled as its own method, so the hot loop keeps its registers whatever the caller's profile
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Dot512Nibble(byte* w, byte* a, int nb)
    {
        int wbStride = TW.Bytes, abStride = (TW.HasMin ? 36 : 34);
        float* ad = (float*)(a + LegacyActivationLayout.ScalesOffset(nb, abStride));   // [nb] activation d
        float* ax = ad + nb;                                                           // [nb] Q8_1 s (float) or Q8_0 code sum (int32)
        byte* codes = a + LegacyActivationLayout.CodesOffset(nb, abStride);            // [nb * 32] nibble-order codes
        Vector512<int> toNatural = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        Vector512<int> special = Vector512.Create(0x7C00);
        Vector512<float> acc = Vector512<float>.Zero, accM = Vector512<float>.Zero;
        Vector256<float> accTail = Vector256<float>.Zero;
        float summs = 0f;
        byte* wb = w, ab = a;
        int ib = 0;
        for (; ib + 16 <= nb; ib += 16, wb += 16 * wbStride, ab += 16 * abStride)
        {
            // d (and m) of the 16 weight blocks, F16 bits zero-extended to int32 lanes (scalar loads packed into
            // qwords: cheaper here than vpgatherdd)
            // (offset formats: one dword per block, d in the low half, m in the high half)
            Vector512<int> dw = TW.HasMin ? Words16(wb) : Halves16(wb, 0);
            if (Vector512.EqualsAny(dw & special, special) || (TW.HasMin && Vector512.EqualsAny(dw & (special << 16), special << 16)))
            {
                for (int k = 0; k < 16; k++)
                {
                    accTail = Step256(wb + k * wbStride, ab + k * abStride, accTail);
                    if (TW.HasMin) summs += TW.Min(wb + k * wbStride) * ActS(ab + k * abStride);
                }
                continue;
            }
            byte* cb = codes + 32 * (nint)ib;
            Vector512<int> q0 = QuadSums512(wb, cb), q1 = QuadSums512(wb + 4 * wbStride, cb + 128);
            Vector512<int> q2 = QuadSums512(wb + 8 * wbStride, cb + 256), q3 = QuadSums512(wb + 12 * wbStride, cb + 384);
            Vector512<int> sums = Avx512F.PermuteVar16x32(Fold1(Fold2(q0, q1), Fold2(q2, q3)), toNatural);
            if (TW.CodeOffset != 0)
            {
                // offset 8 or 16 times the activation code sums, by shift
                Vector512<int> asum = Vector512.Load((int*)ax + ib);
                sums -= TW.CodeOffset == 8 ? asum << 3 : asum << 4;
            }
            Vector512<float> scale = HalfToSingle(dw, false) * Vector512.Load(ad + ib);
            acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sums), scale, acc);
            if (TW.HasMin) accM = Avx512F.FusedMultiplyAdd(HalfToSingle(dw, true), Vector512.Load(ax + ib), accM);
        }
        for (; ib < nb; ib++, wb += wbStride, ab += abStride)
        {
            accTail = Step256(wb, ab, accTail);
            if (TW.HasMin) summs += TW.Min(wb) * ActS(ab);
        }
        return Vector512.Sum(acc + accM) + Vector256.Sum(accTail) + summs;
    }

    /// <summary>Two blocks: 64 codes x 64 activations -> 16 int32 lane sums (8 per block), as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pair512(byte* wb, byte* ab)
    {
        int wbStride = TW.Bytes, abStride = (TW.HasMin ? 36 : 34), qo = (TW.HasMin ? 4 : 2);
        Vector512<sbyte> x = Join(TW.Codes256(wb), TW.Codes256(wb + wbStride));
        Vector512<sbyte> y = Join(Vector256.Load((sbyte*)(ab + qo)), Vector256.Load((sbyte*)(ab + abStride + qo)));
        Vector512<short> p16;
        if (TW.HasMin)
        {
            // codes are unsigned (0..31): vpmaddubsw directly
            p16 = Avx512BW.MultiplyAddAdjacent(x.AsByte(), y);
        }
        else
        {
            // sign trick: |x| (unsigned) times y carrying x's sign; no vpsignb at 512 bits, so a masked negate
            Vector512<byte> ax = Avx512BW.Abs(x);
            Vector512<sbyte> sy = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<sbyte>.Zero), Vector512<sbyte>.Zero - y, y);
            p16 = Avx512BW.MultiplyAddAdjacent(ax, sy);
        }
        Vector512<int> p32 = Avx512BW.MultiplyAddAdjacent(p16, Vector512.Create((short)1));
        return Avx512F.ConvertToVector512Single(p32);
    }

    /// <summary>Per-lane scales of a block pair: lanes 0..7 = s0, lanes 8..15 = s1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> PairScale(float s0, float s1) =>
        Avx512F.InsertVector256(Vector256.Create(s0).ToVector512Unsafe(), Vector256.Create(s1), 1);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Dot512Signed(byte* w, byte* a, int nb)
    {
        int wbStride = TW.Bytes, abStride = (TW.HasMin ? 36 : 34);
        Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
        float summs = 0f;
        byte* wb = w, ab = a;
        int ib = 0;
        for (; ib + 4 <= nb; ib += 4, wb += 4 * wbStride, ab += 4 * abStride)
        {
            Vector512<float> f0 = Pair512(wb, ab);
            Vector512<float> f1 = Pair512(wb + 2 * wbStride, ab + 2 * abStride);
            Vector512<float> s0 = PairScale(BlockScale(wb, ab), BlockScale(wb + wbStride, ab + abStride));
            Vector512<float> s1 = PairScale(BlockScale(wb + 2 * wbStride, ab + 2 * abStride), BlockScale(wb + 3 * wbStride, ab + 3 * abStride));
            acc0 = Avx512F.FusedMultiplyAdd(s0, f0, acc0);
            acc1 = Avx512F.FusedMultiplyAdd(s1, f1, acc1);
            if (TW.HasMin)
            {
                summs += TW.Min(wb) * ActS(ab) + TW.Min(wb + wbStride) * ActS(ab + abStride)
                       + TW.Min(wb + 2 * wbStride) * ActS(ab + 2 * abStride) + TW.Min(wb + 3 * wbStride) * ActS(ab + 3 * abStride);
            }
        }
        if (ib + 2 <= nb)
        {
            Vector512<float> s0 = PairScale(BlockScale(wb, ab), BlockScale(wb + wbStride, ab + abStride));
            acc0 = Avx512F.FusedMultiplyAdd(s0, Pair512(wb, ab), acc0);
            if (TW.HasMin) summs += TW.Min(wb) * ActS(ab) + TW.Min(wb + wbStride) * ActS(ab + abStride);
            ib += 2;
            wb += 2 * wbStride;
            ab += 2 * abStride;
        }
        float tail = 0f;
        if (ib < nb)
        {
            Vector256<float> t = Step256(wb, ab, Vector256<float>.Zero);
            tail = Vector256.Sum(t);
            if (TW.HasMin) summs += TW.Min(wb) * ActS(ab);
        }
        return Vector512.Sum(acc0 + acc1) + tail + summs;
    }

    // ---------------------------------------------------------------- 256-bit (AVX2)

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float BlockScale(byte* wb, byte* ab) => TW.Scale(wb) * LegacyBits.Half(ab);

    /// <summary>One block: 32 codes x 32 activations -> 8 int32 lane sums, scaled and accumulated.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Step256(byte* wb, byte* ab, Vector256<float> acc)
    {
        Vector256<sbyte> x = TW.Codes256(wb);
        Vector256<sbyte> y = Vector256.Load((sbyte*)(ab + (TW.HasMin ? 4 : 2)));
        Vector256<short> p16 = TW.HasMin
            ? Avx2.MultiplyAddAdjacent(x.AsByte(), y)
            : Avx2.MultiplyAddAdjacent(Avx2.Abs(x), Avx2.Sign(y, x));
        Vector256<int> p32 = Avx2.MultiplyAddAdjacent(p16, Vector256.Create((short)1));
        Vector256<float> scale = Vector256.Create(BlockScale(wb, ab));
        Vector256<float> f = Avx.ConvertToVector256Single(p32);
        return Fma.IsSupported ? Fma.MultiplyAdd(scale, f, acc) : acc + scale * f;
    }

    private static float Dot256(byte* w, byte* a, int nb)
    {
        int wbStride = TW.Bytes, abStride = (TW.HasMin ? 36 : 34);
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        float summs = 0f;
        byte* wb = w, ab = a;
        int ib = 0;
        for (; ib + 2 <= nb; ib += 2, wb += 2 * wbStride, ab += 2 * abStride)
        {
            acc0 = Step256(wb, ab, acc0);
            acc1 = Step256(wb + wbStride, ab + abStride, acc1);
            if (TW.HasMin) summs += TW.Min(wb) * ActS(ab) + TW.Min(wb + wbStride) * ActS(ab + abStride);
        }
        if (ib < nb)
        {
            acc0 = Step256(wb, ab, acc0);
            if (TW.HasMin) summs += TW.Min(wb) * ActS(ab);
        }
        return Vector256.Sum(acc0 + acc1) + summs;
    }

    // ---------------------------------------------------------------- 128-bit (SSSE3)

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Step128Ssse3(byte* wb, byte* ab, Vector128<float> acc)
    {
        TW.Codes128(wb, out Vector128<sbyte> lo, out Vector128<sbyte> hi);
        sbyte* y = (sbyte*)(ab + (TW.HasMin ? 4 : 2));
        Vector128<sbyte> ylo = Vector128.Load(y), yhi = Vector128.Load(y + 16);
        Vector128<short> pl, ph;
        if (TW.HasMin)
        {
            pl = Ssse3.MultiplyAddAdjacent(lo.AsByte(), ylo);
            ph = Ssse3.MultiplyAddAdjacent(hi.AsByte(), yhi);
        }
        else
        {
            pl = Ssse3.MultiplyAddAdjacent(Ssse3.Abs(lo), Ssse3.Sign(ylo, lo));
            ph = Ssse3.MultiplyAddAdjacent(Ssse3.Abs(hi), Ssse3.Sign(yhi, hi));
        }
        Vector128<short> ones = Vector128.Create((short)1);
        Vector128<int> p32 = Sse2.MultiplyAddAdjacent(pl, ones) + Sse2.MultiplyAddAdjacent(ph, ones);
        Vector128<float> scale = Vector128.Create(TW.Scale(wb) * LegacyBits.Half(ab));
        return acc + scale * Vector128.ConvertToSingle(p32);
    }

    private static float Dot128Ssse3(byte* w, byte* a, int nb)
    {
        int wbStride = TW.Bytes, abStride = (TW.HasMin ? 36 : 34);
        Vector128<float> acc0 = Vector128<float>.Zero, acc1 = Vector128<float>.Zero;
        float summs = 0f;
        int ib = 0;
        for (; ib + 2 <= nb; ib += 2)
        {
            byte* wb = w + (nint)ib * wbStride;
            byte* ab = a + (nint)ib * abStride;
            acc0 = Step128Ssse3(wb, ab, acc0);
            acc1 = Step128Ssse3(wb + wbStride, ab + abStride, acc1);
            if (TW.HasMin) summs += TW.Min(wb) * ActS(ab) + TW.Min(wb + wbStride) * ActS(ab + abStride);
        }
        if (ib < nb)
        {
            byte* wb = w + (nint)ib * wbStride;
            byte* ab = a + (nint)ib * abStride;
            acc0 = Step128Ssse3(wb, ab, acc0);
            if (TW.HasMin) summs += TW.Min(wb) * ActS(ab);
        }
        return Vector128.Sum(acc0 + acc1) + summs;
    }

    // ---------------------------------------------------------------- 128-bit portable (Arm64 AdvSimd, SSE2-only x64)

    /// <summary>Sign-extends 8 x int8 pairs to int16, multiplies (|product| &lt;= 16384 fits), widens and adds to int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> MulSum(Vector128<sbyte> x, Vector128<sbyte> y)
    {
        Vector128<short> pl = Vector128.WidenLower(x) * Vector128.WidenLower(y);
        Vector128<short> ph = Vector128.WidenUpper(x) * Vector128.WidenUpper(y);
        // pl + ph may exceed int16 (2 * 16384), so widen each before adding
        return Vector128.WidenLower(pl) + Vector128.WidenUpper(pl) + Vector128.WidenLower(ph) + Vector128.WidenUpper(ph);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Step128Portable(byte* wb, byte* ab, Vector128<float> acc)
    {
        TW.Codes128(wb, out Vector128<sbyte> lo, out Vector128<sbyte> hi);
        sbyte* y = (sbyte*)(ab + (TW.HasMin ? 4 : 2));
        Vector128<int> p32 = MulSum(lo, Vector128.Load(y)) + MulSum(hi, Vector128.Load(y + 16));
        Vector128<float> scale = Vector128.Create(TW.Scale(wb) * LegacyBits.Half(ab));
        return Vector128.MultiplyAddEstimate(scale, Vector128.ConvertToSingle(p32), acc);
    }

    private static float Dot128Portable(byte* w, byte* a, int nb)
    {
        int wbStride = TW.Bytes, abStride = (TW.HasMin ? 36 : 34);
        Vector128<float> acc0 = Vector128<float>.Zero, acc1 = Vector128<float>.Zero;
        float summs = 0f;
        int ib = 0;
        for (; ib + 2 <= nb; ib += 2)
        {
            byte* wb = w + (nint)ib * wbStride;
            byte* ab = a + (nint)ib * abStride;
            acc0 = Step128Portable(wb, ab, acc0);
            acc1 = Step128Portable(wb + wbStride, ab + abStride, acc1);
            if (TW.HasMin) summs += TW.Min(wb) * ActS(ab) + TW.Min(wb + wbStride) * ActS(ab + abStride);
        }
        if (ib < nb)
        {
            byte* wb = w + (nint)ib * wbStride;
            byte* ab = a + (nint)ib * abStride;
            acc0 = Step128Portable(wb, ab, acc0);
            if (TW.HasMin) summs += TW.Min(wb) * ActS(ab);
        }
        return Vector128.Sum(acc0 + acc1) + summs;
    }
}
