using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>The register-resident batched tiles of <see cref="Q8Gemm"/> (Q4_0; Q8_0 rows of at most one group plus a
/// half): the 16 fp32 accumulators of a 4 x 4 tile never leave registers between the first group and the reduction.</summary>
internal static unsafe partial class Q8Gemm
{
    /// <summary>TR.N transposed Q4_0 rows (stride <paramref name="rowBytes"/>) x TT.N panels (stride <paramref name="ps"/>)
    /// over <paramref name="ng"/> whole groups and, when <paramref name="half"/>, a last group of at most 8 blocks on
    /// 256-bit halves; returns the results, lane 4·token + row. The 16 fp32 accumulators stay in registers: each group
    /// runs as two passes of 2 rows x 4 tokens, whose 8 integer block sums are the only other long-lived values.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector512<float> TileQ4_0Reg<TR, TT>(byte* w, long rowBytes, byte* p, int ps, int ng, bool half)
        where TR : struct, ITileCount where TT : struct, ITileCount
    {
        int nr = TR.N, nt = TT.N;
        byte* w0 = w, w1 = nr > 1 ? w + rowBytes : w, w2 = nr > 2 ? w + 2 * rowBytes : w, w3 = nr > 3 ? w + 3 * rowBytes : w;
        byte* p0 = p, p1 = nt > 1 ? p0 + ps : p0, p2 = nt > 2 ? p0 + 2 * ps : p0, p3 = nt > 3 ? p0 + 3 * ps : p0;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default, c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int g = 0; g < ng; g++)
        {
            long wo = (long)g * 576, po = (long)g * GroupBytes;
            PassQ4_0<TT>(w0 + wo, w1 + wo, nr > 1, p0 + po, p1 + po, p2 + po, p3 + po, ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13);
            if (nr > 2) PassQ4_0<TT>(w2 + wo, w3 + wo, nr > 3, p0 + po, p1 + po, p2 + po, p3 + po, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33);
        }
        if (half)
        {
            long wo = (long)ng * 576, po = (long)ng * GroupBytes;
            PassQ4_0Half<TT>(w0 + wo, w1 + wo, nr > 1, p0 + po, p1 + po, p2 + po, p3 + po, ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13);
            if (nr > 2) PassQ4_0Half<TT>(w2 + wo, w3 + wo, nr > 3, p0 + po, p1 + po, p2 + po, p3 + po, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33);
        }
        return ReduceRegs(c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33);
    }

    /// <summary>one whole group of Q4_0 rows <paramref name="xa"/> and (when <paramref name="two"/>) <paramref name="xb"/>
    /// against the TT.N panels' group at g0..g3, into the accumulators ca_t and cb_t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PassQ4_0<TT>(byte* xa, byte* xb, bool two, byte* g0, byte* g1, byte* g2, byte* g3,
        ref Vector512<float> ca0, ref Vector512<float> ca1, ref Vector512<float> ca2, ref Vector512<float> ca3,
        ref Vector512<float> cb0, ref Vector512<float> cb1, ref Vector512<float> cb2, ref Vector512<float> cb3)
        where TT : struct, ITileCount
    {
        const int ScaleAt = 512;
        int nt = TT.N;
        byte* q0 = g0 + TransOffset, q1 = g1 + TransOffset, q2 = g2 + TransOffset, q3 = g3 + TransOffset;
        Vector512<short> sa0 = default, sa1 = default, sa2 = default, sa3 = default, sb0 = default, sb1 = default, sb2 = default, sb3 = default;
        for (int k = 0; k < 512; k += 64)
        {
            Vector512<byte> va = *(Vector512<byte>*)(xa + k);
            sa0 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<sbyte>*)(q0 + k));
            if (nt > 1) sa1 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<sbyte>*)(q1 + k));
            if (nt > 2) sa2 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<sbyte>*)(q2 + k));
            if (nt > 3) sa3 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<sbyte>*)(q3 + k));
            if (two)
            {
                Vector512<byte> vb = *(Vector512<byte>*)(xb + k);
                sb0 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<sbyte>*)(q0 + k));
                if (nt > 1) sb1 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<sbyte>*)(q1 + k));
                if (nt > 2) sb2 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<sbyte>*)(q2 + k));
                if (nt > 3) sb3 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<sbyte>*)(q3 + k));
            }
        }
        Vector512<short> ones = Vector512.Create((short)1);
        Vector512<float> da = *(Vector512<float>*)(xa + ScaleAt);
        ca0 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(sa0, ones) + *(Vector512<int>*)(g0 + CorrOffset)), da * *(Vector512<float>*)(g0 + ScaleOffset), ca0);
        if (nt > 1) ca1 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(sa1, ones) + *(Vector512<int>*)(g1 + CorrOffset)), da * *(Vector512<float>*)(g1 + ScaleOffset), ca1);
        if (nt > 2) ca2 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(sa2, ones) + *(Vector512<int>*)(g2 + CorrOffset)), da * *(Vector512<float>*)(g2 + ScaleOffset), ca2);
        if (nt > 3) ca3 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(sa3, ones) + *(Vector512<int>*)(g3 + CorrOffset)), da * *(Vector512<float>*)(g3 + ScaleOffset), ca3);
        if (two)
        {
            Vector512<float> db = *(Vector512<float>*)(xb + ScaleAt);
            cb0 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(sb0, ones) + *(Vector512<int>*)(g0 + CorrOffset)), db * *(Vector512<float>*)(g0 + ScaleOffset), cb0);
            if (nt > 1) cb1 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(sb1, ones) + *(Vector512<int>*)(g1 + CorrOffset)), db * *(Vector512<float>*)(g1 + ScaleOffset), cb1);
            if (nt > 2) cb2 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(sb2, ones) + *(Vector512<int>*)(g2 + CorrOffset)), db * *(Vector512<float>*)(g2 + ScaleOffset), cb2);
            if (nt > 3) cb3 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(sb3, ones) + *(Vector512<int>*)(g3 + CorrOffset)), db * *(Vector512<float>*)(g3 + ScaleOffset), cb3);
        }
    }

    /// <summary>the half group (lanes 0..7, 256-bit) of Q4_0 rows <paramref name="xa"/> and (when <paramref name="two"/>) <paramref name="xb"/>
    /// against the TT.N panels' group at g0..g3, into the accumulators ca_t and cb_t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PassQ4_0Half<TT>(byte* xa, byte* xb, bool two, byte* g0, byte* g1, byte* g2, byte* g3,
        ref Vector512<float> ca0, ref Vector512<float> ca1, ref Vector512<float> ca2, ref Vector512<float> ca3,
        ref Vector512<float> cb0, ref Vector512<float> cb1, ref Vector512<float> cb2, ref Vector512<float> cb3)
        where TT : struct, ITileCount
    {
        const int ScaleAt = 512;
        int nt = TT.N;
        byte* q0 = g0 + TransOffset, q1 = g1 + TransOffset, q2 = g2 + TransOffset, q3 = g3 + TransOffset;
        Vector256<short> sa0 = default, sa1 = default, sa2 = default, sa3 = default, sb0 = default, sb1 = default, sb2 = default, sb3 = default;
        for (int k = 0; k < 512; k += 64)
        {
            Vector256<byte> va = *(Vector256<byte>*)(xa + k);
            sa0 += Avx2.MultiplyAddAdjacent(va, *(Vector256<sbyte>*)(q0 + k));
            if (nt > 1) sa1 += Avx2.MultiplyAddAdjacent(va, *(Vector256<sbyte>*)(q1 + k));
            if (nt > 2) sa2 += Avx2.MultiplyAddAdjacent(va, *(Vector256<sbyte>*)(q2 + k));
            if (nt > 3) sa3 += Avx2.MultiplyAddAdjacent(va, *(Vector256<sbyte>*)(q3 + k));
            if (two)
            {
                Vector256<byte> vb = *(Vector256<byte>*)(xb + k);
                sb0 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<sbyte>*)(q0 + k));
                if (nt > 1) sb1 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<sbyte>*)(q1 + k));
                if (nt > 2) sb2 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<sbyte>*)(q2 + k));
                if (nt > 3) sb3 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<sbyte>*)(q3 + k));
            }
        }
        Vector256<short> ones = Vector256.Create((short)1);
        Vector256<float> da = *(Vector256<float>*)(xa + ScaleAt);
        ca0 = ca0.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(sa0, ones) + *(Vector256<int>*)(g0 + CorrOffset)), da * *(Vector256<float>*)(g0 + ScaleOffset), ca0.GetLower()));
        if (nt > 1) ca1 = ca1.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(sa1, ones) + *(Vector256<int>*)(g1 + CorrOffset)), da * *(Vector256<float>*)(g1 + ScaleOffset), ca1.GetLower()));
        if (nt > 2) ca2 = ca2.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(sa2, ones) + *(Vector256<int>*)(g2 + CorrOffset)), da * *(Vector256<float>*)(g2 + ScaleOffset), ca2.GetLower()));
        if (nt > 3) ca3 = ca3.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(sa3, ones) + *(Vector256<int>*)(g3 + CorrOffset)), da * *(Vector256<float>*)(g3 + ScaleOffset), ca3.GetLower()));
        if (two)
        {
            Vector256<float> db = *(Vector256<float>*)(xb + ScaleAt);
            cb0 = cb0.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(sb0, ones) + *(Vector256<int>*)(g0 + CorrOffset)), db * *(Vector256<float>*)(g0 + ScaleOffset), cb0.GetLower()));
            if (nt > 1) cb1 = cb1.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(sb1, ones) + *(Vector256<int>*)(g1 + CorrOffset)), db * *(Vector256<float>*)(g1 + ScaleOffset), cb1.GetLower()));
            if (nt > 2) cb2 = cb2.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(sb2, ones) + *(Vector256<int>*)(g2 + CorrOffset)), db * *(Vector256<float>*)(g2 + ScaleOffset), cb2.GetLower()));
            if (nt > 3) cb3 = cb3.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(sb3, ones) + *(Vector256<int>*)(g3 + CorrOffset)), db * *(Vector256<float>*)(g3 + ScaleOffset), cb3.GetLower()));
        }
    }

    /// <summary>TR.N transposed Q8_0 rows (stride <paramref name="rowBytes"/>) x TT.N panels (stride <paramref name="ps"/>)
    /// over <paramref name="ng"/> whole groups and, when <paramref name="half"/>, a last group of at most 8 blocks on
    /// 256-bit halves; returns the results, lane 4·token + row. The 16 fp32 accumulators stay in registers: each group
    /// runs as two passes of 2 rows x 4 tokens, whose 8 integer block sums are the only other long-lived values.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector512<float> TileQ8_0Reg<TR, TT>(byte* w, long rowBytes, byte* p, int ps, int ng, bool half)
        where TR : struct, ITileCount where TT : struct, ITileCount
    {
        int nr = TR.N, nt = TT.N;
        byte* w0 = w, w1 = nr > 1 ? w + rowBytes : w, w2 = nr > 2 ? w + 2 * rowBytes : w, w3 = nr > 3 ? w + 3 * rowBytes : w;
        byte* p0 = p, p1 = nt > 1 ? p0 + ps : p0, p2 = nt > 2 ? p0 + 2 * ps : p0, p3 = nt > 3 ? p0 + 3 * ps : p0;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default, c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int g = 0; g < ng; g++)
        {
            long wo = (long)g * 1088, po = (long)g * GroupBytes;
            PassQ8_0<TT>(w0 + wo, w1 + wo, nr > 1, p0 + po, p1 + po, p2 + po, p3 + po, ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13);
            if (nr > 2) PassQ8_0<TT>(w2 + wo, w3 + wo, nr > 3, p0 + po, p1 + po, p2 + po, p3 + po, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33);
        }
        if (half)
        {
            long wo = (long)ng * 1088, po = (long)ng * GroupBytes;
            PassQ8_0Half<TT>(w0 + wo, w1 + wo, nr > 1, p0 + po, p1 + po, p2 + po, p3 + po, ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13);
            if (nr > 2) PassQ8_0Half<TT>(w2 + wo, w3 + wo, nr > 3, p0 + po, p1 + po, p2 + po, p3 + po, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33);
        }
        return ReduceRegs(c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33);
    }

    /// <summary>one whole group of Q8_0 rows <paramref name="xa"/> and (when <paramref name="two"/>) <paramref name="xb"/>
    /// against the TT.N panels' group at g0..g3, into the accumulators ca_t and cb_t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PassQ8_0<TT>(byte* xa, byte* xb, bool two, byte* g0, byte* g1, byte* g2, byte* g3,
        ref Vector512<float> ca0, ref Vector512<float> ca1, ref Vector512<float> ca2, ref Vector512<float> ca3,
        ref Vector512<float> cb0, ref Vector512<float> cb1, ref Vector512<float> cb2, ref Vector512<float> cb3)
        where TT : struct, ITileCount
    {
        const int ScaleAt = 1024;
        int nt = TT.N;
        byte* q0 = g0 + TransOffset, q1 = g1 + TransOffset, q2 = g2 + TransOffset, q3 = g3 + TransOffset;
        Vector512<int> sa0 = default, sa1 = default, sa2 = default, sa3 = default, sb0 = default, sb1 = default, sb2 = default, sb3 = default;
        for (int k = 0; k < 1024; k += 64)
        {
            Vector512<short> va = *(Vector512<short>*)(xa + k);
            sa0 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<short>*)(q0 + k));
            if (nt > 1) sa1 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<short>*)(q1 + k));
            if (nt > 2) sa2 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<short>*)(q2 + k));
            if (nt > 3) sa3 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<short>*)(q3 + k));
            if (two)
            {
                Vector512<short> vb = *(Vector512<short>*)(xb + k);
                sb0 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<short>*)(q0 + k));
                if (nt > 1) sb1 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<short>*)(q1 + k));
                if (nt > 2) sb2 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<short>*)(q2 + k));
                if (nt > 3) sb3 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<short>*)(q3 + k));
            }
        }
        Vector512<float> da = *(Vector512<float>*)(xa + ScaleAt);
        ca0 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sa0), da * *(Vector512<float>*)(g0 + ScaleOffset), ca0);
        if (nt > 1) ca1 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sa1), da * *(Vector512<float>*)(g1 + ScaleOffset), ca1);
        if (nt > 2) ca2 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sa2), da * *(Vector512<float>*)(g2 + ScaleOffset), ca2);
        if (nt > 3) ca3 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sa3), da * *(Vector512<float>*)(g3 + ScaleOffset), ca3);
        if (two)
        {
            Vector512<float> db = *(Vector512<float>*)(xb + ScaleAt);
            cb0 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sb0), db * *(Vector512<float>*)(g0 + ScaleOffset), cb0);
            if (nt > 1) cb1 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sb1), db * *(Vector512<float>*)(g1 + ScaleOffset), cb1);
            if (nt > 2) cb2 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sb2), db * *(Vector512<float>*)(g2 + ScaleOffset), cb2);
            if (nt > 3) cb3 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sb3), db * *(Vector512<float>*)(g3 + ScaleOffset), cb3);
        }
    }

    /// <summary>the half group (lanes 0..7, 256-bit) of Q8_0 rows <paramref name="xa"/> and (when <paramref name="two"/>) <paramref name="xb"/>
    /// against the TT.N panels' group at g0..g3, into the accumulators ca_t and cb_t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PassQ8_0Half<TT>(byte* xa, byte* xb, bool two, byte* g0, byte* g1, byte* g2, byte* g3,
        ref Vector512<float> ca0, ref Vector512<float> ca1, ref Vector512<float> ca2, ref Vector512<float> ca3,
        ref Vector512<float> cb0, ref Vector512<float> cb1, ref Vector512<float> cb2, ref Vector512<float> cb3)
        where TT : struct, ITileCount
    {
        const int ScaleAt = 1024;
        int nt = TT.N;
        byte* q0 = g0 + TransOffset, q1 = g1 + TransOffset, q2 = g2 + TransOffset, q3 = g3 + TransOffset;
        Vector256<int> sa0 = default, sa1 = default, sa2 = default, sa3 = default, sb0 = default, sb1 = default, sb2 = default, sb3 = default;
        for (int k = 0; k < 1024; k += 64)
        {
            Vector256<short> va = *(Vector256<short>*)(xa + k);
            sa0 += Avx2.MultiplyAddAdjacent(va, *(Vector256<short>*)(q0 + k));
            if (nt > 1) sa1 += Avx2.MultiplyAddAdjacent(va, *(Vector256<short>*)(q1 + k));
            if (nt > 2) sa2 += Avx2.MultiplyAddAdjacent(va, *(Vector256<short>*)(q2 + k));
            if (nt > 3) sa3 += Avx2.MultiplyAddAdjacent(va, *(Vector256<short>*)(q3 + k));
            if (two)
            {
                Vector256<short> vb = *(Vector256<short>*)(xb + k);
                sb0 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<short>*)(q0 + k));
                if (nt > 1) sb1 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<short>*)(q1 + k));
                if (nt > 2) sb2 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<short>*)(q2 + k));
                if (nt > 3) sb3 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<short>*)(q3 + k));
            }
        }
        Vector256<float> da = *(Vector256<float>*)(xa + ScaleAt);
        ca0 = ca0.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(sa0), da * *(Vector256<float>*)(g0 + ScaleOffset), ca0.GetLower()));
        if (nt > 1) ca1 = ca1.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(sa1), da * *(Vector256<float>*)(g1 + ScaleOffset), ca1.GetLower()));
        if (nt > 2) ca2 = ca2.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(sa2), da * *(Vector256<float>*)(g2 + ScaleOffset), ca2.GetLower()));
        if (nt > 3) ca3 = ca3.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(sa3), da * *(Vector256<float>*)(g3 + ScaleOffset), ca3.GetLower()));
        if (two)
        {
            Vector256<float> db = *(Vector256<float>*)(xb + ScaleAt);
            cb0 = cb0.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(sb0), db * *(Vector256<float>*)(g0 + ScaleOffset), cb0.GetLower()));
            if (nt > 1) cb1 = cb1.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(sb1), db * *(Vector256<float>*)(g1 + ScaleOffset), cb1.GetLower()));
            if (nt > 2) cb2 = cb2.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(sb2), db * *(Vector256<float>*)(g2 + ScaleOffset), cb2.GetLower()));
            if (nt > 3) cb3 = cb3.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(sb3), db * *(Vector256<float>*)(g3 + ScaleOffset), cb3.GetLower()));
        }
    }
    /// <summary><see cref="Reduce16x16"/> of accumulators held in registers (c_rt: row r, token t).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ReduceRegs(Vector512<float> c00, Vector512<float> c01, Vector512<float> c02, Vector512<float> c03,
        Vector512<float> c10, Vector512<float> c11, Vector512<float> c12, Vector512<float> c13,
        Vector512<float> c20, Vector512<float> c21, Vector512<float> c22, Vector512<float> c23,
        Vector512<float> c30, Vector512<float> c31, Vector512<float> c32, Vector512<float> c33) =>
        ReduceHalves(Half(c00, c01), Half(c02, c03), Half(c10, c11), Half(c12, c13),
            Half(c20, c21), Half(c22, c23), Half(c30, c31), Half(c32, c33));
}
