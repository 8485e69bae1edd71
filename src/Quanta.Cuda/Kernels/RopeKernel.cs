using ILGPU;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// Rotary embedding in place on heads stored in a strided buffer: token t's heads start at t·rowStride + colOffset,
/// [nHeads, headDim]. One thread per (pair·head, token): the index's X (fastest) runs along the row, so a warp's loads are contiguous; pair i rotates dims (2i, 2i+1) in the normal layout or
/// (i, i + nRot/2) in NeoX, with the expanded tables of Quanta.Core Rope.ExpandTables: c, s [maxPositions, nRot],
/// y_j = x_j·C_j + x_partner·S_j (S negative on the pair's first member). Llama-3 frequency factors, linear scaling and
/// the attention factor live in the tables. Reference: Rope.Apply.
/// </summary>
internal static class RopeKernel
{
    public static void Run(Index2D idx, ArrayView<float> x, ArrayView<int> positions, ArrayView<float> c, ArrayView<float> s,
        int rowStride, int colOffset, int headDim, int nRot, int neox)
    {
        int t = idx.Y, hp = idx.X, half = nRot / 2;
        int h = hp / half, i = hp - h * half;
        int j0 = neox != 0 ? i : 2 * i, j1 = neox != 0 ? i + half : 2 * i + 1;
        long b = (long)t * rowStride + colOffset + (long)h * headDim;
        long tb = (long)positions[t] * nRot;
        float x0 = x[b + j0], x1 = x[b + j1];
        x[b + j0] = x0 * c[tb + j0] + x1 * s[tb + j0];
        x[b + j1] = x1 * c[tb + j1] + x0 * s[tb + j1];
    }
}
