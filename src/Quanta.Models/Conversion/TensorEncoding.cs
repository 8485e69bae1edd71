using System.Runtime.InteropServices;
using Quanta.Core.Formats;

namespace Quanta.Models.Conversion;

/// <summary>
/// Row-wise conversion of F32 matrices to stored GGUF bytes and back through <see cref="CodecRegistry"/> (the GGUF
/// block formats are bit-identical to ggml's reference quantizers). Rows are independent, so large tensors are
/// encoded on several threads; the result does not depend on the thread count.
/// </summary>
public static class TensorEncoding
{
    /// <summary>
    /// Encodes a row-major [rows, cols] F32 matrix as <paramref name="type"/>; cols must be a multiple of the type's
    /// block size. Returns rows · RowBytes(cols) bytes.
    /// </summary>
    public static byte[] Encode(ReadOnlySpan<float> values, int rows, int cols, GgmlType type)
    {
        if ((long)rows * cols != values.Length) throw new ArgumentException($"{values.Length} values are not [{rows}, {cols}]", nameof(values));
        IRowCodec codec = CodecRegistry.For(type);
        if (cols % codec.BlockSize != 0) throw new ArgumentException($"row length {cols} is not a multiple of the {type} block size {codec.BlockSize}");
        int rb = checked((int)codec.RowBytes(cols));
        var dst = new byte[checked((long)rb * rows)];
        if (type == GgmlType.F32)
        {
            MemoryMarshal.AsBytes(values).CopyTo(dst);
            return dst;
        }
        float[] src = values.ToArray();
        const int RowsPerTask = 64;
        int tasks = (rows + RowsPerTask - 1) / RowsPerTask;
        Parallel.For(0, tasks, t =>
        {
            int end = Math.Min(rows, (t + 1) * RowsPerTask);
            for (int r = t * RowsPerTask; r < end; r++)
                codec.Quantize(src.AsSpan(r * cols, cols), dst.AsSpan(r * rb, rb));
        });
        return dst;
    }

    /// <summary>Decodes stored rows of <paramref name="type"/> (each <paramref name="cols"/> long) to F32 ([rows, cols]).</summary>
    public static float[] Decode(ReadOnlySpan<byte> data, long rows, int cols, GgmlType type)
    {
        IRowCodec codec = CodecRegistry.For(type);
        int rb = checked((int)codec.RowBytes(cols));
        if (data.Length != rb * rows) throw new ArgumentException($"{data.Length} bytes are not {rows} rows of {cols} {type} values");
        var dst = new float[checked(rows * cols)];
        for (long r = 0; r < rows; r++)
            codec.Dequantize(data.Slice((int)(r * rb), rb), dst.AsSpan((int)(r * cols), cols));
        return dst;
    }
}
