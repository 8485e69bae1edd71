using System.Buffers.Binary;

namespace Quanta.Core.Formats.Integer;

/// <summary>
/// The Quanta INT4 group row layout shared by <see cref="WeightFormat.Int4G32"/>, <see cref="WeightFormat.Int4G64"/>
/// and <see cref="WeightFormat.Int4G128"/> (G = 32, 64, 128 elements per group), and the group quantizer.
/// <para>A row of n elements (n a multiple of G) is n/G groups stored back to back; one group is
/// <c>4 + G/2</c> bytes, little-endian:</para>
/// <code>
/// offset 0       : Half s            (scale)
/// offset 2       : Half m            (offset term, m = -s * zero for checkpoints with an integer zero point)
/// offset 4 + j   : byte, j = 0..G/2-1: low nibble = q[2j], high nibble = q[2j+1]  (q unsigned 0..15)
/// element k      : w[k] = (float)s * q[k] + (float)m      (one F32 multiply, then one F32 add, no FMA)
/// </code>
/// <para>Integer zero points from GPTQ/AWQ/compressed-tensors map to <c>m = (Half)(-(float)s * zero)</c>;
/// the float product is exact (11-bit mantissa times an integer of at most 5 bits), so only the final
/// conversion to Half rounds.</para>
/// <para>Quantizer (round to nearest): symmetric: <c>s = 2*amax/15</c>, zero = 8 (the grid -8s..7s, GPTQ's and
/// compressed-tensors' symmetric choice); asymmetric: range [min(x,0), max(x,0)], <c>s = (max-min)/15</c>,
/// <c>zero = clamp(round(-min/s), 0, 15)</c> (GPTQ's choice). s is rounded to Half and bumped up by one Half ulp
/// at a time until the fp16 grid covers every element within s/2 (F32 rounding of s to Half could
/// otherwise leave an edge element just outside). Then <c>q = clamp(round_half_even((x - m)/s), 0, 15)</c> using the
/// stored Half values of s and m. Error bound, asserted by the tests: <c>|x - w| &lt;= s/2</c> per element (s the
/// group's stored scale), up to F32 rounding of the arithmetic. A group of zeros gets s = 0, m = 0.</para>
/// </summary>
public static class Int4Group
{
    /// <summary>Bytes of one group of <paramref name="groupSize"/> elements: two Halves plus G/2 packed bytes.</summary>
    public static int GroupBytes(int groupSize) => 4 + groupSize / 2;

    /// <summary>Bytes of a row of <paramref name="n"/> elements; n must be a multiple of the group size.</summary>
    public static long RowBytes(int n, int groupSize)
    {
        CheckGroupSize(groupSize);
        if (n < 0 || n % groupSize != 0) throw new ArgumentException($"INT4 row length {n} is not a multiple of the group size {groupSize}", nameof(n));
        return (long)(n / groupSize) * GroupBytes(groupSize);
    }

    /// <summary>The group size of an INT4 weight format (32, 64 or 128).</summary>
    public static int GroupSizeOf(WeightFormat format) => format switch
    {
        WeightFormat.Int4G32 => 32,
        WeightFormat.Int4G64 => 64,
        WeightFormat.Int4G128 => 128,
        _ => throw new ArgumentException($"{format} is not an INT4 group format", nameof(format)),
    };

    /// <summary>The INT4 weight format for a group size of 32, 64 or 128.</summary>
    public static WeightFormat FormatOf(int groupSize) => groupSize switch
    {
        32 => WeightFormat.Int4G32,
        64 => WeightFormat.Int4G64,
        128 => WeightFormat.Int4G128,
        _ => throw new ArgumentException($"INT4 group size must be 32, 64 or 128, got {groupSize}", nameof(groupSize)),
    };

    /// <summary>Throws unless <paramref name="groupSize"/> is 32, 64 or 128.</summary>
    public static void CheckGroupSize(int groupSize) => FormatOf(groupSize);

