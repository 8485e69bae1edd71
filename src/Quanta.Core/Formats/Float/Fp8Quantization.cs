using System.Buffers.Binary;

namespace Quanta.Core.Formats.Float;

/// <summary>The two OCP FP8 encodings.</summary>
public enum Fp8Format
{
    /// <summary>See <see cref="Fp8E4M3"/>: bias 7, max 448, no infinities.</summary>
    E4M3,
    /// <summary>See <see cref="Fp8E5M2"/>: bias 15, max 57344, IEEE-style inf/NaN.</summary>
    E5M2,
}

/// <summary>
/// Scaled FP8 quantization as FP8 checkpoints store it: <c>value = decode(code) * scale</c>, with either one scale
/// for the whole tensor (per-tensor) or one per row / output channel (per-channel). The scale maps the largest
/// finite magnitude onto the format's maximum: <c>scale = amax / 448</c> (E4M3) or <c>amax / 57344</c> (E5M2);
/// an all-zero (or all non-finite) input, or an amax so small that the division underflows, gets scale 1.
/// Codes are <c>Encode(x / scale)</c>, saturating; NaN stays NaN, +-inf saturates to +-max.
/// Error bound (asserted by the tests): for |x / scale| at or above the smallest normal (2^-6 for E4M3,
/// 2^-14 for E5M2) the dequantized value is within relative error 2^-4 (E4M3) or 2^-3 (E5M2) of x, plus two
/// F32 roundings; below it the absolute error is at most half a subnormal step times the scale.
/// Matrices are row-major: element (r, c) at index r * cols + c.
/// </summary>
public static class Fp8Quantization
{
    /// <summary>Largest finite magnitude of <paramref name="format"/>.</summary>
    public static float MaxValue(Fp8Format format) => format == Fp8Format.E4M3 ? Fp8E4M3.MaxValue : Fp8E5M2.MaxValue;

    /// <summary>Scalar reference encode in <paramref name="format"/> (round to nearest even).</summary>
    public static byte Encode(float value, Fp8Format format, bool saturate = true) =>
        format == Fp8Format.E4M3 ? Fp8E4M3.Encode(value, saturate) : Fp8E5M2.Encode(value, saturate);

    /// <summary>Exact decode of one code of <paramref name="format"/>.</summary>
    public static float Decode(byte code, Fp8Format format) =>
        format == Fp8Format.E4M3 ? Fp8E4M3.Decode(code) : Fp8E5M2.Decode(code);

    /// <summary>Largest finite |value| (NaN and +-inf are ignored); 0 for an empty or all non-finite span.</summary>
    public static float AbsMax(ReadOnlySpan<float> values)
    {
        float m = 0;
        foreach (float v in values)
        {
            float a = MathF.Abs(v);
            if (float.IsFinite(a) && a > m) m = a;
        }
        return m;
    }

    /// <summary>The scale that maps <paramref name="amax"/> onto the format's maximum (1 when that is not a positive number).</summary>
    public static float ScaleFor(float amax, Fp8Format format)
    {
        float s = amax / MaxValue(format);
        return s > 0 && float.IsFinite(s) ? s : 1f;
    }

    /// <summary>Quantizes a row with a given scale: <paramref name="codes"/>[i] = Encode(<paramref name="src"/>[i] / scale).</summary>
    public static void QuantizeRow(ReadOnlySpan<float> src, float scale, Fp8Format format, Span<byte> codes)
    {
        if (format == Fp8Format.E4M3) Fp8E4M3.EncodeRow(src, scale, codes);
        else Fp8E5M2.EncodeRow(src, scale, codes);
    }

    /// <summary>
    /// Per-tensor quantization of a [rows, cols] matrix (any shape: only the element count matters):
    /// one scale from the whole tensor's amax. Returns the scale; <paramref name="codes"/> receives one byte per element.
    /// </summary>
    public static float QuantizePerTensor(ReadOnlySpan<float> matrix, Fp8Format format, Span<byte> codes)
    {
        if (codes.Length < matrix.Length) throw new ArgumentException("codes shorter than matrix", nameof(codes));
        float scale = ScaleFor(AbsMax(matrix), format);
        QuantizeRow(matrix, scale, format, codes);
        return scale;
    }

