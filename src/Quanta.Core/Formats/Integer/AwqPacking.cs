namespace Quanta.Core.Formats.Integer;

/// <summary>The tensors of one AWQ GEMM-packed linear layer (4 bits).</summary>
/// <param name="QWeight">int32 <c>[in_features, out_features/8]</c>.</param>
/// <param name="QZeros">int32 <c>[in_features/group, out_features/8]</c>.</param>
/// <param name="Scales">fp16 <c>[in_features/group, out_features]</c>.</param>
public sealed record AwqTensors(int[] QWeight, int[] QZeros, Half[] Scales);

/// <summary>
/// AutoAWQ "gemm" packing (the version="gemm" checkpoints transformers and vLLM load), 4 bits.
/// <para>Layout, for W <c>[out, in]</c>, group G:</para>
/// <list type="bullet">
/// <item><c>qweight</c> int32 <c>[in, out/8]</c>: packed along the OUTPUT dimension in AWQ's interleaved order.
/// Word <c>(i, c)</c> covers output columns <c>8c .. 8c+7</c>; the nibble at bits <c>4*j</c> holds column
/// <c>8c + Order[j]</c> with <c>Order = [0, 2, 4, 6, 1, 3, 5, 7]</c> (AutoAWQ's pack loop ORs
/// <c>intweight[:, 8c + order_map[j]] &lt;&lt; 4j</c>). Inversely column <c>8c + k</c> sits in nibble
/// <c>ReverseOrder[k]</c>, <c>ReverseOrder = [0, 4, 1, 5, 2, 6, 3, 7]</c> (AWQ_REVERSE_ORDER in AutoAWQ's and
/// vLLM's dequantize: shifts 0,4,..,28 unpack nibbles, then columns are gathered with the reverse order).</item>
/// <item><c>qzeros</c> int32 <c>[in/G, out/8]</c>: same packing and order; the nibble is the zero itself (0..15, no offset).</item>
/// <item><c>scales</c> fp16 <c>[in/G, out]</c>.</item>
/// </list>
/// <para>Dequantization: <c>w(o, i) = scale(i/G, o) * (q(o, i) - zero(i/G, o))</c>.</para>
/// </summary>
public static class AwqPacking
{
    /// <summary>Nibble j of a word holds output column 8c + Order[j].</summary>
    public static ReadOnlySpan<byte> Order => [0, 2, 4, 6, 1, 3, 5, 7];

    /// <summary>Output column 8c + k lives in nibble ReverseOrder[k].</summary>
    public static ReadOnlySpan<byte> ReverseOrder => [0, 4, 1, 5, 2, 6, 3, 7];

    /// <summary>Converts AWQ tensors into Quanta INT4 rows: <paramref name="dstRows"/> is <c>[outFeatures][Int4Group.RowBytes(inFeatures, groupSize)]</c>.</summary>
    public static void UnpackToRows(ReadOnlySpan<int> qweight, ReadOnlySpan<int> qzeros, ReadOnlySpan<Half> scales,
        int inFeatures, int outFeatures, int groupSize, Span<byte> dstRows) =>
        Unpack(qweight, qzeros, scales, inFeatures, outFeatures, groupSize).WriteRows(dstRows);

    /// <summary>Converts AWQ tensors into the packing-neutral form.</summary>
    public static Int4QuantizedMatrix Unpack(ReadOnlySpan<int> qweight, ReadOnlySpan<int> qzeros, ReadOnlySpan<Half> scales,
        int inFeatures, int outFeatures, int groupSize)
    {
        Int4Group.CheckGroupSize(groupSize);
        if (inFeatures % groupSize != 0 || outFeatures % 8 != 0 || inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"AWQ layer [{outFeatures}, {inFeatures}] needs in_features a multiple of {groupSize} and out_features a multiple of 8");
        int groups = inFeatures / groupSize, words = outFeatures / 8;
        GptqPacking.Expect("qweight", qweight.Length, (long)inFeatures * words, $"[{inFeatures}, {words}]");
        GptqPacking.Expect("qzeros", qzeros.Length, (long)groups * words, $"[{groups}, {words}]");
        GptqPacking.Expect("scales", scales.Length, (long)groups * outFeatures, $"[{groups}, {outFeatures}]");
        ReadOnlySpan<byte> rev = ReverseOrder;
        var m = new Int4QuantizedMatrix(outFeatures, inFeatures, groupSize);
        for (int g = 0; g < groups; g++)
            for (int o = 0; o < outFeatures; o++)
            {
                m.Scales[o * groups + g] = scales[g * outFeatures + o];
                uint word = (uint)qzeros[g * words + o / 8];
                m.Zeros[o * groups + g] = (byte)((word >> (4 * rev[o % 8])) & 0xF);
            }
        for (int i = 0; i < inFeatures; i++)
            for (int o = 0; o < outFeatures; o++)
            {
                uint word = (uint)qweight[i * words + o / 8];
                m.Codes[o * inFeatures + i] = (byte)((word >> (4 * rev[o % 8])) & 0xF);
            }
        return m;
    }

    /// <summary>Writes a matrix in AWQ GEMM packing; zero points must be 0..15.</summary>
    public static AwqTensors Pack(Int4QuantizedMatrix m)
    {
        ArgumentNullException.ThrowIfNull(m);
        int inF = m.InFeatures, outF = m.OutFeatures, groups = m.GroupsPerRow;
        if (outF % 8 != 0) throw new ArgumentException($"AWQ needs out_features a multiple of 8, got {outF}", nameof(m));
        int words = outF / 8;
        ReadOnlySpan<byte> rev = ReverseOrder;
        var qweight = new int[inF * words];
        var qzeros = new int[groups * words];
        var scales = new Half[groups * outF];
        for (int o = 0; o < outF; o++)
        {
            int shift = 4 * rev[o % 8];
            for (int g = 0; g < groups; g++)
            {
                scales[g * outF + o] = m.Scales[o * groups + g];
                int z = m.Zeros[o * groups + g];
                if (z > 15) throw new ArgumentException($"zero point {z} of row {o}, group {g} is not representable in AWQ", nameof(m));
                qzeros[g * words + o / 8] |= z << shift;
            }
            for (int i = 0; i < inF; i++) qweight[i * words + o / 8] |= (m.Codes[o * inF + i] & 0xF) << shift;
        }
        return new AwqTensors(qweight, qzeros, scales);
    }
}