    /// <summary>The offset term stored for an integer zero point: <c>(Half)(-(float)scale * zero)</c>.</summary>
    public static Half OffsetFromZero(Half scale, int zero) => (Half)(-(float)scale * zero);

    /// <summary>
    /// Chooses the stored scale and integer zero point of one group (see the type's remarks for the rule).
    /// </summary>
    /// <param name="x">The group's G values.</param>
    /// <param name="symmetric">true: zero = 8, s = 2*amax/15; false: min/max asymmetric.</param>
    /// <param name="scale">Stored Half scale.</param>
    /// <param name="zero">Integer zero point, 0..15 (8 when symmetric).</param>
    public static void ChooseParams(ReadOnlySpan<float> x, bool symmetric, out Half scale, out int zero)
    {
        float min = 0f, max = 0f;
        for (int i = 0; i < x.Length; i++) { min = MathF.Min(min, x[i]); max = MathF.Max(max, x[i]); }
        if (symmetric)
        {
            float amax = MathF.Max(-min, max);
            min = -amax;
            max = amax;
        }
        zero = symmetric ? 8 : 0;
        scale = Half.Zero;
        if (max == min) return; // all zeros
        float s = symmetric ? 2f * max / 15f : (max - min) / 15f;
        Half h = (Half)s;
        if (Half.IsInfinity(h)) h = Half.MaxValue;
        for (int attempt = 0; attempt < 64; attempt++)
        {
            double sd = (double)h;
            int z = symmetric ? 8 : (int)Math.Clamp(Math.Round(-min / sd, MidpointRounding.ToEven), 0, 15);
            double m = (double)OffsetFromZero(h, z);
            bool covered = sd > 0 && min >= m - sd / 2 && max <= m + 15.5 * sd;
            scale = h;
            zero = z;
            if (covered || h == Half.MaxValue) return;
            h = BitConverter.UInt16BitsToHalf((ushort)(BitConverter.HalfToUInt16Bits(h) + 1));
        }
    }

    /// <summary>The 4-bit code of one value given a group's stored scale and offset (round half to even, clamped to 0..15).</summary>
    public static int QuantizeValue(float x, float scale, float offset, int zero)
    {
        if (scale == 0f) return zero;
        float q = MathF.Round((x - offset) / scale, MidpointRounding.ToEven);
        return (int)Math.Clamp(q, 0f, 15f);
    }

    /// <summary>
    /// Writes one group in the Quanta layout from its scale, offset and G codes (0..15).
    /// <paramref name="dst"/> holds <see cref="GroupBytes"/>(G) bytes.
    /// </summary>
    public static void WriteGroup(Span<byte> dst, Half scale, Half offset, ReadOnlySpan<byte> codes)
    {
        int g = codes.Length;
        BinaryPrimitives.WriteHalfLittleEndian(dst, scale);
        BinaryPrimitives.WriteHalfLittleEndian(dst.Slice(2), offset);
        Span<byte> packed = dst.Slice(4, g / 2);
        for (int j = 0; j < g / 2; j++)
            packed[j] = (byte)((codes[2 * j] & 0xF) | ((codes[2 * j + 1] & 0xF) << 4));
    }

    /// <summary>Quantizes one group of F32 values into its Quanta bytes (the scalar reference quantizer).</summary>
    public static void QuantizeGroup(ReadOnlySpan<float> x, bool symmetric, Span<byte> dst, Span<byte> codes, out Half scale, out int zero)
    {
        ChooseParams(x, symmetric, out scale, out zero);
        Half offset = OffsetFromZero(scale, zero);
        float s = (float)scale, m = (float)offset;
        for (int k = 0; k < x.Length; k++) codes[k] = (byte)QuantizeValue(x[k], s, m, zero);
        WriteGroup(dst, scale, offset, codes.Slice(0, x.Length));
    }
}
