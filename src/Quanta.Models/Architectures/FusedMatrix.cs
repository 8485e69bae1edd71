using Quanta.Models.Weights;

namespace Quanta.Models.Architectures;

/// <summary>
/// Splits fused projection matrices (Phi-3's attn_qkv = [Q; K; V] and ffn_up = [gate; up]) into per-projection
/// matrices without copying: a block of consecutive rows of a row-major matrix is itself a row-major matrix starting at
/// its first row's bytes. The slices view the fused matrix's memory, which must be a view itself (a mapped file that
/// outlives them), never owned memory.
/// </summary>
public static class FusedMatrix
{
    /// <summary>Rows [<paramref name="firstRow"/>, <paramref name="firstRow"/> + <paramref name="rows"/>) of <paramref name="fused"/> as a matrix [rows, Cols].</summary>
    public static WeightMatrix Rows(WeightMatrix fused, int firstRow, int rows)
    {
        ArgumentNullException.ThrowIfNull(fused);
        return fused.RowsView(firstRow, rows);
    }

    /// <summary>
    /// Splits <paramref name="fused"/> ([sum of sizes, Cols]) into consecutive row blocks of the given sizes; the sizes
    /// must add up to its row count.
    /// </summary>
    public static WeightMatrix[] Split(WeightMatrix fused, params ReadOnlySpan<int> sizes)
    {
        ArgumentNullException.ThrowIfNull(fused);
        long total = 0;
        foreach (int s in sizes) total += s;
        if (total != fused.Rows)
            throw new InvalidDataException($"fused matrix has {fused.Rows} rows, the parts add up to {total}");
        var parts = new WeightMatrix[sizes.Length];
        int at = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            parts[i] = Rows(fused, at, sizes[i]);
            at += sizes[i];
        }
        return parts;
    }
}
