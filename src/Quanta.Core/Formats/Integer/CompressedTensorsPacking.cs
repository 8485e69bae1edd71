namespace Quanta.Core.Formats.Integer;

/// <summary>The tensors of one compressed-tensors "pack-quantized" linear layer (4 bits, group strategy).</summary>
/// <param name="WeightPacked">int32 <c>[out_features, in_features/8]</c>.</param>
/// <param name="WeightScale">scales <c>[out_features, in_features/group]</c> (written as fp16).</param>
/// <param name="WeightZeroPoint">int32 <c>[ceil(out_features/8), in_features/group]</c>, or null when symmetric.</param>
/// <param name="WeightShape">int32 <c>[2]</c> = <c>{out_features, in_features}</c>.</param>
public sealed record CompressedTensorsTensors(int[] WeightPacked, Half[] WeightScale, int[]? WeightZeroPoint, int[] WeightShape);

/// <summary>
/// compressed-tensors "pack-quantized" format (llm-compressor; compressors/quantized_compressors/pack_quantized.py),
/// 4 bits, strategy "group". The quantized values are signed (-8..7) and packed with an offset of 8
/// (<c>u = q + 8</c>, 0..15).
/// <list type="bullet">
/// <item><c>weight_packed</c> int32 <c>[out, ceil(in/8)]</c>: word <c>(o, i/8)</c> holds u(o, i) at bits <c>4*(i%8)</c>
/// (pack_to_int32 with packed_dim=1: <c>packed |= value[:, k::8] &lt;&lt; 4k</c>).</item>
/// <item><c>weight_scale</c> <c>[out, in/G]</c> in the checkpoint's dtype (fp16, bf16 or f32; this API takes
/// them as F32 and stores Half, which is exact for fp16 checkpoints and rounds others).</item>
/// <item><c>weight_zero_point</c> (asymmetric only) int32 <c>[ceil(out/8), in/G]</c>: packed along the OUTPUT
/// dimension (pack_to_int32 with packed_dim=0): word <c>(o/8, g)</c> holds <c>zp(o, g) + 8</c> at bits <c>4*(o%8)</c>.
/// Symmetric checkpoints have no zero point (zp = 0). Older checkpoints that store an unpacked int8 zero point
/// are not handled here.</item>
/// <item><c>weight_shape</c> int32 <c>[2]</c> = <c>{out, in}</c>.</item>
/// </list>
/// <para>Dequantization: <c>w = (q - zp) * scale = (u - uz) * scale</c> with <c>uz = zp + 8</c>, so in the
/// packing-neutral form the code is u and the zero point is uz (8 when symmetric).</para>
/// </summary>
public static class CompressedTensorsPacking
{
    /// <summary>Converts pack-quantized tensors into Quanta INT4 rows: <paramref name="dstRows"/> is <c>[out][Int4Group.RowBytes(in, groupSize)]</c>.
    /// <paramref name="weightZeroPoint"/> empty means symmetric; <paramref name="weightShape"/> empty means absent (not checked).</summary>
    public static void UnpackToRows(ReadOnlySpan<int> weightPacked, ReadOnlySpan<float> weightScale, ReadOnlySpan<int> weightZeroPoint,
        ReadOnlySpan<int> weightShape, int inFeatures, int outFeatures, int groupSize, Span<byte> dstRows) =>
        Unpack(weightPacked, weightScale, weightZeroPoint, weightShape, inFeatures, outFeatures, groupSize).WriteRows(dstRows);

    /// <summary>Converts pack-quantized tensors into the packing-neutral form (arguments as <see cref="UnpackToRows"/>).</summary>
    public static Int4QuantizedMatrix Unpack(ReadOnlySpan<int> weightPacked, ReadOnlySpan<float> weightScale, ReadOnlySpan<int> weightZeroPoint,
        ReadOnlySpan<int> weightShape, int inFeatures, int outFeatures, int groupSize)
    {
        Int4Group.CheckGroupSize(groupSize);
        if (inFeatures % groupSize != 0 || inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"pack-quantized layer [{outFeatures}, {inFeatures}] needs in_features a multiple of {groupSize}");
        if (!weightShape.IsEmpty && (weightShape.Length != 2 || weightShape[0] != outFeatures || weightShape[1] != inFeatures))
            throw new ArgumentException($"weight_shape [{string.Join(", ", weightShape.ToArray())}] does not match [{outFeatures}, {inFeatures}]", nameof(weightShape));
        int groups = inFeatures / groupSize, words = inFeatures / 8, zpRows = (outFeatures + 7) / 8;
        GptqPacking.Expect("weight_packed", weightPacked.Length, (long)outFeatures * words, $"[{outFeatures}, {words}]");
        GptqPacking.Expect("weight_scale", weightScale.Length, (long)outFeatures * groups, $"[{outFeatures}, {groups}]");
        if (!weightZeroPoint.IsEmpty)
            GptqPacking.Expect("weight_zero_point", weightZeroPoint.Length, (long)zpRows * groups, $"[{zpRows}, {groups}]");
        var m = new Int4QuantizedMatrix(outFeatures, inFeatures, groupSize);
        for (int o = 0; o < outFeatures; o++)
        {
            for (int g = 0; g < groups; g++)
            {
                m.Scales[o * groups + g] = (Half)weightScale[o * groups + g];
                m.Zeros[o * groups + g] = weightZeroPoint.IsEmpty ? (byte)8
                    : (byte)(((uint)weightZeroPoint[o / 8 * groups + g] >> (4 * (o % 8))) & 0xF);
            }
            for (int w = 0; w < words; w++)
            {
                uint word = (uint)weightPacked[o * words + w];
                for (int k = 0; k < 8; k++) m.Codes[o * inFeatures + w * 8 + k] = (byte)((word >> (4 * k)) & 0xF);
            }
        }
        return m;
    }

    /// <summary>
    /// Writes a matrix in pack-quantized form. With <paramref name="symmetric"/> every zero point must be 8 (zp = 0)
    /// and no weight_zero_point is written; otherwise zero points 0..15 are packed.
    /// </summary>
    public static CompressedTensorsTensors Pack(Int4QuantizedMatrix m, bool symmetric)
    {
        ArgumentNullException.ThrowIfNull(m);
        int inF = m.InFeatures, outF = m.OutFeatures, groups = m.GroupsPerRow, words = inF / 8, zpRows = (outF + 7) / 8;
        var packed = new int[outF * words];
        var scales = new Half[outF * groups];
        int[]? zp = symmetric ? null : new int[zpRows * groups];
        for (int o = 0; o < outF; o++)
        {
            for (int g = 0; g < groups; g++)
            {
                scales[o * groups + g] = m.Scales[o * groups + g];
                int z = m.Zeros[o * groups + g];
                if (symmetric ? z != 8 : z > 15)
                    throw new ArgumentException($"zero point {z} of row {o}, group {g} is not representable in {(symmetric ? "symmetric" : "asymmetric")} pack-quantized form", nameof(m));
                if (zp is not null) zp[o / 8 * groups + g] |= z << (4 * (o % 8));
            }
            for (int i = 0; i < inF; i++) packed[o * words + i / 8] |= (m.Codes[o * inF + i] & 0xF) << (4 * (i % 8));
        }
        return new CompressedTensorsTensors(packed, scales, zp, [outF, inF]);
    }
}
