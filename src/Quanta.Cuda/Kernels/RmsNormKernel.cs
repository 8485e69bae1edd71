using ILGPU;
using ILGPU.Runtime;
using Bits = ILGPU.Interop;

namespace Quanta.Cuda.Kernels;

/// <summary>Scalar arguments of <see cref="RmsNormKernel"/>.</summary>
internal struct NormArgs
{
    public int Dim;
    public float Eps;
    public int UseMap;       // 1: source row rowMap[r]
    public int AddResidual;  // 1: x[src] += residual[src] first (written back), the residual add fused in
    public int OutMode;      // 0: F32 into y, 1: BF16 into yBf16, 2: FP8 E4M3 into yFp8 with scale amax/448 in scaleOut[0] (one row only)
    public int AmaxOut;      // 1 (OutMode 0): atomic max of the rows' |y| bit patterns into amaxBits[0] (NaN skipped)
}

/// <summary>
/// RMSNorm of rows: y[r] = x[src(r)] · (1/√(mean(x[src(r)]²) + eps)) · w, one group per output row, sum of squares by a
/// shared-memory tree. src(r) = rowMap[r] when UseMap, else r. With AddResidual the residual add x += residual runs
/// first in the same pass (the result is written back to x). The result goes to y in F32, to yBf16 in BF16 (nearest
/// even), or, for a single row, to yFp8 as FP8 E4M3 codes of y / scale with the per-tensor scale amax(|y|)/448 (1 when
/// zero) in scaleOut[0] — the same codes and scale as <see cref="QuantizeE4M3Kernel"/> gives for that row (NaN skipped
/// by the amax). With AmaxOut (F32 output), each group also folds max |y| of its row into amaxBits[0] by an integer atomic
/// max of the bit patterns (the caller zeroes it first): the per-tensor FP8 scale of the whole output without a separate
/// pass over it. Loads are unrolled four deep so each thread keeps several in flight.
/// Reference: Quanta.Core RmsNorm.ForwardReference (which sums in double).
/// </summary>
internal static class RmsNormKernel
{
    public static void Run(ArrayView<float> x, ArrayView<float> w, ArrayView<float> residual, ArrayView<float> y, ArrayView<ushort> yBf16,
        ArrayView<byte> yFp8, ArrayView<float> scaleOut, ArrayView<int> rowMap, ArrayView<int> amaxBits, NormArgs a)
    {
        var sh = SharedMemory.Allocate<float>(GpuKernels.MaxGroupSize);
        int r = Grid.IdxX, tid = Group.IdxX, g = Group.DimX, dim = a.Dim;
        int src = a.UseMap != 0 ? rowMap[r] : r;
        long xo = (long)src * dim, yo = (long)r * dim;
        float sum = 0f;
        int i = tid;
        if (a.AddResidual != 0)
        {
            for (; i + 3 * g < dim; i += 4 * g)
            {
                float a0 = x[xo + i] + residual[xo + i], a1 = x[xo + i + g] + residual[xo + i + g];
                float a2 = x[xo + i + 2 * g] + residual[xo + i + 2 * g], a3 = x[xo + i + 3 * g] + residual[xo + i + 3 * g];
                x[xo + i] = a0;
                x[xo + i + g] = a1;
                x[xo + i + 2 * g] = a2;
                x[xo + i + 3 * g] = a3;
                sum += a0 * a0 + a1 * a1 + (a2 * a2 + a3 * a3);
            }
            for (; i < dim; i += g)
            {
                float v = x[xo + i] + residual[xo + i];
                x[xo + i] = v;
                sum += v * v;
            }
        }
        else
        {
            for (; i + 3 * g < dim; i += 4 * g)
            {
                float a0 = x[xo + i], a1 = x[xo + i + g], a2 = x[xo + i + 2 * g], a3 = x[xo + i + 3 * g];
                sum += a0 * a0 + a1 * a1 + (a2 * a2 + a3 * a3);
            }
            for (; i < dim; i += g)
            {
                float v = x[xo + i];
                sum += v * v;
            }
        }
        float scale = 1f / MathF.Sqrt(GroupReduce.Sum(sh, sum) / dim + a.Eps);
        Group.Barrier();
        float codeScale = 1f;
        if (a.OutMode == 2)
        {
            // amax of the normalized row, then its codes: the row is recomputed rather than stored
            int m = 0;
            for (int k = tid; k < dim; k += g)
            {
                uint b = Bits.FloatAsInt(x[xo + k] * scale * w[k]) & 0x7FFFFFFFu;
                if (b <= 0x7F800000u) m = IntrinsicMath.Max(m, (int)b);
            }
            float amax = GroupReduce.Max(sh, Bits.IntAsFloat((uint)m));
            codeScale = amax > 0f && amax < float.PositiveInfinity ? amax / 448f : 1f;
            if (tid == 0) scaleOut[0] = codeScale;
        }
        i = tid;
        int mb = 0;
        for (; i + 3 * g < dim; i += 4 * g)
        {
            float a0 = x[xo + i], a1 = x[xo + i + g], a2 = x[xo + i + 2 * g], a3 = x[xo + i + 3 * g];
            float w0 = w[i], w1 = w[i + g], w2 = w[i + 2 * g], w3 = w[i + 3 * g];
            float v0 = a0 * scale * w0, v1 = a1 * scale * w1, v2 = a2 * scale * w2, v3 = a3 * scale * w3;
            Store(y, yBf16, yFp8, yo + i, v0, a.OutMode, codeScale);
            Store(y, yBf16, yFp8, yo + i + g, v1, a.OutMode, codeScale);
            Store(y, yBf16, yFp8, yo + i + 2 * g, v2, a.OutMode, codeScale);
            Store(y, yBf16, yFp8, yo + i + 3 * g, v3, a.OutMode, codeScale);
            mb = IntrinsicMath.Max(IntrinsicMath.Max(AbsBits(mb, v0), AbsBits(mb, v1)), IntrinsicMath.Max(AbsBits(mb, v2), AbsBits(mb, v3)));
        }
        for (; i < dim; i += g)
        {
            float v = x[xo + i] * scale * w[i];
            Store(y, yBf16, yFp8, yo + i, v, a.OutMode, codeScale);
            mb = AbsBits(mb, v);
        }
        if (a.AmaxOut != 0)
        {
            // the whole group takes this branch (an argument): the reduction's barriers are not split
            Group.Barrier();
            float rowMax = GroupReduce.Max(sh, Bits.IntAsFloat((uint)mb));
            if (tid == 0) Atomic.Max(ref amaxBits[0], (int)Bits.FloatAsInt(rowMax));
        }
    }

    /// <summary>max(m, bit pattern of |v|), NaN skipped (non-negative float bit patterns order like the floats).</summary>
    private static int AbsBits(int m, float v)
    {
        uint b = Bits.FloatAsInt(v) & 0x7FFFFFFFu;
        return b <= 0x7F800000u ? IntrinsicMath.Max(m, (int)b) : m;
    }

    private static void Store(ArrayView<float> y, ArrayView<ushort> yBf16, ArrayView<byte> yFp8, long at, float v, int mode, float codeScale)
    {
        if (mode == 1) yBf16[at] = NumberBits.ToBf16(v);
        else if (mode == 2) yFp8[at] = NumberBits.ToE4M3(v / codeScale);
        else y[at] = v;
    }
}
