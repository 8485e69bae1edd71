using Quanta.Core.Formats.Integer;

namespace Quanta.Core.Tests.Integer;

/// <summary>
/// GPTQ, AWQ and compressed-tensors packings: round trips through each checkpoint layout, and one hand-built
/// checkpoint per packing whose expected weights are derived here from the published bit layout.
/// </summary>
public class CheckpointPackingTests
{
    public static TheoryData<int, bool> Configs() => new() { { 32, false }, { 32, true }, { 64, false }, { 64, true }, { 128, false }, { 128, true } };

    private static byte[] DirectRows(float[] w, int outF, int inF, int groupSize, bool symmetric)
    {
        var codec = new Int4RowCodec(groupSize, symmetric);
        int rb = (int)codec.RowBytes(inF);
        var rows = new byte[rb * outF];
        for (int o = 0; o < outF; o++) codec.Quantize(w.AsSpan(o * inF, inF), rows.AsSpan(o * rb, rb));
        return rows;
    }

    private static float[] Dequantize(byte[] rows, int outF, int inF, int groupSize)
    {
        var codec = new Int4RowCodec(groupSize, false);
        int rb = (int)codec.RowBytes(inF);
        var y = new float[outF * inF];
        for (int o = 0; o < outF; o++) codec.Dequantize(rows.AsSpan(o * rb, rb), y.AsSpan(o * inF, inF));
        return y;
    }

    private static void AssertSame(byte[] expectedRows, byte[] actualRows, int outF, int inF, int g, string what)
    {
        float[] e = Dequantize(expectedRows, outF, inF, g), a = Dequantize(actualRows, outF, inF, g);
        for (int i = 0; i < e.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(e[i]) == BitConverter.SingleToInt32Bits(a[i]), $"{what}: element {i}: {e[i]} vs {a[i]}");
        Assert.True(expectedRows.SequenceEqual(actualRows), $"{what}: row bytes differ");
    }

