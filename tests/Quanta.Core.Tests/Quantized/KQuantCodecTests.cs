using Quanta.Core.Formats;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Tests.Support;

namespace Quanta.Core.Tests.Quantized;

/// <summary>K-quant codecs against ggml (the oracle): quantizer bytes and dequantized floats bit for bit.</summary>
public unsafe class KQuantCodecTests
{
    public static TheoryData<GgmlType> Types => new() { GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K };

    internal static IRowCodec Codec(GgmlType t) => t switch
    {
        GgmlType.Q2_K => Q2_KCodec.Instance,
        GgmlType.Q3_K => Q3_KCodec.Instance,
        GgmlType.Q4_K => Q4_KCodec.Instance,
        GgmlType.Q5_K => Q5_KCodec.Instance,
        GgmlType.Q6_K => Q6_KCodec.Instance,
        GgmlType.Q8_K => Q8_KCodec.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    [Fact]
    public void Block_sizes_match_ggml()
    {
        Assert.Equal(84, sizeof(BlockQ2_K));
        Assert.Equal(110, sizeof(BlockQ3_K));
        Assert.Equal(144, sizeof(BlockQ4_K));
        Assert.Equal(176, sizeof(BlockQ5_K));
        Assert.Equal(210, sizeof(BlockQ6_K));
        Assert.Equal(292, sizeof(BlockQ8_K));
        Assert.Equal(BlockQ2_K.Size, (int)GgmlNative.Traits((int)GgmlType.Q2_K).TypeSize);
        Assert.Equal(BlockQ3_K.Size, (int)GgmlNative.Traits((int)GgmlType.Q3_K).TypeSize);
        Assert.Equal(BlockQ4_K.Size, (int)GgmlNative.Traits((int)GgmlType.Q4_K).TypeSize);
        Assert.Equal(BlockQ5_K.Size, (int)GgmlNative.Traits((int)GgmlType.Q5_K).TypeSize);
        Assert.Equal(BlockQ6_K.Size, (int)GgmlNative.Traits((int)GgmlType.Q6_K).TypeSize);
        Assert.Equal(BlockQ8_K.Size, (int)GgmlNative.Traits((int)GgmlType.Q8_K).TypeSize);
    }

    [Theory]
    [MemberData(nameof(Types))]
    [Trait("Category", "Kernels")]
    public void Quantize_matches_ggml_reference_and_quantize_chunk(GgmlType type)
    {
        int seed = KQuantTestData.NewSeed();
        var rng = new Random(seed);
        IRowCodec codec = Codec(type);
        foreach (int blocks in KQuantTestData.Blocks)
        {
            for (int rep = 0; rep < 3; rep++)
            {
                float[] x = rep == 0 ? KQuantTestData.Row(rng, blocks) : KQuantTestData.Row(rng, blocks, rng.Next(KQuantTestData.KindCount));
                int n = x.Length;
                var mine = new byte[codec.RowBytes(n)];
                var oracle = new byte[mine.Length];
                codec.Quantize(x, mine);
                if (type == GgmlType.Q8_K) GgmlNative.Q8KFromFloatRef(x, oracle, n); else GgmlNative.FromFloatRef((int)type, x, oracle, n);
                int at = KQuantTestData.FirstByteDiff(mine, oracle);
                Assert.True(at < 0, $"{type} n={n} rep={rep} seed={seed}: byte {at} (block {at / GgmlTypeInfo.TypeSize(type)}, offset {at % GgmlTypeInfo.TypeSize(type)}) differs from quantize_row_ref: {(at < 0 ? 0 : mine[at])} vs {(at < 0 ? 0 : oracle[at])}");
                if (type != GgmlType.Q8_K)
                {
                    // what llama-quantize writes (no imatrix): as two rows where the row splits into whole super-blocks
                    int rows = blocks % 2 == 0 ? 2 : 1;
                    var chunk = new byte[mine.Length];
                    long written = GgmlNative.QuantizeChunk((int)type, x, chunk, rows, n / rows);
                    Assert.Equal(mine.Length, written);
                    at = KQuantTestData.FirstByteDiff(mine, chunk);
                    Assert.True(at < 0, $"{type} n={n} rep={rep} seed={seed}: byte {at} differs from ggml_quantize_chunk");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    [Trait("Category", "Kernels")]
    public void Dequantize_matches_ggml_bit_for_bit(GgmlType type)
    {
        int seed = KQuantTestData.NewSeed();
        var rng = new Random(seed);
        IRowCodec codec = Codec(type);
        foreach (int blocks in KQuantTestData.Blocks)
        {
            for (int rep = 0; rep < 2; rep++)
            {
                int n = blocks * 256;
                var q = new byte[codec.RowBytes(n)];
                if (rep == 0) codec.Quantize(KQuantTestData.Row(rng, blocks), q);
                else RandomBlocks(rng, type, q); // arbitrary bit patterns, finite scales
                var expected = new float[n];
                if (type == GgmlType.Q8_K) GgmlNative.Q8KToFloat(q, expected, n); else GgmlNative.ToFloat((int)type, q, expected, n);
                var vec = new float[n];
                var reference = new float[n];
                codec.Dequantize(q, vec);
                codec.DequantizeReference(q, reference);
                int at = KQuantTestData.FirstBitDiff(reference, expected);
                Assert.True(at < 0, $"{type} reference n={n} rep={rep} seed={seed}: element {at}: {(at < 0 ? 0 : reference[at])} vs ggml {(at < 0 ? 0 : expected[at])}");
                at = KQuantTestData.FirstBitDiff(vec, expected);
                Assert.True(at < 0, $"{type} vectorized n={n} rep={rep} seed={seed}: element {at}: {(at < 0 ? 0 : vec[at])} vs ggml {(at < 0 ? 0 : expected[at])}");
            }
        }
    }

    /// <summary>Random block bytes with every fp16/f32 scale field replaced by a random finite value.</summary>
    internal static void RandomBlocks(Random rng, GgmlType type, byte[] q)
    {
        rng.NextBytes(q);
        int size = GgmlTypeInfo.TypeSize(type);
        for (int off = 0; off < q.Length; off += size)
        {
            fixed (byte* p = &q[off])
            {
                switch (type)
                {
                    case GgmlType.Q2_K: ((BlockQ2_K*)p)->D = RandomHalf(rng); ((BlockQ2_K*)p)->DMin = RandomHalf(rng); break;
                    case GgmlType.Q3_K: ((BlockQ3_K*)p)->D = RandomHalf(rng); break;
                    case GgmlType.Q4_K: ((BlockQ4_K*)p)->D = RandomHalf(rng); ((BlockQ4_K*)p)->DMin = RandomHalf(rng); break;
                    case GgmlType.Q5_K: ((BlockQ5_K*)p)->D = RandomHalf(rng); ((BlockQ5_K*)p)->DMin = RandomHalf(rng); break;
                    case GgmlType.Q6_K: ((BlockQ6_K*)p)->D = RandomHalf(rng); break;
                    case GgmlType.Q8_K:
                        ((BlockQ8_K*)p)->D = (float)(KQuantTestData.Normal(rng) * Math.Pow(10, rng.Next(-6, 3)));
                        break;
                }
            }
        }
    }

    /// <summary>Random finite fp16 bit pattern (any sign, exponent below 31: normals, subnormals, zeros).</summary>
    internal static ushort RandomHalf(Random rng) => (ushort)((rng.Next(2) << 15) | (rng.Next(31) << 10) | rng.Next(1024));

    // Quantize-then-dequantize error, RMS of the error over RMS of the data, on standard normal rows of 64
    // super-blocks. Measured on this data: Q2_K 0.30, Q3_K 0.15, Q4_K 0.071, Q5_K 0.036, Q6_K 0.018, Q8_K 0.0069
    // (each extra bit roughly halves the error, as for a uniform grid); bounds are those plus 30-55% headroom
    // for seed-to-seed spread, tight enough that a wrong scale/min or a lost bit fails.
    [Theory]
    [InlineData(GgmlType.Q2_K, 0.40)]
    [InlineData(GgmlType.Q3_K, 0.20)]
    [InlineData(GgmlType.Q4_K, 0.11)]
    [InlineData(GgmlType.Q5_K, 0.055)]
    [InlineData(GgmlType.Q6_K, 0.028)]
    [InlineData(GgmlType.Q8_K, 0.010)]
    public void Roundtrip_relative_rms_error_is_bounded(GgmlType type, double bound)
    {
        int seed = KQuantTestData.NewSeed();
        var rng = new Random(seed);
        IRowCodec codec = Codec(type);
        float[] x = KQuantTestData.Row(rng, 64, 0);
        var q = new byte[codec.RowBytes(x.Length)];
        var y = new float[x.Length];
        codec.Quantize(x, q);
        codec.Dequantize(q, y);
        double err = 0, sig = 0;
        for (int i = 0; i < x.Length; i++) { err += (x[i] - y[i]) * (double)(x[i] - y[i]); sig += x[i] * (double)x[i]; }
        double rel = Math.Sqrt(err / sig);
        Assert.True(rel < bound, $"{type}: relative RMS error {rel:G4} >= {bound} (seed {seed})");
    }

    // llama.cpp tests/test-quantize-fns.cpp: data 0.1 + 2 cos(i + offset), 4096 values, error
    // sqrt(sum of squared differences) / n, thresholds 0.0075 (2-bit), 0.0040 (3-bit), 0.002 (others).
    [Theory]
    [InlineData(GgmlType.Q2_K, 0.0075)]
    [InlineData(GgmlType.Q3_K, 0.0040)]
    [InlineData(GgmlType.Q4_K, 0.002)]
    [InlineData(GgmlType.Q5_K, 0.002)]
    [InlineData(GgmlType.Q6_K, 0.002)]
    public void Roundtrip_error_within_llama_cpp_test_quantize_fns_thresholds(GgmlType type, double threshold)
    {
        const int n = 32 * 128;
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = 0.1f + 2 * MathF.Cos(i + 0.0f);
        IRowCodec codec = Codec(type);
        var q = new byte[codec.RowBytes(n)];
        var y = new float[n];
        codec.Quantize(x, q);
        codec.Dequantize(q, y);
        double sum = 0;
        for (int i = 0; i < n; i++) { double d = x[i] - y[i]; sum += d * d; }
        double err = Math.Sqrt(sum) / n;
        Assert.True(err < threshold, $"{type}: error {err:G4} >= {threshold}");
    }
}
