using Quanta.Core.Kernels.Ops;

namespace Quanta.Models;

/// <summary>How a transformer normalizes its activations.</summary>
public enum NormKind
{
    /// <summary>RMS normalization with a weight (Llama, Qwen, Gemma).</summary>
    Rms,

    /// <summary>Layer normalization with weight and optional bias (Phi-2, GPT-style).</summary>
    Layer,
}

/// <summary>The gated feed-forward activation: down(act(gate(x)) · up(x)).</summary>
public enum FeedForwardActivation
{
    /// <summary>SiLU (SwiGLU): Llama, Mistral, Qwen, Phi-3.</summary>
    Silu,

    /// <summary>GELU, tanh approximation (GeGLU): Gemma.</summary>
    GeluTanh,
}

/// <summary>
/// Llama-3 style RoPE frequency scaling ("rope_type": "llama3" in config.json); turned into per-pair frequency
/// factors with <see cref="RopeScaling.Llama3FrequencyFactors"/>. GGUF files carry the result as the rope_freqs tensor.
/// </summary>
public sealed record Llama3RopeScaling(float Factor, float LowFreqFactor, float HighFreqFactor, int OriginalMaxPositions);

/// <summary>
/// Everything the shared decoder-only transformer (<see cref="Runtime.DecoderModel"/>) needs to know about a model;
/// architectures differ only in these values and in how they name their tensors.
/// <para>Shapes: query width = <see cref="Heads"/>·<see cref="HeadDim"/>; key/value width = <see cref="KvHeads"/>·<see cref="HeadDim"/>.
/// Per layer: x += o(attn(norm(x))) then x += down(act(gate(norm(x)))·up(norm(x))), with the optional extra norms and
/// biases the flags below switch on.</para>
/// </summary>
public sealed record ModelConfig
{
    /// <summary>Architecture name as registered (GGUF general.architecture spelling, e.g. "llama").</summary>
    public required string Architecture { get; init; }

    /// <summary>Transformer blocks.</summary>
    public required int Layers { get; init; }

    /// <summary>Model width (embedding length).</summary>
    public required int EmbeddingLength { get; init; }

    /// <summary>Feed-forward inner width.</summary>
    public required int FeedForwardLength { get; init; }

    /// <summary>Query heads.</summary>
    public required int Heads { get; init; }

    /// <summary>Key/value heads (grouped-query attention when fewer than <see cref="Heads"/>).</summary>
    public required int KvHeads { get; init; }

    /// <summary>Elements per attention head (queries, keys and values).</summary>
    public required int HeadDim { get; init; }

    /// <summary>Vocabulary size (rows of the embedding and output matrices).</summary>
    public required int VocabSize { get; init; }

    /// <summary>Training context length (default KV capacity of a session).</summary>
    public required int ContextLength { get; init; }

    /// <summary>Normalization kind of every norm in the model.</summary>
    public NormKind Norm { get; init; } = NormKind.Rms;

    /// <summary>Epsilon of every norm.</summary>
    public float NormEps { get; init; } = 1e-5f;

    /// <summary>RoPE settings (rotary dims, layout normal/NeoX, freq base, linear/YaRN scaling).</summary>
    public required RopeParameters Rope { get; init; }

    /// <summary>Llama-3 frequency scaling from config.json; null when absent (GGUF uses the rope_freqs tensor instead).</summary>
    public Llama3RopeScaling? RopeLlama3 { get; init; }

    /// <summary>Q, K and V projections have biases (Qwen2).</summary>
    public bool QkvBias { get; init; }

    /// <summary>Per-head RMS norm of queries and keys before RoPE (Qwen3, Gemma 3).</summary>
    public bool QkNorm { get; init; }

    /// <summary>Norm of the attention output before the residual add (Gemma 2/3).</summary>
    public bool PostAttentionNorm { get; init; }

    /// <summary>Norm of the feed-forward output before the residual add (Gemma 2/3).</summary>
    public bool PostFeedForwardNorm { get; init; }

    /// <summary>Gated feed-forward activation.</summary>
    public FeedForwardActivation Activation { get; init; } = FeedForwardActivation.Silu;