    /// <summary>
    /// Per-channel quantization of a row-major [rows, cols] matrix: row r gets
    /// <paramref name="scales"/>[r] = ScaleFor(amax of row r). <paramref name="codes"/>: [rows, cols] bytes.
    /// </summary>
    public static void QuantizePerChannel(ReadOnlySpan<float> matrix, int rows, int cols, Fp8Format format, Span<byte> codes, Span<float> scales)
    {
        CheckShape(matrix.Length, rows, cols);
        if (codes.Length < matrix.Length) throw new ArgumentException("codes shorter than matrix", nameof(codes));
        if (scales.Length < rows) throw new ArgumentException("need one scale per row", nameof(scales));
        for (int r = 0; r < rows; r++)
        {
            var row = matrix.Slice(r * cols, cols);
            scales[r] = ScaleFor(AbsMax(row), format);
            QuantizeRow(row, scales[r], format, codes.Slice(r * cols, cols));
        }
    }

    /// <summary>
    /// Dequantizes a row-major [rows, cols] code matrix: <paramref name="scales"/> holds one value (per-tensor) or
    /// <paramref name="rows"/> values (per-channel). Vectorized; <paramref name="dst"/>: [rows, cols].
    /// </summary>
    public static void Dequantize(ReadOnlySpan<byte> codes, int rows, int cols, Fp8Format format, ReadOnlySpan<float> scales, Span<float> dst)
    {
        CheckShape(codes.Length, rows, cols);
        if (dst.Length < codes.Length) throw new ArgumentException("destination shorter than codes", nameof(dst));
        if (scales.Length != 1 && scales.Length != rows) throw new ArgumentException("need 1 (per-tensor) or rows (per-channel) scales", nameof(scales));
        for (int r = 0; r < rows; r++)
        {
            float scale = scales.Length == 1 ? scales[0] : scales[r];
            var src = codes.Slice(r * cols, cols);
            var d = dst.Slice(r * cols, cols);
            if (format == Fp8Format.E4M3) Fp8E4M3.DecodeRow(src, scale, d);
            else Fp8E5M2.DecodeRow(src, scale, d);
        }
    }

    /// <summary>
    /// Packs codes and scales (1 per-tensor value, or one per row) into the <see cref="WeightFormat.Fp8E4M3"/> /
    /// <see cref="WeightFormat.Fp8E5M2"/> row layout: each row is [float32 scale, little-endian][cols code bytes],
    /// so <paramref name="dst"/> needs rows * (4 + cols) bytes.
    /// </summary>
    public static void PackRows(ReadOnlySpan<byte> codes, int rows, int cols, ReadOnlySpan<float> scales, Span<byte> dst)
    {
        CheckShape(codes.Length, rows, cols);
        if (scales.Length != 1 && scales.Length != rows) throw new ArgumentException("need 1 (per-tensor) or rows (per-channel) scales", nameof(scales));
        int rowBytes = 4 + cols;
        if (dst.Length < (long)rows * rowBytes) throw new ArgumentException("destination too small", nameof(dst));
        for (int r = 0; r < rows; r++)
        {
            var row = dst.Slice(r * rowBytes, rowBytes);
            BinaryPrimitives.WriteSingleLittleEndian(row, scales.Length == 1 ? scales[0] : scales[r]);
            codes.Slice(r * cols, cols).CopyTo(row[4..]);
        }
    }

    private static void CheckShape(int length, int rows, int cols)
    {
        if (rows < 0 || cols < 0 || (long)rows * cols != length)
            throw new ArgumentException($"matrix of {length} elements is not [{rows}, {cols}]");
    }
}
