using Quanta.Core.Formats;
using Quanta.Core.Formats.Float;
using Quanta.Core.Kernels.Ops;
using Quanta.Models;
using Quanta.Models.Runtime;
using Quanta.Models.Weights;

namespace Quanta.Cuda.Diagnostics;

/// <summary>
/// Random-weight Llama-family models in host memory for GPU-vs-CPU checks: every matrix value is uniform in
/// ±scale/√cols and rounded to BF16, stored in BF16 <see cref="WeightMatrix"/> rows (so the GPU's BF16 upload is exact
/// and both executors use identical weights); norms uniform in [0.8, 1.2]. Also the shapes the device script uses.
/// </summary>
public static class RandomDecoderModel
{
    /// <summary>A tiny Llama shape (2 layers, GQA 4/2 heads of 16, vocab 96) for CI.</summary>
    public static ModelConfig Tiny() => new()
    {
        Architecture = "llama", Layers = 2, EmbeddingLength = 64, FeedForwardLength = 128, Heads = 4, KvHeads = 2, HeadDim = 16,
        VocabSize = 96, ContextLength = 256, Rope = new RopeParameters(16, RopeLayout.NeoX, 500000f),
    };

    /// <summary>Llama-3.2-1B's shape (16 layers, 2048 wide, 32/8 heads of 64, ffn 8192, vocab 128256, tied output, Llama-3 RoPE).</summary>
    public static ModelConfig Llama32_1B() => new()
    {
        Architecture = "llama", Layers = 16, EmbeddingLength = 2048, FeedForwardLength = 8192, Heads = 32, KvHeads = 8, HeadDim = 64,
        VocabSize = 128256, ContextLength = 131072, Rope = new RopeParameters(64, RopeLayout.Normal, 500000f), TiedOutput = true,
        RopeLlama3 = new Llama3RopeScaling(32f, 1f, 4f, 8192),
    };

    /// <summary>Llama-3.1-8B's shape (32 layers, 4096 wide, 32/8 heads of 128, ffn 14336, vocab 128256, Llama-3 RoPE).</summary>
    public static ModelConfig Llama31_8B() => new()
    {
        Architecture = "llama", Layers = 32, EmbeddingLength = 4096, FeedForwardLength = 14336, Heads = 32, KvHeads = 8, HeadDim = 128,
        VocabSize = 128256, ContextLength = 131072, Rope = new RopeParameters(128, RopeLayout.Normal, 500000f),
        RopeLlama3 = new Llama3RopeScaling(8f, 1f, 4f, 8192),
    };

    /// <summary>Builds the model with <paramref name="seed"/>; Llama-3 frequency factors become the weights' rope factors.</summary>
    public static DecoderModel Create(ModelConfig config, int seed, float scale = 2f)
    {
        ArgumentNullException.ThrowIfNull(config);
        var rng = new Random(seed);
        int matrixIndex = 0;
        WeightMatrix M(int rows, int cols)
        {
            // rows in parallel chunks, each chunk with its own generator seeded from (seed, matrix, chunk): deterministic
            var m = WeightMatrix.Allocate(WeightFormat.BF16, rows, cols);
            float a = scale / MathF.Sqrt(cols);
            int mi = matrixIndex++;
            const int chunk = 64;
            Parallel.For(0, (rows + chunk - 1) / chunk, ci =>
            {
                var r = new Random(unchecked((seed * 31 + mi) * 1_000_003 + ci));
                var v = new float[cols];
                for (int row = ci * chunk; row < Math.Min(rows, (ci + 1) * chunk); row++)
                {
                    for (int i = 0; i < cols; i++) v[i] = (float)(r.NextDouble() * 2 - 1) * a;
                    m.Codec.Quantize(v, m.WritableRow(row));
                }
            });
            return m;
        }
        NormWeights N(int d) => new(Enumerable.Range(0, d).Select(_ => 0.8f + 0.4f * (float)rng.NextDouble()).ToArray());
        int d = config.EmbeddingLength, ffn = config.FeedForwardLength;
        var layers = new List<LayerWeights>();
        for (int l = 0; l < config.Layers; l++)
            layers.Add(new LayerWeights
            {
                AttentionNorm = N(d), Query = M(config.QueryDim, d), Key = M(config.KvDim, d), Value = M(config.KvDim, d),
                Output = M(d, config.QueryDim), FeedForwardNorm = N(d), Gate = M(ffn, d), Up = M(ffn, d), Down = M(d, ffn),
            });
        WeightMatrix emb = M(config.VocabSize, d);
        float[]? ff = null;
        if (config.RopeLlama3 is { } s)
        {
            ff = new float[config.Rope.RotaryDims / 2];
            RopeScaling.Llama3FrequencyFactors(config.Rope.RotaryDims, config.Rope.FreqBase, s.Factor, s.LowFreqFactor, s.HighFreqFactor, s.OriginalMaxPositions, ff);
        }
        var weights = new ModelWeights(emb, layers, N(d), config.TiedOutput ? emb : M(config.VocabSize, d), ff);
        return new DecoderModel(config, weights);
    }

    /// <summary>Rounds every value to BF16 (for building host oracles of device-side roundings).</summary>
    public static float RoundBf16(float v) => BF16Conversion.ToSingle(BF16Conversion.FromSingle(v));
}
