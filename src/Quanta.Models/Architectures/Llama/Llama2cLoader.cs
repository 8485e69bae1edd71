using Quanta.Core.Formats;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.ModelFiles.Llama2c;
using Quanta.Models.Weights;

namespace Quanta.Models.Architectures.Llama;

/// <summary>
/// Maps a llama2.c checkpoint onto the llama architecture: F32 weights used in place (zero-copy views into the
/// mapped file, which must outlive them), config from the header, RoPE in the normal (adjacent pairs) layout with
/// θ base 10000, RMS norm eps 1e-5 (llama2.c run.c), classifier tied to the embedding when the header says shared.
/// </summary>
public static class Llama2cLoader
{
    /// <summary>The model configuration a llama2.c header describes.</summary>
    public static ModelConfig ReadConfig(Llama2cConfig h)
    {
        ArgumentNullException.ThrowIfNull(h);
        return new ModelConfig
        {
            Architecture = LlamaArchitecture.Instance.Name,
            Layers = h.NLayers,
            EmbeddingLength = h.Dim,
            FeedForwardLength = h.HiddenDim,
            Heads = h.NHeads,
            KvHeads = h.NKvHeads,
            HeadDim = h.HeadSize,
            VocabSize = h.VocabSize,
            ContextLength = h.SeqLen,
            NormEps = 1e-5f,
            Rope = new RopeParameters(h.HeadSize, RopeLayout.Normal, 10000f),
            TiedOutput = h.SharedClassifier,
        };
    }

    /// <summary>Weights as views into <paramref name="ckpt"/>.</summary>
    public static ModelWeights LoadWeights(Llama2cCheckpoint ckpt, ModelConfig c)
    {
        ArgumentNullException.ThrowIfNull(ckpt);
        ArgumentNullException.ThrowIfNull(c);
        int d = c.EmbeddingLength;
        ReadOnlySpan<byte> Bytes(ReadOnlySpan<float> s) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(s);
        WeightMatrix Layer(string name, int l, int rows, int cols) =>
            WeightMatrix.View(WeightFormat.F32, rows, cols, ckpt.Region, Bytes(ckpt.GetLayerWeights(name, l)), ckpt);
        NormWeights Norm(string name, int l) => new(ckpt.GetLayerWeights(name, l).ToArray());

        var embedding = WeightMatrix.View(WeightFormat.F32, c.VocabSize, d, ckpt.Region, Bytes(ckpt.GetWeights("token_embedding_table")), ckpt);
        var output = c.TiedOutput ? embedding : WeightMatrix.View(WeightFormat.F32, c.VocabSize, d, ckpt.Region, Bytes(ckpt.GetWeights("wcls")), ckpt);
        var layers = new LayerWeights[c.Layers];
        for (int l = 0; l < c.Layers; l++)
        {
            layers[l] = new LayerWeights
            {
                AttentionNorm = Norm("rms_att_weight", l),
                Query = Layer("wq", l, c.QueryDim, d),
                Key = Layer("wk", l, c.KvDim, d),
                Value = Layer("wv", l, c.KvDim, d),
                Output = Layer("wo", l, d, c.QueryDim),
                FeedForwardNorm = Norm("rms_ffn_weight", l),
                Gate = Layer("w1", l, c.FeedForwardLength, d),
                Up = Layer("w3", l, c.FeedForwardLength, d),
                Down = Layer("w2", l, d, c.FeedForwardLength),
            };
        }
        var weights = new ModelWeights(embedding, layers, new NormWeights(ckpt.GetWeights("rms_final_weight").ToArray()), output);
        weights.Validate(c);
        return weights;
    }
}
