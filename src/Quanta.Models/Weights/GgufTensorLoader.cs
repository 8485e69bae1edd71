using Quanta.Core.Formats;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Gguf;

namespace Quanta.Models.Weights;

/// <summary>
/// Reads weights out of a <see cref="GgufFile"/>: matrices zero-copy (a <see cref="WeightMatrix"/> view into the
/// mapping, so the file must outlive them), vectors (norms, biases) copied to F32 through the tensor type's codec.
/// A GGUF matrix has ne0 = input dim (cols) and ne1 = output dim (rows), rows contiguous.
/// </summary>
public static class GgufTensorLoader
{
    /// <summary>The matrix <paramref name="name"/>, which must be [rows, cols] (ne0 = cols, ne1 = rows).</summary>
    public static WeightMatrix Matrix(GgufFile file, string name, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(file);
        GgufTensorInfo t = file.GetTensor(name);
        long ne1 = t.Rank >= 2 ? t.Shape[1] : 1;
        for (int d = 2; d < t.Rank; d++)
            if (t.Shape[d] != 1) throw new ModelFileException(file.FilePath, $"tensor '{name}' has rank {t.Rank}; a matrix was expected");
        if (t.Shape[0] != cols || ne1 != rows)
            throw new ModelFileException(file.FilePath, $"tensor '{name}' has shape [{t.Shape[0]}, {ne1}] (ne0, ne1), expected [{cols}, {rows}]");
        if (!CodecRegistry.TryGetWeightFormat(t.Type, out WeightFormat format))
            throw new ModelFileException(file.FilePath, $"tensor '{name}' has type {t.Type}, which has no matrix kernel");
        return WeightMatrix.View(format, rows, cols, file.Region, t.FileOffset, file);
    }

    /// <summary>Like <see cref="Matrix"/>, or null when the tensor is absent.</summary>
    public static WeightMatrix? OptionalMatrix(GgufFile file, string name, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.TryGetTensor(name, out _) ? Matrix(file, name, rows, cols) : null;
    }

    /// <summary>The vector <paramref name="name"/> ([length] elements of any codec type) as F32.</summary>
    public static float[] Vector(GgufFile file, string name, int length)
    {
        ArgumentNullException.ThrowIfNull(file);
        GgufTensorInfo t = file.GetTensor(name);
        if (t.ElementCount != length)
            throw new ModelFileException(file.FilePath, $"tensor '{name}' has {t.ElementCount} elements, expected {length}");
        var result = new float[length];
        IRowCodec codec = CodecRegistry.For(t.Type);
        codec.Dequantize(file.GetTensorData(t), result);
        return result;
    }

    /// <summary>Like <see cref="Vector"/>, or null when the tensor is absent.</summary>
    public static float[]? OptionalVector(GgufFile file, string name, int length)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.TryGetTensor(name, out _) ? Vector(file, name, length) : null;
    }
}
