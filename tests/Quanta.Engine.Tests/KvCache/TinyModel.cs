using Quanta.Core.Formats;
using Quanta.Core.Kernels.Ops;
using Quanta.Models;
using Quanta.Models.Runtime;
using Quanta.Models.Weights;

namespace Quanta.Engine.Tests.KvCache;

/// <summary>A tiny random Llama-shaped model built in memory (2 layers, GQA 4/2 heads, Q8_0 projections).</summary>
internal static class TinyModel
{
    public const int Vocab = 96;

    public static DecoderModel Create(int seed, WeightFormat format = WeightFormat.Q8_0)
    {
        var rng = new Random(seed);
        var config = new ModelConfig
        {
            Architecture = "llama",
            Layers = 2,
            EmbeddingLength = 64,
            FeedForwardLength = 128,
            Heads = 4,
            KvHeads = 2,
            HeadDim = 16,
            VocabSize = Vocab,
            ContextLength = 256,
            Rope = new RopeParameters(16),
        };
        WeightMatrix M(int rows, int cols, WeightFormat f)
        {
            var v = new float[rows * cols];
            float s = 1f / MathF.Sqrt(cols);
            for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1) * 2f * s;
            return WeightMatrix.FromFloats(f, rows, cols, v);
        }
        NormWeights N(int d)
        {
            var w = new float[d];
            for (int i = 0; i < d; i++) w[i] = 0.8f + 0.4f * (float)rng.NextDouble();
            return new NormWeights(w);
        }
        int d = config.EmbeddingLength, ffn = config.FeedForwardLength;
        var layers = new List<LayerWeights>();
        for (int l = 0; l < config.Layers; l++)
            layers.Add(new LayerWeights
            {
                AttentionNorm = N(d),
                Query = M(config.QueryDim, d, format),
                Key = M(config.KvDim, d, format),
                Value = M(config.KvDim, d, format),
                Output = M(d, config.QueryDim, format),
                FeedForwardNorm = N(d),
                Gate = M(ffn, d, format),
                Up = M(ffn, d, format),
                Down = M(d, ffn, format),
            });
        var weights = new ModelWeights(M(Vocab, d, WeightFormat.F32), layers, N(d), M(Vocab, d, format));
        return new DecoderModel(config, weights);
    }

    public static int[] RandomTokens(Random rng, int n)
    {
        var t = new int[n];
        for (int i = 0; i < n; i++) t[i] = rng.Next(Vocab);
        return t;
    }

    public static void AssertBitEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} differs: {expected[i]:R} vs {actual[i]:R}");
    }
}
