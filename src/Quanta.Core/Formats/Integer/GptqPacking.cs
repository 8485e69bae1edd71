namespace Quanta.Core.Formats.Integer;

/// <summary>Which zero-point convention a GPTQ checkpoint uses (quantization_config.checkpoint_format).</summary>
public enum GptqCheckpointFormat
{
    /// <summary>"gptq" (AutoGPTQ v1, transformers default): the stored zero nibble is the real zero minus one.</summary>
    V1,
    /// <summary>"gptq_v2" (GPTQModel): the stored zero nibble is the real zero.</summary>
    V2,
}

/// <summary>The tensors of one GPTQ-packed linear layer (4 bits, desc_act = false).</summary>
/// <param name="QWeight">int32 <c>[in_features/8, out_features]</c>.</param>
/// <param name="QZeros">int32 <c>[in_features/group, out_features/8]</c>.</param>
/// <param name="Scales">fp16 <c>[in_features/group, out_features]</c>.</param>
/// <param name="GIdx">int32 <c>[in_features]</c>, <c>g_idx[i] = i / group</c>.</param>
public sealed record GptqTensors(int[] QWeight, int[] QZeros, Half[] Scales, int[] GIdx);

/// <summary>
/// GPTQ 4-bit packing (AutoGPTQ / transformers GPTQ, desc_act = false), symmetric or asymmetric.
/// <para>Layout, for W <c>[out, in]</c>, group G:</para>
/// <list type="bullet">
/// <item><c>qweight</c> int32 <c>[in/8, out]</c>: word <c>(i/8, o)</c> holds q(o, i) at bits <c>4*(i%8)</c>
/// (packed along the input dimension; unsigned codes 0..15).</item>
/// <item><c>qzeros</c> int32 <c>[in/G, out/8]</c>: word <c>(g, o/8)</c> holds the zero of (o, g) at bits <c>4*(o%8)</c>
/// (packed along the output dimension). Format "gptq" (v1): the nibble is <c>zero - 1</c>, i.e. real zero =
/// nibble + 1 (1..16; AutoGPTQ subtracted 1 before packing and adds it back in its kernels, so a symmetric
/// checkpoint stores 7 for the zero 8). Format "gptq_v2": the nibble is the zero itself (0..15), no offset.</item>
/// <item><c>scales</c> fp16 <c>[in/G, out]</c>.</item>
/// <item><c>g_idx</c> int32 <c>[in]</c> (optional): must be trivial, <c>g_idx[i] = i / G</c>; desc_act (act-order)
/// checkpoints with any other g_idx are rejected.</item>
/// </list>
/// <para>Dequantization: <c>w(o, i) = scale(g, o) * (q(o, i) - zero(g, o))</c> with <c>g = i / G</c>.</para>
/// </summary>
public static class GptqPacking
{
    /// <summary>
    /// Converts GPTQ tensors into Quanta INT4 rows (<see cref="Int4Group"/> layout):
    /// <paramref name="dstRows"/> is <c>[outFeatures][Int4Group.RowBytes(inFeatures, groupSize)]</c>.
    /// <paramref name="gIdx"/> may be empty (absent).
    /// </summary>
    public static void UnpackToRows(ReadOnlySpan<int> qweight, ReadOnlySpan<int> qzeros, ReadOnlySpan<Half> scales, ReadOnlySpan<int> gIdx,
        int inFeatures, int outFeatures, int groupSize, GptqCheckpointFormat format, Span<byte> dstRows)
    {
        var m = Unpack(qweight, qzeros, scales, gIdx, inFeatures, outFeatures, groupSize, format);
        m.WriteRows(dstRows);
    }

