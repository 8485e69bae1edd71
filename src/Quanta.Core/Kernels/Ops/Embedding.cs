using Quanta.Core.Formats;

namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// Token embedding lookup: the table is <c>[vocab, dim]</c> stored row-major in any <see cref="IRowCodec"/> format,
/// each row <c>codec.RowBytes(dim)</c> bytes; row <c>token</c> is dequantized into <c>output[0..dim)</c>.
/// The SIMD work (and its <see cref="Simd.KernelPaths"/> record) belongs to the codec's
/// <see cref="IRowCodec.Dequantize"/>. Never allocates.
/// </summary>
public static class Embedding
{
    /// <summary>Dequantizes row <paramref name="token"/> with the codec's vectorized path.</summary>
    public static void Lookup(IRowCodec codec, ReadOnlySpan<byte> table, int dim, int token, Span<float> output)
    {
        ReadOnlySpan<byte> row = Row(codec, table, dim, token, output);
        codec.Dequantize(row, output[..dim]);
    }

    /// <summary>Same as <see cref="Lookup"/> with the codec's scalar reference.</summary>
    public static void LookupReference(IRowCodec codec, ReadOnlySpan<byte> table, int dim, int token, Span<float> output)
    {
        ReadOnlySpan<byte> row = Row(codec, table, dim, token, output);
        codec.DequantizeReference(row, output[..dim]);
    }

    /// <summary>Number of rows (vocabulary size) a table of <paramref name="tableBytes"/> bytes holds.</summary>
    public static long RowCount(IRowCodec codec, long tableBytes, int dim) => tableBytes / codec.RowBytes(dim);

    private static ReadOnlySpan<byte> Row(IRowCodec codec, ReadOnlySpan<byte> table, int dim, int token, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(codec);
        if (dim <= 0 || dim % codec.BlockSize != 0)
            throw new ArgumentOutOfRangeException(nameof(dim), dim, $"Must be a positive multiple of {codec.BlockSize}.");
        if (output.Length < dim) throw new ArgumentException("Output is shorter than dim.", nameof(output));
        long rowBytes = codec.RowBytes(dim);
        long rows = table.Length / rowBytes;
        if ((uint)token >= (ulong)rows) throw new ArgumentOutOfRangeException(nameof(token), token, $"Table holds {rows} rows.");
        return table.Slice((int)(token * rowBytes), (int)rowBytes);
    }
}
