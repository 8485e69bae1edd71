namespace Quanta.Core.Formats.Integer;

/// <summary>
/// A group-quantized INT4 weight matrix in a packing-neutral form: the common ground between Quanta rows and
/// the GPTQ / AWQ / compressed-tensors checkpoint packings. The matrix is the nn.Linear weight
/// <c>W [OutFeatures, InFeatures]</c>; groups run along the input dimension. Element (o, i) dequantizes to
/// <c>Scales[o, i/G] * (Codes[o, i] - Zeros[o, i/G])</c>, written to Quanta rows as
/// <c>s*q + m</c> with <c>m = (Half)(-s*zero)</c> (see <see cref="Int4Group"/>).
/// </summary>
public sealed class Int4QuantizedMatrix
{
    /// <summary>Creates an empty (all-zero) matrix; in and out must be positive, in a multiple of the group size.</summary>
    public Int4QuantizedMatrix(int outFeatures, int inFeatures, int groupSize)
    {
        Int4Group.CheckGroupSize(groupSize);
        if (outFeatures <= 0 || inFeatures <= 0 || inFeatures % groupSize != 0)
            throw new ArgumentException($"INT4 matrix [{outFeatures}, {inFeatures}] needs positive sizes and in_features a multiple of the group size {groupSize}");
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        GroupSize = groupSize;
        Codes = new byte[checked(outFeatures * inFeatures)];
        Scales = new Half[outFeatures * (inFeatures / groupSize)];
        Zeros = new byte[Scales.Length];
    }

    /// <summary>Rows of W (output features).</summary>
    public int OutFeatures { get; }

    /// <summary>Columns of W (input features).</summary>
    public int InFeatures { get; }

    /// <summary>Elements per group along the input dimension.</summary>
    public int GroupSize { get; }

    /// <summary>Groups per row (<c>InFeatures / GroupSize</c>).</summary>
    public int GroupsPerRow => InFeatures / GroupSize;

    /// <summary>Codes 0..15, row-major <c>[OutFeatures, InFeatures]</c>.</summary>
    public byte[] Codes { get; }

    /// <summary>Scales, row-major <c>[OutFeatures, GroupsPerRow]</c>.</summary>
    public Half[] Scales { get; }

    /// <summary>Integer zero points 0..16 (16 only arises from a GPTQ v1 nibble of 15), <c>[OutFeatures, GroupsPerRow]</c>.</summary>
    public byte[] Zeros { get; }

    /// <summary>
    /// The packer: quantizes an F32 matrix <c>w [outFeatures, inFeatures]</c> group by group with the rule of
    /// <see cref="Int4Group"/> (round to nearest; symmetric or asymmetric min/max). Produces the same
    /// Quanta rows as <see cref="Int4RowCodec.Quantize"/> row by row.
    /// </summary>
    public static Int4QuantizedMatrix FromF32(ReadOnlySpan<float> w, int outFeatures, int inFeatures, int groupSize, bool symmetric)
    {
        var m = new Int4QuantizedMatrix(outFeatures, inFeatures, groupSize);
        if (w.Length != (long)outFeatures * inFeatures) throw new ArgumentException($"weight has {w.Length} values, expected {outFeatures}x{inFeatures}", nameof(w));
        Span<byte> scratch = stackalloc byte[Int4Group.GroupBytes(128)];
        int gpr = m.GroupsPerRow;
        for (int o = 0; o < outFeatures; o++)
            for (int g = 0; g < gpr; g++)
            {
                int at = o * inFeatures + g * groupSize;
                Int4Group.QuantizeGroup(w.Slice(at, groupSize), symmetric, scratch, m.Codes.AsSpan(at, groupSize), out Half s, out int z);
                m.Scales[o * gpr + g] = s;
                m.Zeros[o * gpr + g] = (byte)z;
            }
        return m;
    }

    /// <summary>Bytes of one Quanta row of this matrix.</summary>
    public long RowBytes => Int4Group.RowBytes(InFeatures, GroupSize);

    /// <summary>Writes all rows in the Quanta INT4 layout: <paramref name="dst"/> is <c>[OutFeatures][RowBytes]</c>.</summary>
    public void WriteRows(Span<byte> dst)
    {
        long need = RowBytes * OutFeatures;
        if (dst.Length < need) throw new ArgumentException($"rows need {need} bytes, got {dst.Length}", nameof(dst));
        int gb = Int4Group.GroupBytes(GroupSize), gpr = GroupsPerRow;
        for (int o = 0; o < OutFeatures; o++)
            for (int g = 0; g < gpr; g++)
            {
                Half s = Scales[o * gpr + g];
                Int4Group.WriteGroup(dst.Slice((o * gpr + g) * gb, gb), s, Int4Group.OffsetFromZero(s, Zeros[o * gpr + g]),
                    Codes.AsSpan(o * InFeatures + g * GroupSize, GroupSize));
            }
    }

    /// <summary>Convenience: the Quanta rows as a new array.</summary>
    public byte[] ToRows()
    {
        var rows = new byte[RowBytes * OutFeatures];
        WriteRows(rows);
        return rows;
    }
}
