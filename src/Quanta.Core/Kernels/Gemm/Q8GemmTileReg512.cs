using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Quanta.Core.Kernels.Gemm;

// Generated shape (4 rows x 4 tokens, two row-pair passes per group); edit both formats alike.
internal static unsafe partial class Q8Gemm
{
    /// <summary>TR.N transposed Q4_0 rows (stride <paramref name="rowBytes"/>) x TT.N panels (stride <paramref name="ps"/>)
    /// over <paramref name="ng"/> whole groups and, when <paramref name="half"/>, a last group of at most 8 blocks on
    /// 256-bit halves; the results (lane 4·token + row) are returned. The 16 fp32 accumulators stay in registers: each
    /// group runs as two passes of 2 rows x 4 tokens, whose 8 integer block sums are the only other long-lived values.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector512<float> TileQ4_0Reg<TR, TT>(byte* w, long rowBytes, byte* p, int ps, int ng, bool half)
        where TR : struct, ITileCount where TT : struct, ITileCount
    {
        const int ScaleAt = 512;
        int nr = TR.N, nt = TT.N;
        byte* w0 = w, w1 = nr > 1 ? w + rowBytes : w, w2 = nr > 2 ? w + 2 * rowBytes : w, w3 = nr > 3 ? w + 3 * rowBytes : w;
        byte* p0 = p, p1 = nt > 1 ? p0 + ps : p0, p2 = nt > 2 ? p0 + 2 * ps : p0, p3 = nt > 3 ? p0 + 3 * ps : p0;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default, c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<short> ones = Vector512.Create((short)1);
        for (int g = 0; g < ng; g++)
        {
            long wo = (long)g * 576, po = (long)g * GroupBytes;
            byte* g0 = p0 + po, g1 = p1 + po, g2 = p2 + po, g3 = p3 + po;
            byte* q0 = g0 + TransOffset, q1 = g1 + TransOffset, q2 = g2 + TransOffset, q3 = g3 + TransOffset;
            {
                byte* xa = w0 + wo, xb = w1 + wo;
                Vector512<short> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
                for (int k = 0; k < 512; k += 64)
                {
                    Vector512<byte> va = *(Vector512<byte>*)(xa + k);
                    s00 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<sbyte>*)(q0 + k));
                    if (nt > 1) s01 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<sbyte>*)(q1 + k));
                    if (nt > 2) s02 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<sbyte>*)(q2 + k));
                    if (nt > 3) s03 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<sbyte>*)(q3 + k));
                    if (nr > 1)
                    {
                        Vector512<byte> vb = *(Vector512<byte>*)(xb + k);
                        s10 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<sbyte>*)(q0 + k));
                        if (nt > 1) s11 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<sbyte>*)(q1 + k));
                        if (nt > 2) s12 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<sbyte>*)(q2 + k));
                        if (nt > 3) s13 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<sbyte>*)(q3 + k));
                    }
                }
                Vector512<float> d0 = *(Vector512<float>*)(xa + ScaleAt);
                c00 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s00, ones) + *(Vector512<int>*)(g0 + CorrOffset)), d0 * *(Vector512<float>*)(g0 + ScaleOffset), c00);
                if (nt > 1) c01 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s01, ones) + *(Vector512<int>*)(g1 + CorrOffset)), d0 * *(Vector512<float>*)(g1 + ScaleOffset), c01);
                if (nt > 2) c02 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s02, ones) + *(Vector512<int>*)(g2 + CorrOffset)), d0 * *(Vector512<float>*)(g2 + ScaleOffset), c02);
                if (nt > 3) c03 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s03, ones) + *(Vector512<int>*)(g3 + CorrOffset)), d0 * *(Vector512<float>*)(g3 + ScaleOffset), c03);
                if (nr > 1)
                {
                    Vector512<float> d1 = *(Vector512<float>*)(xb + ScaleAt);
                    c10 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s10, ones) + *(Vector512<int>*)(g0 + CorrOffset)), d1 * *(Vector512<float>*)(g0 + ScaleOffset), c10);
                    if (nt > 1) c11 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s11, ones) + *(Vector512<int>*)(g1 + CorrOffset)), d1 * *(Vector512<float>*)(g1 + ScaleOffset), c11);
                    if (nt > 2) c12 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s12, ones) + *(Vector512<int>*)(g2 + CorrOffset)), d1 * *(Vector512<float>*)(g2 + ScaleOffset), c12);
                    if (nt > 3) c13 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s13, ones) + *(Vector512<int>*)(g3 + CorrOffset)), d1 * *(Vector512<float>*)(g3 + ScaleOffset), c13);
                }
            }
            if (nr > 2)
            {
                byte* xa = w2 + wo, xb = w3 + wo;
                Vector512<short> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
                for (int k = 0; k < 512; k += 64)
                {
                    Vector512<byte> va = *(Vector512<byte>*)(xa + k);
                    s00 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<sbyte>*)(q0 + k));
                    if (nt > 1) s01 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<sbyte>*)(q1 + k));
                    if (nt > 2) s02 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<sbyte>*)(q2 + k));
                    if (nt > 3) s03 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<sbyte>*)(q3 + k));
                    if (nr > 3)
                    {
                        Vector512<byte> vb = *(Vector512<byte>*)(xb + k);
                        s10 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<sbyte>*)(q0 + k));
                        if (nt > 1) s11 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<sbyte>*)(q1 + k));
                        if (nt > 2) s12 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<sbyte>*)(q2 + k));
                        if (nt > 3) s13 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<sbyte>*)(q3 + k));
                    }
                }
                Vector512<float> d0 = *(Vector512<float>*)(xa + ScaleAt);
                c20 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s00, ones) + *(Vector512<int>*)(g0 + CorrOffset)), d0 * *(Vector512<float>*)(g0 + ScaleOffset), c20);
                if (nt > 1) c21 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s01, ones) + *(Vector512<int>*)(g1 + CorrOffset)), d0 * *(Vector512<float>*)(g1 + ScaleOffset), c21);
                if (nt > 2) c22 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s02, ones) + *(Vector512<int>*)(g2 + CorrOffset)), d0 * *(Vector512<float>*)(g2 + ScaleOffset), c22);
                if (nt > 3) c23 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s03, ones) + *(Vector512<int>*)(g3 + CorrOffset)), d0 * *(Vector512<float>*)(g3 + ScaleOffset), c23);
                if (nr > 3)
                {
                    Vector512<float> d1 = *(Vector512<float>*)(xb + ScaleAt);
                    c30 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s10, ones) + *(Vector512<int>*)(g0 + CorrOffset)), d1 * *(Vector512<float>*)(g0 + ScaleOffset), c30);
                    if (nt > 1) c31 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s11, ones) + *(Vector512<int>*)(g1 + CorrOffset)), d1 * *(Vector512<float>*)(g1 + ScaleOffset), c31);
                    if (nt > 2) c32 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s12, ones) + *(Vector512<int>*)(g2 + CorrOffset)), d1 * *(Vector512<float>*)(g2 + ScaleOffset), c32);
                    if (nt > 3) c33 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s13, ones) + *(Vector512<int>*)(g3 + CorrOffset)), d1 * *(Vector512<float>*)(g3 + ScaleOffset), c33);
                }
            }
        }
        if (half)
        {
            int g = ng;
            Vector256<short> ones2 = Vector256.Create((short)1);
            long wo = (long)g * 576, po = (long)g * GroupBytes;
            byte* g0 = p0 + po, g1 = p1 + po, g2 = p2 + po, g3 = p3 + po;
            byte* q0 = g0 + TransOffset, q1 = g1 + TransOffset, q2 = g2 + TransOffset, q3 = g3 + TransOffset;
            {
                byte* xa = w0 + wo, xb = w1 + wo;
                Vector256<short> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
                for (int k = 0; k < 512; k += 64)
                {
                    Vector256<byte> va = *(Vector256<byte>*)(xa + k);
                    s00 += Avx2.MultiplyAddAdjacent(va, *(Vector256<sbyte>*)(q0 + k));
                    if (nt > 1) s01 += Avx2.MultiplyAddAdjacent(va, *(Vector256<sbyte>*)(q1 + k));
                    if (nt > 2) s02 += Avx2.MultiplyAddAdjacent(va, *(Vector256<sbyte>*)(q2 + k));
                    if (nt > 3) s03 += Avx2.MultiplyAddAdjacent(va, *(Vector256<sbyte>*)(q3 + k));
                    if (nr > 1)
                    {
                        Vector256<byte> vb = *(Vector256<byte>*)(xb + k);
                        s10 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<sbyte>*)(q0 + k));
                        if (nt > 1) s11 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<sbyte>*)(q1 + k));
                        if (nt > 2) s12 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<sbyte>*)(q2 + k));
                        if (nt > 3) s13 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<sbyte>*)(q3 + k));
                    }
                }
                Vector256<float> d0 = *(Vector256<float>*)(xa + ScaleAt);
                c00 = c00.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s00, ones2) + *(Vector256<int>*)(g0 + CorrOffset)), d0 * *(Vector256<float>*)(g0 + ScaleOffset), c00.GetLower()));
                if (nt > 1) c01 = c01.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s01, ones2) + *(Vector256<int>*)(g1 + CorrOffset)), d0 * *(Vector256<float>*)(g1 + ScaleOffset), c01.GetLower()));
                if (nt > 2) c02 = c02.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s02, ones2) + *(Vector256<int>*)(g2 + CorrOffset)), d0 * *(Vector256<float>*)(g2 + ScaleOffset), c02.GetLower()));
                if (nt > 3) c03 = c03.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s03, ones2) + *(Vector256<int>*)(g3 + CorrOffset)), d0 * *(Vector256<float>*)(g3 + ScaleOffset), c03.GetLower()));
                if (nr > 1)
                {
                    Vector256<float> d1 = *(Vector256<float>*)(xb + ScaleAt);
                    c10 = c10.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s10, ones2) + *(Vector256<int>*)(g0 + CorrOffset)), d1 * *(Vector256<float>*)(g0 + ScaleOffset), c10.GetLower()));
                    if (nt > 1) c11 = c11.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s11, ones2) + *(Vector256<int>*)(g1 + CorrOffset)), d1 * *(Vector256<float>*)(g1 + ScaleOffset), c11.GetLower()));
                    if (nt > 2) c12 = c12.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s12, ones2) + *(Vector256<int>*)(g2 + CorrOffset)), d1 * *(Vector256<float>*)(g2 + ScaleOffset), c12.GetLower()));
                    if (nt > 3) c13 = c13.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s13, ones2) + *(Vector256<int>*)(g3 + CorrOffset)), d1 * *(Vector256<float>*)(g3 + ScaleOffset), c13.GetLower()));
                }
            }
            if (nr > 2)
            {
                byte* xa = w2 + wo, xb = w3 + wo;
                Vector256<short> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
                for (int k = 0; k < 512; k += 64)
                {
                    Vector256<byte> va = *(Vector256<byte>*)(xa + k);
                    s00 += Avx2.MultiplyAddAdjacent(va, *(Vector256<sbyte>*)(q0 + k));
                    if (nt > 1) s01 += Avx2.MultiplyAddAdjacent(va, *(Vector256<sbyte>*)(q1 + k));
                    if (nt > 2) s02 += Avx2.MultiplyAddAdjacent(va, *(Vector256<sbyte>*)(q2 + k));
                    if (nt > 3) s03 += Avx2.MultiplyAddAdjacent(va, *(Vector256<sbyte>*)(q3 + k));
                    if (nr > 3)
                    {
                        Vector256<byte> vb = *(Vector256<byte>*)(xb + k);
                        s10 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<sbyte>*)(q0 + k));
                        if (nt > 1) s11 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<sbyte>*)(q1 + k));
                        if (nt > 2) s12 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<sbyte>*)(q2 + k));
                        if (nt > 3) s13 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<sbyte>*)(q3 + k));
                    }
                }
                Vector256<float> d0 = *(Vector256<float>*)(xa + ScaleAt);
                c20 = c20.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s00, ones2) + *(Vector256<int>*)(g0 + CorrOffset)), d0 * *(Vector256<float>*)(g0 + ScaleOffset), c20.GetLower()));
                if (nt > 1) c21 = c21.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s01, ones2) + *(Vector256<int>*)(g1 + CorrOffset)), d0 * *(Vector256<float>*)(g1 + ScaleOffset), c21.GetLower()));
                if (nt > 2) c22 = c22.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s02, ones2) + *(Vector256<int>*)(g2 + CorrOffset)), d0 * *(Vector256<float>*)(g2 + ScaleOffset), c22.GetLower()));
                if (nt > 3) c23 = c23.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s03, ones2) + *(Vector256<int>*)(g3 + CorrOffset)), d0 * *(Vector256<float>*)(g3 + ScaleOffset), c23.GetLower()));
                if (nr > 3)
                {
                    Vector256<float> d1 = *(Vector256<float>*)(xb + ScaleAt);
                    c30 = c30.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s10, ones2) + *(Vector256<int>*)(g0 + CorrOffset)), d1 * *(Vector256<float>*)(g0 + ScaleOffset), c30.GetLower()));
                    if (nt > 1) c31 = c31.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s11, ones2) + *(Vector256<int>*)(g1 + CorrOffset)), d1 * *(Vector256<float>*)(g1 + ScaleOffset), c31.GetLower()));
                    if (nt > 2) c32 = c32.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s12, ones2) + *(Vector256<int>*)(g2 + CorrOffset)), d1 * *(Vector256<float>*)(g2 + ScaleOffset), c32.GetLower()));
                    if (nt > 3) c33 = c33.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(s13, ones2) + *(Vector256<int>*)(g3 + CorrOffset)), d1 * *(Vector256<float>*)(g3 + ScaleOffset), c33.GetLower()));
                }
            }
        }
        return ReduceRegs(c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33);
    }

    /// <summary>TR.N transposed Q8_0 rows (stride <paramref name="rowBytes"/>) x TT.N panels (stride <paramref name="ps"/>)
    /// over <paramref name="ng"/> whole groups and, when <paramref name="half"/>, a last group of at most 8 blocks on
    /// 256-bit halves; the results (lane 4·token + row) are returned. The 16 fp32 accumulators stay in registers: each
    /// group runs as two passes of 2 rows x 4 tokens, whose 8 integer block sums are the only other long-lived values.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector512<float> TileQ8_0Reg<TR, TT>(byte* w, long rowBytes, byte* p, int ps, int ng, bool half)
        where TR : struct, ITileCount where TT : struct, ITileCount
    {
        const int ScaleAt = 1024;
        int nr = TR.N, nt = TT.N;
        byte* w0 = w, w1 = nr > 1 ? w + rowBytes : w, w2 = nr > 2 ? w + 2 * rowBytes : w, w3 = nr > 3 ? w + 3 * rowBytes : w;
        byte* p0 = p, p1 = nt > 1 ? p0 + ps : p0, p2 = nt > 2 ? p0 + 2 * ps : p0, p3 = nt > 3 ? p0 + 3 * ps : p0;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default, c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int g = 0; g < ng; g++)
        {
            long wo = (long)g * 1088, po = (long)g * GroupBytes;
            byte* g0 = p0 + po, g1 = p1 + po, g2 = p2 + po, g3 = p3 + po;
            byte* q0 = g0 + TransOffset, q1 = g1 + TransOffset, q2 = g2 + TransOffset, q3 = g3 + TransOffset;
            {
                byte* xa = w0 + wo, xb = w1 + wo;
                Vector512<int> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
                for (int k = 0; k < 1024; k += 64)
                {
                    Vector512<short> va = *(Vector512<short>*)(xa + k);
                    s00 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<short>*)(q0 + k));
                    if (nt > 1) s01 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<short>*)(q1 + k));
                    if (nt > 2) s02 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<short>*)(q2 + k));
                    if (nt > 3) s03 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<short>*)(q3 + k));
                    if (nr > 1)
                    {
                        Vector512<short> vb = *(Vector512<short>*)(xb + k);
                        s10 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<short>*)(q0 + k));
                        if (nt > 1) s11 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<short>*)(q1 + k));
                        if (nt > 2) s12 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<short>*)(q2 + k));
                        if (nt > 3) s13 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<short>*)(q3 + k));
                    }
                }
                Vector512<float> d0 = *(Vector512<float>*)(xa + ScaleAt);
                c00 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s00), d0 * *(Vector512<float>*)(g0 + ScaleOffset), c00);
                if (nt > 1) c01 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s01), d0 * *(Vector512<float>*)(g1 + ScaleOffset), c01);
                if (nt > 2) c02 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s02), d0 * *(Vector512<float>*)(g2 + ScaleOffset), c02);
                if (nt > 3) c03 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s03), d0 * *(Vector512<float>*)(g3 + ScaleOffset), c03);
                if (nr > 1)
                {
                    Vector512<float> d1 = *(Vector512<float>*)(xb + ScaleAt);
                    c10 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s10), d1 * *(Vector512<float>*)(g0 + ScaleOffset), c10);
                    if (nt > 1) c11 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s11), d1 * *(Vector512<float>*)(g1 + ScaleOffset), c11);
                    if (nt > 2) c12 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s12), d1 * *(Vector512<float>*)(g2 + ScaleOffset), c12);
                    if (nt > 3) c13 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s13), d1 * *(Vector512<float>*)(g3 + ScaleOffset), c13);
                }
            }
            if (nr > 2)
            {
                byte* xa = w2 + wo, xb = w3 + wo;
                Vector512<int> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
                for (int k = 0; k < 1024; k += 64)
                {
                    Vector512<short> va = *(Vector512<short>*)(xa + k);
                    s00 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<short>*)(q0 + k));
                    if (nt > 1) s01 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<short>*)(q1 + k));
                    if (nt > 2) s02 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<short>*)(q2 + k));
                    if (nt > 3) s03 += Avx512BW.MultiplyAddAdjacent(va, *(Vector512<short>*)(q3 + k));
                    if (nr > 3)
                    {
                        Vector512<short> vb = *(Vector512<short>*)(xb + k);
                        s10 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<short>*)(q0 + k));
                        if (nt > 1) s11 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<short>*)(q1 + k));
                        if (nt > 2) s12 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<short>*)(q2 + k));
                        if (nt > 3) s13 += Avx512BW.MultiplyAddAdjacent(vb, *(Vector512<short>*)(q3 + k));
                    }
                }
                Vector512<float> d0 = *(Vector512<float>*)(xa + ScaleAt);
                c20 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s00), d0 * *(Vector512<float>*)(g0 + ScaleOffset), c20);
                if (nt > 1) c21 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s01), d0 * *(Vector512<float>*)(g1 + ScaleOffset), c21);
                if (nt > 2) c22 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s02), d0 * *(Vector512<float>*)(g2 + ScaleOffset), c22);
                if (nt > 3) c23 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s03), d0 * *(Vector512<float>*)(g3 + ScaleOffset), c23);
                if (nr > 3)
                {
                    Vector512<float> d1 = *(Vector512<float>*)(xb + ScaleAt);
                    c30 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s10), d1 * *(Vector512<float>*)(g0 + ScaleOffset), c30);
                    if (nt > 1) c31 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s11), d1 * *(Vector512<float>*)(g1 + ScaleOffset), c31);
                    if (nt > 2) c32 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s12), d1 * *(Vector512<float>*)(g2 + ScaleOffset), c32);
                    if (nt > 3) c33 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s13), d1 * *(Vector512<float>*)(g3 + ScaleOffset), c33);
                }
            }
        }
        if (half)
        {
            int g = ng;
            long wo = (long)g * 1088, po = (long)g * GroupBytes;
            byte* g0 = p0 + po, g1 = p1 + po, g2 = p2 + po, g3 = p3 + po;
            byte* q0 = g0 + TransOffset, q1 = g1 + TransOffset, q2 = g2 + TransOffset, q3 = g3 + TransOffset;
            {
                byte* xa = w0 + wo, xb = w1 + wo;
                Vector256<int> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
                for (int k = 0; k < 1024; k += 64)
                {
                    Vector256<short> va = *(Vector256<short>*)(xa + k);
                    s00 += Avx2.MultiplyAddAdjacent(va, *(Vector256<short>*)(q0 + k));
                    if (nt > 1) s01 += Avx2.MultiplyAddAdjacent(va, *(Vector256<short>*)(q1 + k));
                    if (nt > 2) s02 += Avx2.MultiplyAddAdjacent(va, *(Vector256<short>*)(q2 + k));
                    if (nt > 3) s03 += Avx2.MultiplyAddAdjacent(va, *(Vector256<short>*)(q3 + k));
                    if (nr > 1)
                    {
                        Vector256<short> vb = *(Vector256<short>*)(xb + k);
                        s10 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<short>*)(q0 + k));
                        if (nt > 1) s11 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<short>*)(q1 + k));
                        if (nt > 2) s12 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<short>*)(q2 + k));
                        if (nt > 3) s13 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<short>*)(q3 + k));
                    }
                }
                Vector256<float> d0 = *(Vector256<float>*)(xa + ScaleAt);
                c00 = c00.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s00), d0 * *(Vector256<float>*)(g0 + ScaleOffset), c00.GetLower()));
                if (nt > 1) c01 = c01.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s01), d0 * *(Vector256<float>*)(g1 + ScaleOffset), c01.GetLower()));
                if (nt > 2) c02 = c02.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s02), d0 * *(Vector256<float>*)(g2 + ScaleOffset), c02.GetLower()));
                if (nt > 3) c03 = c03.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s03), d0 * *(Vector256<float>*)(g3 + ScaleOffset), c03.GetLower()));
                if (nr > 1)
                {
                    Vector256<float> d1 = *(Vector256<float>*)(xb + ScaleAt);
                    c10 = c10.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s10), d1 * *(Vector256<float>*)(g0 + ScaleOffset), c10.GetLower()));
                    if (nt > 1) c11 = c11.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s11), d1 * *(Vector256<float>*)(g1 + ScaleOffset), c11.GetLower()));
                    if (nt > 2) c12 = c12.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s12), d1 * *(Vector256<float>*)(g2 + ScaleOffset), c12.GetLower()));
                    if (nt > 3) c13 = c13.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s13), d1 * *(Vector256<float>*)(g3 + ScaleOffset), c13.GetLower()));
                }
            }
            if (nr > 2)
            {
                byte* xa = w2 + wo, xb = w3 + wo;
                Vector256<int> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
                for (int k = 0; k < 1024; k += 64)
                {
                    Vector256<short> va = *(Vector256<short>*)(xa + k);
                    s00 += Avx2.MultiplyAddAdjacent(va, *(Vector256<short>*)(q0 + k));
                    if (nt > 1) s01 += Avx2.MultiplyAddAdjacent(va, *(Vector256<short>*)(q1 + k));
                    if (nt > 2) s02 += Avx2.MultiplyAddAdjacent(va, *(Vector256<short>*)(q2 + k));
                    if (nt > 3) s03 += Avx2.MultiplyAddAdjacent(va, *(Vector256<short>*)(q3 + k));
                    if (nr > 3)
                    {
                        Vector256<short> vb = *(Vector256<short>*)(xb + k);
                        s10 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<short>*)(q0 + k));
                        if (nt > 1) s11 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<short>*)(q1 + k));
                        if (nt > 2) s12 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<short>*)(q2 + k));
                        if (nt > 3) s13 += Avx2.MultiplyAddAdjacent(vb, *(Vector256<short>*)(q3 + k));
                    }
                }
                Vector256<float> d0 = *(Vector256<float>*)(xa + ScaleAt);
                c20 = c20.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s00), d0 * *(Vector256<float>*)(g0 + ScaleOffset), c20.GetLower()));
                if (nt > 1) c21 = c21.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s01), d0 * *(Vector256<float>*)(g1 + ScaleOffset), c21.GetLower()));
                if (nt > 2) c22 = c22.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s02), d0 * *(Vector256<float>*)(g2 + ScaleOffset), c22.GetLower()));
                if (nt > 3) c23 = c23.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s03), d0 * *(Vector256<float>*)(g3 + ScaleOffset), c23.GetLower()));
                if (nr > 3)
                {
                    Vector256<float> d1 = *(Vector256<float>*)(xb + ScaleAt);
                    c30 = c30.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s10), d1 * *(Vector256<float>*)(g0 + ScaleOffset), c30.GetLower()));
                    if (nt > 1) c31 = c31.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s11), d1 * *(Vector256<float>*)(g1 + ScaleOffset), c31.GetLower()));
                    if (nt > 2) c32 = c32.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s12), d1 * *(Vector256<float>*)(g2 + ScaleOffset), c32.GetLower()));
                    if (nt > 3) c33 = c33.WithLower(Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(s13), d1 * *(Vector256<float>*)(g3 + ScaleOffset), c33.GetLower()));
                }
            }
        }
        return ReduceRegs(c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33);
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