    /// <summary>Converts GPTQ tensors into the packing-neutral form (see <see cref="UnpackToRows"/> for the arguments).</summary>
    public static Int4QuantizedMatrix Unpack(ReadOnlySpan<int> qweight, ReadOnlySpan<int> qzeros, ReadOnlySpan<Half> scales, ReadOnlySpan<int> gIdx,
        int inFeatures, int outFeatures, int groupSize, GptqCheckpointFormat format)
    {
        Int4Group.CheckGroupSize(groupSize);
        if (inFeatures % groupSize != 0 || outFeatures % 8 != 0 || inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"GPTQ layer [{outFeatures}, {inFeatures}] needs in_features a multiple of {groupSize} and out_features a multiple of 8");
        int groups = inFeatures / groupSize;
        Expect("qweight", qweight.Length, (long)inFeatures / 8 * outFeatures, $"[{inFeatures / 8}, {outFeatures}]");
        Expect("qzeros", qzeros.Length, (long)groups * (outFeatures / 8), $"[{groups}, {outFeatures / 8}]");
        Expect("scales", scales.Length, (long)groups * outFeatures, $"[{groups}, {outFeatures}]");
        CheckTrivialGIdx(gIdx, inFeatures, groupSize);

        var m = new Int4QuantizedMatrix(outFeatures, inFeatures, groupSize);
        int zeroOffset = format == GptqCheckpointFormat.V1 ? 1 : 0;
        for (int g = 0; g < groups; g++)
            for (int o = 0; o < outFeatures; o++)
            {
                m.Scales[o * groups + g] = scales[g * outFeatures + o];
                uint word = (uint)qzeros[g * (outFeatures / 8) + o / 8];
                m.Zeros[o * groups + g] = (byte)(((word >> (4 * (o % 8))) & 0xF) + zeroOffset);
            }
        for (int r = 0; r < inFeatures / 8; r++)
            for (int o = 0; o < outFeatures; o++)
            {
                uint word = (uint)qweight[r * outFeatures + o];
                int baseIdx = o * inFeatures + r * 8;
                for (int k = 0; k < 8; k++) m.Codes[baseIdx + k] = (byte)((word >> (4 * k)) & 0xF);
            }
        return m;
    }

    /// <summary>
    /// Writes a matrix in GPTQ packing. V1 cannot represent a zero point of 0 (nor V2 one of 16):
    /// such a matrix is rejected with <see cref="ArgumentException"/>.
    /// </summary>
    public static GptqTensors Pack(Int4QuantizedMatrix m, GptqCheckpointFormat format)
    {
        ArgumentNullException.ThrowIfNull(m);
        int inF = m.InFeatures, outF = m.OutFeatures, G = m.GroupSize, groups = m.GroupsPerRow;
        if (outF % 8 != 0) throw new ArgumentException($"GPTQ needs out_features a multiple of 8, got {outF}", nameof(m));
        int zeroOffset = format == GptqCheckpointFormat.V1 ? 1 : 0;
        var qweight = new int[inF / 8 * outF];
        var qzeros = new int[groups * (outF / 8)];
        var scales = new Half[groups * outF];
        var gIdx = new int[inF];
        for (int i = 0; i < inF; i++) gIdx[i] = i / G;
        for (int o = 0; o < outF; o++)
        {
            for (int g = 0; g < groups; g++)
            {
                scales[g * outF + o] = m.Scales[o * groups + g];
                int stored = m.Zeros[o * groups + g] - zeroOffset;
                if (stored is < 0 or > 15)
                    throw new ArgumentException($"zero point {m.Zeros[o * groups + g]} of row {o}, group {g} is not representable in GPTQ {format}", nameof(m));
                qzeros[g * (outF / 8) + o / 8] |= stored << (4 * (o % 8));
            }
            for (int i = 0; i < inF; i++)
                qweight[i / 8 * outF + o] |= (m.Codes[o * inF + i] & 0xF) << (4 * (i % 8));
        }
        return new GptqTensors(qweight, qzeros, scales, gIdx);
    }

    private static void CheckTrivialGIdx(ReadOnlySpan<int> gIdx, int inFeatures, int groupSize)
    {
        if (gIdx.IsEmpty) return;
        if (gIdx.Length != inFeatures) throw new ArgumentException($"g_idx has {gIdx.Length} entries, expected in_features = {inFeatures}", nameof(gIdx));
        for (int i = 0; i < inFeatures; i++)
            if (gIdx[i] != i / groupSize)
                throw new NotSupportedException(
                    $"GPTQ g_idx[{i}] = {gIdx[i]} but {i / groupSize} was expected: act-order (desc_act=true) checkpoints with a permuted g_idx are not supported");
    }

    internal static void Expect(string name, int actual, long expected, string shape)
    {
        if (actual != expected) throw new ArgumentException($"{name} has {actual} elements, expected {shape} = {expected}", name);
    }
}
