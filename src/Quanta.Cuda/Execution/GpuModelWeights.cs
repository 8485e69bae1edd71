using ILGPU;
using ILGPU.Runtime;
using Quanta.Core.Formats.Float;
using Quanta.Cuda.Device;
using Quanta.Cuda.Kernels;
using Quanta.Models;
using Quanta.Models.Runtime;
using Quanta.Models.Weights;

namespace Quanta.Cuda.Execution;

/// <summary>
/// A decoder's weights in device memory, laid out for the GPU executor: token embedding BF16 [vocab, dim]; per layer the
/// norms (F32), the fused QKV matrix [Heads·HeadDim + 2·KvHeads·HeadDim, dim] (rows Q, then K, then V), the attention
/// output [dim, Heads·HeadDim], the fused gate/up matrix [2·ffn, dim] (gate rows, then up rows) and down [dim, ffn],
/// optional QKV biases; the final norm and output [vocab, dim]. Matrices are BF16 or FP8 E4M3 (<see cref="GpuWeightOptions"/>).
/// Made from a loaded model (<see cref="FromModel"/>: GGUF or safetensors, any stored format, dequantized row by row
/// on the host and converted) or as random weights generated on the device (<see cref="Random"/>: benchmarks).
/// Owns every buffer.
/// </summary>
public sealed class GpuModelWeights : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    private GpuModelWeights(ModelConfig config, GpuWeightOptions options)
    {
        Config = config;
        Options = options;
    }

    /// <summary>The model's configuration.</summary>
    public ModelConfig Config { get; }

    /// <summary>Storage options.</summary>
    public GpuWeightOptions Options { get; }

    /// <summary>Token embedding, BF16 [vocab, dim].</summary>
    public MemoryBuffer1D<ushort, Stride1D.Dense> Embedding { get; private set; } = null!;

    /// <summary>Per-layer weights.</summary>
    public IReadOnlyList<GpuLayerWeights> Layers { get; private set; } = [];

    /// <summary>Final norm [dim].</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> OutputNorm { get; private set; } = null!;

    /// <summary>Output projection [vocab, dim].</summary>
    public DeviceMatrix Output { get; private set; } = null!;

    /// <summary>RoPE frequency factors [RotaryDims/2] from the model, or null.</summary>
    public float[]? RopeFrequencyFactors { get; private set; }

    /// <summary>Device bytes of all weights.</summary>
    public long Bytes { get; private set; }

    /// <summary>Checks that the GPU executor implements every feature <paramref name="c"/> switches on; throws naming the first that it does not.</summary>
    public static void CheckSupported(ModelConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        c.Validate();
        string? missing =
            c.Norm != NormKind.Rms ? "layer norm" :
            c.Activation != FeedForwardActivation.Silu ? $"{c.Activation} activation" :
            c.QkNorm ? "per-head Q/K norms" :
            c.PostAttentionNorm || c.PostFeedForwardNorm ? "post-attention/feed-forward norms" :
            c.ScaleQueryBeforeAttention ? "query pre-scaling" :
            c.FinalLogitSoftCap != 0f ? "final logit soft-cap" :
            c.SlidingRope != null ? "separate RoPE settings for sliding layers" :
            c.Rope.ExtFactor != 0f ? "YaRN RoPE" :
            c.HeadDim > GpuKernels.MaxHeadDim ? $"head dim above {GpuKernels.MaxHeadDim}" : null;
        if (missing != null) throw new NotSupportedException($"the GPU executor does not implement {missing} ({c.Architecture})");
    }

    /// <summary>Uploads a loaded model's weights, converted to <paramref name="options"/>' format.</summary>
    public static GpuModelWeights FromModel(GpuBackend backend, DecoderModel model, GpuWeightOptions options)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(model);
        ModelConfig c = model.Config;
        CheckSupported(c);
        var g = new GpuModelWeights(c, options);
        try
        {
            ModelWeights w = model.Weights;
            Accelerator acc = backend.Accelerator;
            int d = c.EmbeddingLength;
            float[] emb = Dequantize(w.TokenEmbedding);
            g.Embedding = g.Own(acc.Allocate1D<ushort>((long)c.VocabSize * d));
            var bf = new ushort[emb.Length];
            BF16Conversion.FromSingleRow(emb, bf);
            g.Embedding.View.CopyFromCPU(bf);
            var layers = new List<GpuLayerWeights>();
            foreach (LayerWeights l in w.Layers)
            {
                var qkv = Concat(Dequantize(l.Query), Dequantize(l.Key), Dequantize(l.Value));
                var gu = Concat(Dequantize(l.Gate), Dequantize(l.Up));
                layers.Add(new GpuLayerWeights
                {
                    AttentionNorm = g.Floats(acc, l.AttentionNorm.Weight),
                    FeedForwardNorm = g.Floats(acc, l.FeedForwardNorm.Weight),
                    Qkv = g.Matrix(backend, qkv, c.QueryDim + 2 * c.KvDim, d),
                    Output = g.Matrix(backend, Dequantize(l.Output), d, c.QueryDim),
                    GateUp = g.Matrix(backend, gu, 2 * c.FeedForwardLength, d),
                    Down = g.Matrix(backend, Dequantize(l.Down), d, c.FeedForwardLength),
                    QkvBias = l.QueryBias is null ? null : g.Floats(acc, Concat(l.QueryBias, l.KeyBias!, l.ValueBias!)),
                });
            }
            g.Layers = layers;
            g.OutputNorm = g.Floats(acc, w.OutputNorm.Weight);
            g.Output = g.Matrix(backend, ReferenceEquals(w.Output, w.TokenEmbedding) ? emb : Dequantize(w.Output), c.VocabSize, d);
            g.RopeFrequencyFactors = w.RopeFrequencyFactors;
            backend.Synchronize();
            return g;
        }
        catch
        {
            g.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Random weights generated on the device (nothing large crosses the bus): matrices uniform in ±1/√cols, norms 1,
    /// embedding uniform in ±1. Deterministic for <paramref name="seed"/>.
    /// </summary>
    public static GpuModelWeights Random(GpuBackend backend, ModelConfig config, GpuWeightOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(backend);
        CheckSupported(config);
        var g = new GpuModelWeights(config, options);
        try
        {
            Accelerator acc = backend.Accelerator;
            int d = config.EmbeddingLength;
            ulong next = seed;
            DeviceMatrix Rand(int rows, int cols)
            {
                var m = g.Own(new DeviceMatrix(acc, options.Format, rows, cols, perChannel: false));
                float a = 1f / MathF.Sqrt(cols);
                long count = (long)rows * cols;
                for (long o = 0; o < count; o += int.MaxValue / 2)
                {
                    long part = Math.Min(int.MaxValue / 2, count - o);
                    long bytesPer = options.Format == DeviceFormat.BF16 ? 2 : 1;
                    backend.Kernels.RandomFill(m.Data.View.SubView(o * bytesPer, part * bytesPer), part, ++next * 0x9E3779B97F4A7C15UL, a, options.Format);
                }
                m.Scale.View.CopyFromCPU([options.Format == DeviceFormat.BF16 ? 1f : a / 448f]);
                g.Bytes += m.Bytes;
                return m;
            }
            MemoryBuffer1D<float, Stride1D.Dense> Ones(int n) => g.Floats(acc, Enumerable.Repeat(1f, n).ToArray());
            g.Embedding = g.Own(acc.Allocate1D<ushort>((long)config.VocabSize * d));
            backend.Kernels.RandomFill(((ArrayView<ushort>)g.Embedding.View).Cast<byte>(), (long)config.VocabSize * d, seed, 1f, DeviceFormat.BF16);
            var layers = new List<GpuLayerWeights>();
            for (int l = 0; l < config.Layers; l++)
                layers.Add(new GpuLayerWeights
                {
                    AttentionNorm = Ones(d),
                    FeedForwardNorm = Ones(d),
                    Qkv = Rand(config.QueryDim + 2 * config.KvDim, d),
                    Output = Rand(d, config.QueryDim),
                    GateUp = Rand(2 * config.FeedForwardLength, d),
                    Down = Rand(d, config.FeedForwardLength),
                });
            g.Layers = layers;
            g.OutputNorm = Ones(d);
            g.Output = Rand(config.VocabSize, d);
            backend.Synchronize();
            return g;
        }
        catch
        {
            g.Dispose();
            throw;
        }
    }

    private T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    private MemoryBuffer1D<float, Stride1D.Dense> Floats(Accelerator acc, float[] values)
    {
        var b = Own(acc.Allocate1D<float>(values.Length));
        b.View.CopyFromCPU(values);
        Bytes += b.LengthInBytes;
        return b;
    }

    private DeviceMatrix Matrix(GpuBackend backend, float[] values, int rows, int cols)
    {
        var m = Own(DeviceWeights.Upload(backend, values, rows, cols, Options.Format, Options.PerChannelScales));
        Bytes += m.Bytes;
        return m;
    }

    private static float[] Dequantize(WeightMatrix m)
    {
        long n = (long)m.Rows * m.Cols;
        if (n > Array.MaxLength) throw new NotSupportedException($"matrix [{m.Rows}, {m.Cols}] is too large for one host staging array");
        var f = new float[n];
        for (int r = 0; r < m.Rows; r++) m.DequantizeRow(r, f.AsSpan(r * m.Cols, m.Cols));
        return f;
    }

    private static float[] Concat(params float[][] parts)
    {
        var r = new float[parts.Sum(p => (long)p.Length)];
        long o = 0;
        foreach (var p in parts)
        {
            p.CopyTo(r, o);
            o += p.Length;
        }
        return r;
    }

    /// <summary>Frees every buffer.</summary>
    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        _owned.Clear();
    }
}

/// <summary>One layer's device weights (see <see cref="GpuModelWeights"/>).</summary>
public sealed class GpuLayerWeights
{
    /// <summary>Attention norm [dim].</summary>
    public required MemoryBuffer1D<float, Stride1D.Dense> AttentionNorm { get; init; }

    /// <summary>Feed-forward norm [dim].</summary>
    public required MemoryBuffer1D<float, Stride1D.Dense> FeedForwardNorm { get; init; }

    /// <summary>Fused Q, K, V projection.</summary>
    public required DeviceMatrix Qkv { get; init; }

    /// <summary>Attention output projection.</summary>
    public required DeviceMatrix Output { get; init; }

    /// <summary>Fused gate and up projection.</summary>
    public required DeviceMatrix GateUp { get; init; }

    /// <summary>Down projection.</summary>
    public required DeviceMatrix Down { get; init; }

    /// <summary>Q, K, V biases concatenated, or null.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense>? QkvBias { get; init; }
}
