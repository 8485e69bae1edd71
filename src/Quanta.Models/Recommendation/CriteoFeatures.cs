using System.Globalization;

namespace Quanta.Models.Recommendation;

/// <summary>
/// Criteo display-ads rows (label, 13 integer features I1..I13, 26 categorical features C1..C26 as hex strings;
/// comma- or tab-separated, empty = missing) turned into DLRM inputs: dense values as given (missing = 0; the model
/// applies log(1 + max(x, 0))), and each categorical feature hashed into <see cref="BagSize"/> rows of its own
/// table: index = feature · TableRows + FNV-1a(value, seed = bag slot) mod TableRows (a missing value hashes the
/// empty string). The same hashing must be used when the model is trained and when it is served.
/// </summary>
public sealed class CriteoFeatures(int tableRows, int bagSize)
{
    /// <summary>Number of dense features.</summary>
    public const int DenseCount = 13;
    /// <summary>Number of categorical features.</summary>
    public const int SparseCount = 26;

    /// <summary>Rows of each feature's table (the stacked table has SparseCount · TableRows rows).</summary>
    public int TableRows { get; } = tableRows > 0 ? tableRows : throw new ArgumentOutOfRangeException(nameof(tableRows));
    /// <summary>Indices per categorical feature (their embeddings are summed: an embedding bag).</summary>
    public int BagSize { get; } = bagSize > 0 ? bagSize : throw new ArgumentOutOfRangeException(nameof(bagSize));

    /// <summary>Parses one row: label, dense [13], sparse indices [26, BagSize] into the stacked table.</summary>
    public (int Label, float[] Dense, long[] Sparse) Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var f = line.Split(line.Contains('\t', StringComparison.Ordinal) ? '\t' : ',');
        if (f.Length != 1 + DenseCount + SparseCount) throw new FormatException($"Criteo row has {f.Length} fields, expected {1 + DenseCount + SparseCount}");
        int label = int.Parse(f[0], CultureInfo.InvariantCulture);
        var dense = new float[DenseCount];
        for (int i = 0; i < DenseCount; i++)
            dense[i] = f[1 + i].Length == 0 ? 0 : float.Parse(f[1 + i], CultureInfo.InvariantCulture);
        var sparse = new long[SparseCount * BagSize];
        for (int j = 0; j < SparseCount; j++)
            for (int s = 0; s < BagSize; s++)
                sparse[j * BagSize + s] = (long)j * TableRows + Fnv1a(f[1 + DenseCount + j], (uint)s) % (uint)TableRows;
        return (label, dense, sparse);
    }

    private static uint Fnv1a(string s, uint seed)
    {
        uint h = 2166136261u ^ (seed * 0x9E3779B9u);
        foreach (char c in s) { h ^= c; h *= 16777619u; }
        return h;
    }
}
