using ILGPU;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// SwiGLU on the fused gate/up product: gu [tokens, 2·ffn] holds gate in columns [0, ffn) and up in [ffn, 2·ffn);
/// y[t, j] = silu(g)·u with silu(g) = g / (1 + e^(−g)). Reference: Quanta.Core SwiGlu.ForwardReference.
/// </summary>
internal static class SwiGluKernel
{
    public static void Run(Index2D i, ArrayView<float> gu, ArrayView<float> y, int ffn)
    {
        int j = i.X, t = i.Y;   // (column, token): no division per element
        long b = (long)t * 2 * ffn;
        float g = gu[b + j], u = gu[b + ffn + j];
        y[(long)t * ffn + j] = g / (1f + KernelMath.Exp(-g)) * u;
    }
}

/// <summary>SwiGLU (see <see cref="SwiGluKernel"/>) with the result rounded to BF16 (nearest even) for the next product.</summary>
internal static class SwiGluToBf16Kernel
{
    public static void Run(Index2D i, ArrayView<float> gu, ArrayView<ushort> y, int ffn)
    {
        int j = i.X, t = i.Y;
        long b = (long)t * 2 * ffn;
        float g = gu[b + j], u = gu[b + ffn + j];
        y[(long)t * ffn + j] = NumberBits.ToBf16(g / (1f + KernelMath.Exp(-g)) * u);
    }
}

/// <summary>
/// SwiGLU (see <see cref="SwiGluKernel"/>, the same float operations) that also folds max |y| (NaN skipped) into
/// amaxBits[0] (zeroed by the caller) as an integer atomic max of the bit patterns, one atomic per group: the per-tensor
/// FP8 scale of the output without a separate pass. Groups stride over the token rows, threads over a row's columns.
/// </summary>
internal static class SwiGluAmaxKernel
{
    public static void Run(ArrayView<float> gu, ArrayView<float> y, ArrayView<int> amaxBits, int tokens, int ffn)
    {
        var sh = SharedMemory.Allocate<int>(GpuKernels.MaxGroupSize);
        int tid = Group.IdxX, g = Group.DimX;
        int m = 0;
        for (int t = Grid.IdxX; t < tokens; t += Grid.DimX)
        {
            long b = (long)t * 2 * ffn, yo = (long)t * ffn;
            for (int j = tid; j < ffn; j += g)
            {
                float gate = gu[b + j], up = gu[b + ffn + j];
                float v = gate / (1f + KernelMath.Exp(-gate)) * up;
                y[yo + j] = v;
                uint bits = ILGPU.Interop.FloatAsInt(v) & 0x7FFFFFFFu;
                if (bits <= 0x7F800000u) m = IntrinsicMath.Max(m, (int)bits);
            }
        }
        int groupMax = GroupReduce.Max(sh, m);
        if (tid == 0) Atomic.Max(ref amaxBits[0], groupMax);
    }
}

/// <summary>Residual add in place: x[i] += y[i]. Reference: Quanta.Core Add.ForwardReference.</summary>
internal static class ResidualAddKernel
{
    public static void Run(Index1D i, ArrayView<float> x, ArrayView<float> y) => x[i] += y[i];
}

/// <summary>Adds a bias row to columns [offset, offset + width) of every row of a strided buffer (QKV biases); index (column, row).</summary>
internal static class BiasAddKernel
{
    public static void Run(Index2D idx, ArrayView<float> x, ArrayView<float> bias, int rowStride, int offset)
    {
        x[(long)idx.Y * rowStride + offset + idx.X] += bias[idx.X];
    }
}

/// <summary>
/// Per-output-channel scale of a matrix product's result: y[r, j] ·= scale[j] (FP8 weights with per-channel scales:
/// cuBLASLt applies the per-tensor activation scale, this kernel the weight row scales).
/// </summary>
internal static class ChannelScaleKernel
{
    public static void Run(Index1D i, ArrayView<float> y, ArrayView<float> scale, int n) => y[i] *= scale[i % n];
}

/// <summary>Embedding lookup from a BF16 table [vocab, dim]: x[t, i] = bf16(table[tokens[t], i])·scale.</summary>
internal static class EmbeddingKernel
{
    public static void Run(Index1D i, ArrayView<ushort> table, ArrayView<int> tokens, ArrayView<float> x, int dim, float scale)
    {
        int t = i / dim, e = i - t * dim;
        float v = NumberBits.FromBf16(table[(long)tokens[t] * dim + e]);
        x[i] = scale == 1f ? v : v * scale;
    }
}