    /// <summary>Factor applied to token embeddings (Gemma: √EmbeddingLength); 1 means none.</summary>
    public float EmbeddingScale { get; init; } = 1f;

    /// <summary>Attention score scale; 0 means 1/√HeadDim.</summary>
    public float AttentionScale { get; init; }

    /// <summary>
    /// Multiply the queries by the attention scale after RoPE and attend with scale 1, instead of scaling each score
    /// (llama.cpp's order for Gemma 2/3 and Phi-3; equal in exact arithmetic, but before a soft-cap's tanh the rounding
    /// of the product matters).
    /// </summary>
    public bool ScaleQueryBeforeAttention { get; init; }

    /// <summary>
    /// RoPE settings of the sliding-window layers (Gemma 3's local layers use base 10000 and no scaling while global
    /// layers use <see cref="Rope"/>); null means <see cref="Rope"/> everywhere.
    /// </summary>
    public RopeParameters? SlidingRope { get; init; }

    /// <summary>Final logit soft-cap c (logits = c·tanh(logits/c)); 0 means none.</summary>
    public float FinalLogitSoftCap { get; init; }

    /// <summary>Attention score soft-cap; 0 means none.</summary>
    public float AttentionLogitSoftCap { get; init; }

    /// <summary>Sliding window per layer (positions, 0 = full attention); empty means full attention everywhere.</summary>
    public IReadOnlyList<int> SlidingWindows { get; init; } = [];

    /// <summary>The output projection reuses the token embedding matrix.</summary>
    public bool TiedOutput { get; init; }

    /// <summary>Query width Heads·HeadDim.</summary>
    public int QueryDim => Heads * HeadDim;

    /// <summary>Key/value width KvHeads·HeadDim.</summary>
    public int KvDim => KvHeads * HeadDim;

    /// <summary>Sliding window of <paramref name="layer"/> (0 = none).</summary>
    public int SlidingWindow(int layer) => layer < SlidingWindows.Count ? SlidingWindows[layer] : 0;

    /// <summary>The attention score scale actually used (<see cref="AttentionScale"/>, or 1/√HeadDim when 0).</summary>
    public float EffectiveAttentionScale => AttentionScale != 0f ? AttentionScale : 1f / MathF.Sqrt(HeadDim);

    /// <summary>RoPE settings of <paramref name="layer"/>: <see cref="SlidingRope"/> on sliding layers when set, else <see cref="Rope"/>.</summary>
    public RopeParameters RopeFor(int layer) => SlidingRope is { } s && SlidingWindow(layer) > 0 ? s : Rope;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent value.</summary>
    public void Validate()
    {
        void Positive(int v, string name)
        {
            if (v <= 0) throw new ArgumentException($"{name} must be positive, got {v}");
        }
        Positive(Layers, nameof(Layers));
        Positive(EmbeddingLength, nameof(EmbeddingLength));
        Positive(FeedForwardLength, nameof(FeedForwardLength));
        Positive(Heads, nameof(Heads));
        Positive(KvHeads, nameof(KvHeads));
        Positive(HeadDim, nameof(HeadDim));
        Positive(VocabSize, nameof(VocabSize));
        Positive(ContextLength, nameof(ContextLength));
        if (Heads % KvHeads != 0) throw new ArgumentException($"Heads {Heads} is not a multiple of KvHeads {KvHeads}");
        if (Rope.RotaryDims <= 0 || Rope.RotaryDims > HeadDim || Rope.RotaryDims % 2 != 0)
            throw new ArgumentException($"rotary dims {Rope.RotaryDims} must be even and in (0, HeadDim {HeadDim}]");
        if (SlidingRope is { } sr && (sr.RotaryDims <= 0 || sr.RotaryDims > HeadDim || sr.RotaryDims % 2 != 0))
            throw new ArgumentException($"sliding-layer rotary dims {sr.RotaryDims} must be even and in (0, HeadDim {HeadDim}]");
        if (SlidingWindows.Count != 0 && SlidingWindows.Count != Layers)
            throw new ArgumentException($"SlidingWindows has {SlidingWindows.Count} entries for {Layers} layers");
    }
}