    private static (float[] w, int seed) RandomWeights(int outF, int inF, bool ensureNegative)
    {
        int seed = TestData.NewSeed();
        var rng = new Random(seed);
        float[] w = TestData.Weights(rng, outF * inF, 0.05f);
        // GPTQ v1 cannot store a zero point of 0 (all-non-negative asymmetric group): keep a negative value per group
        if (ensureNegative) for (int i = 0; i < w.Length; i += 32) w[i] = -0.05f;
        return (w, seed);
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Gptq_round_trip_matches_direct_quantization(int g, bool sym)
    {
        const int outF = 24;
        int inF = g * 3;
        foreach (var fmt in new[] { GptqCheckpointFormat.V1, GptqCheckpointFormat.V2 })
        {
            var (w, seed) = RandomWeights(outF, inF, ensureNegative: true);
            byte[] direct = DirectRows(w, outF, inF, g, sym);
            var t = GptqPacking.Pack(Int4QuantizedMatrix.FromF32(w, outF, inF, g, sym), fmt);
            Assert.Equal(inF / 8 * outF, t.QWeight.Length);
            Assert.Equal(inF / g * outF / 8, t.QZeros.Length);
            if (sym) Assert.All(t.QZeros, z => Assert.Equal(fmt == GptqCheckpointFormat.V1 ? 0x77777777 : unchecked((int)0x88888888), z));
            var rows = new byte[direct.Length];
            GptqPacking.UnpackToRows(t.QWeight, t.QZeros, t.Scales, t.GIdx, inF, outF, g, fmt, rows);
            AssertSame(direct, rows, outF, inF, g, $"GPTQ {fmt} G{g} sym {sym} seed {seed}");
        }
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Awq_round_trip_matches_direct_quantization(int g, bool sym)
    {
        const int outF = 16;
        int inF = g * 2;
        var (w, seed) = RandomWeights(outF, inF, ensureNegative: false);
        byte[] direct = DirectRows(w, outF, inF, g, sym);
        var t = AwqPacking.Pack(Int4QuantizedMatrix.FromF32(w, outF, inF, g, sym));
        var rows = new byte[direct.Length];
        AwqPacking.UnpackToRows(t.QWeight, t.QZeros, t.Scales, inF, outF, g, rows);
        AssertSame(direct, rows, outF, inF, g, $"AWQ G{g} sym {sym} seed {seed}");
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void CompressedTensors_round_trip_matches_direct_quantization(int g, bool sym)
    {
        const int outF = 20; // not a multiple of 8: the packed zero point has a partial last word
        int inF = g * 2;
        var (w, seed) = RandomWeights(outF, inF, ensureNegative: false);
        byte[] direct = DirectRows(w, outF, inF, g, sym);
        var t = CompressedTensorsPacking.Pack(Int4QuantizedMatrix.FromF32(w, outF, inF, g, sym), sym);
        Assert.Equal(sym, t.WeightZeroPoint is null);
        if (!sym) Assert.Equal((outF + 7) / 8 * (inF / g), t.WeightZeroPoint!.Length);
        var rows = new byte[direct.Length];
        CompressedTensorsPacking.UnpackToRows(t.WeightPacked, t.WeightScale.Select(h => (float)h).ToArray(), t.WeightZeroPoint, t.WeightShape, inF, outF, g, rows);
        AssertSame(direct, rows, outF, inF, g, $"compressed-tensors G{g} sym {sym} seed {seed}");
    }

    // ---- hand-built checkpoints: out = 8, in = 64, group 32; expected weights from the published layouts ----

    private static float[] DequantizeMatrix(Int4QuantizedMatrix m) => Dequantize(m.ToRows(), m.OutFeatures, m.InFeatures, m.GroupSize);

    [Theory]
    [InlineData(GptqCheckpointFormat.V1)]
    [InlineData(GptqCheckpointFormat.V2)]
    public void Gptq_hand_built_checkpoint(GptqCheckpointFormat fmt)
    {
        const int outF = 8, inF = 64, G = 32;
        // qweight [in/8 = 8, out = 8]: word (r, o) holds q(o, 8r + k) at bits 4k.
        // Word value: nibble k = (k + r + o) % 16.
        var qweight = new int[8 * outF];
        for (int r = 0; r < 8; r++)
            for (int o = 0; o < outF; o++)
            {
                uint word = 0;
                for (int k = 0; k < 8; k++) word |= (uint)((k + r + o) % 16) << (4 * k);
                qweight[r * outF + o] = unchecked((int)word);
            }
        // qzeros [in/G = 2, out/8 = 1]: group 0 word 0x01234567 (nibble o = 7 - o), group 1 word 0x33333333.
        int[] qzeros = [0x01234567, 0x33333333];
        // scales [2, 8]: group g, column o -> (o + 1) / 4 + g
        var scales = new Half[2 * outF];
        for (int g = 0; g < 2; g++) for (int o = 0; o < outF; o++) scales[g * outF + o] = (Half)((o + 1) / 4f + g);
        int[] gIdx = Enumerable.Range(0, inF).Select(i => i / G).ToArray();

        var m = GptqPacking.Unpack(qweight, qzeros, scales, gIdx, inF, outF, G, fmt);
        float[] y = DequantizeMatrix(m);
        for (int o = 0; o < outF; o++)
            for (int i = 0; i < inF; i++)
            {
                int g = i / G;
                int q = (i % 8 + i / 8 + o) % 16;
                int stored = g == 0 ? 7 - o : 3;
                int zero = fmt == GptqCheckpointFormat.V1 ? stored + 1 : stored; // v1: real zero = stored + 1
                float scale = (o + 1) / 4f + g;
                Assert.Equal(scale * (q - zero), y[o * inF + i]);
            }
    }

    [Fact]
    public void Gptq_rejects_act_order_g_idx_and_unrepresentable_zero()
    {
        const int outF = 8, inF = 64, G = 32;
        var qweight = new int[8 * outF];
        var qzeros = new int[2];
        var scales = new Half[2 * outF];
        int[] gIdx = Enumerable.Range(0, inF).Select(i => i / G).ToArray();
        (gIdx[3], gIdx[40]) = (gIdx[40], gIdx[3]);
        var ex = Assert.Throws<NotSupportedException>(() => GptqPacking.Unpack(qweight, qzeros, scales, gIdx, inF, outF, G, GptqCheckpointFormat.V1));
        Assert.Contains("desc_act", ex.Message);
        Assert.Throws<ArgumentException>(() => GptqPacking.Unpack(qweight, qzeros.AsSpan(0, 1), scales, default, inF, outF, G, GptqCheckpointFormat.V1));

        float[] w = Enumerable.Range(0, outF * inF).Select(i => (float)(i % 7)).ToArray(); // non-negative: zero point 0
        var m = Int4QuantizedMatrix.FromF32(w, outF, inF, G, symmetric: false);
        Assert.Throws<ArgumentException>(() => GptqPacking.Pack(m, GptqCheckpointFormat.V1));
        GptqPacking.Pack(m, GptqCheckpointFormat.V2);
    }

    [Fact]
    public void Awq_hand_built_checkpoint()
    {
        const int outF = 8, inF = 64, G = 32;
        // qweight [in = 64, out/8 = 1]: nibble j (bits 4j) holds output column AWQ_ORDER[j], AWQ_ORDER = [0,2,4,6,1,3,5,7].
        // Even input rows store 0x76543210 (nibble j = j), odd rows 0x01234567 (nibble j = 7 - j).
        // So for even i: q(col) = position of col in AWQ_ORDER = [0,4,1,5,2,6,3,7][col]; odd i: 7 - that.
        int[] posInOrder = [0, 4, 1, 5, 2, 6, 3, 7];
        var qweight = new int[inF];
        for (int i = 0; i < inF; i++) qweight[i] = i % 2 == 0 ? 0x76543210 : 0x01234567;
        // qzeros [2, 1]: group 0 word 0x87654321 (nibble j = j + 1), group 1 word 0x00000000
        int[] qzeros = [unchecked((int)0x87654321), 0];
        var scales = new Half[2 * outF];
        for (int g = 0; g < 2; g++) for (int o = 0; o < outF; o++) scales[g * outF + o] = (Half)(0.5f * (o + 1) + g);

        float[] y = DequantizeMatrix(AwqPacking.Unpack(qweight, qzeros, scales, inF, outF, G));
        for (int o = 0; o < outF; o++)
            for (int i = 0; i < inF; i++)
            {
                int g = i / G;
                int q = i % 2 == 0 ? posInOrder[o] : 7 - posInOrder[o];
                int zero = g == 0 ? posInOrder[o] + 1 : 0;
                float scale = 0.5f * (o + 1) + g;
                Assert.Equal(scale * (q - zero), y[o * inF + i]);
            }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CompressedTensors_hand_built_checkpoint(bool symmetric)
    {
        const int outF = 8, inF = 64, G = 32;
        // weight_packed [out = 8, in/8 = 8]: word (o, c) holds u(o, 8c + k) at bits 4k, u = q_signed + 8.
        // (o + c) even: 0x76543210 (u = k), odd: 0xFEDCBA98 (u = k + 8)
        var packed = new int[outF * 8];
        for (int o = 0; o < outF; o++)
            for (int c = 0; c < 8; c++) packed[o * 8 + c] = (o + c) % 2 == 0 ? 0x76543210 : unchecked((int)0xFEDCBA98);
        // weight_scale [8, 2]: (o, g) -> (o + 1) / 8 + g
        var scale = new float[outF * 2];
        for (int o = 0; o < outF; o++) for (int g = 0; g < 2; g++) scale[o * 2 + g] = (o + 1) / 8f + g;
        // weight_zero_point [ceil(8/8) = 1, 2] packed along the output dim: word (0, g) holds zp(o, g) + 8 at bits 4o.
        // group 0: 0x01234567 (stored 7 - o, zp = -1 - o), group 1: 0x89ABCDEF (stored 15 - o, zp = 7 - o)
        int[] zp = [0x01234567, unchecked((int)0x89ABCDEF)];
        int[] shape = [outF, inF];

        float[] y = DequantizeMatrix(CompressedTensorsPacking.Unpack(packed, scale, symmetric ? default : zp, shape, inF, outF, G));
        for (int o = 0; o < outF; o++)
            for (int i = 0; i < inF; i++)
            {
                int g = i / G, c = i / 8, k = i % 8;
                int qSigned = ((o + c) % 2 == 0 ? k : k + 8) - 8;
                int zpSigned = symmetric ? 0 : (g == 0 ? -1 - o : 7 - o);
                float s = (o + 1) / 8f + g;
                Assert.Equal(s * (qSigned - zpSigned), y[o * inF + i]);
            }
        Assert.Throws<ArgumentException>(() => CompressedTensorsPacking.Unpack(packed, scale, default, [inF, outF], inF, outF, G));
    }
}
