namespace Quanta.Bench;

/// <summary>
/// The hyper-parameters of a llama-architecture model that <see cref="ModelGenerator"/> fills with random weights.
/// Head dimension = <see cref="Embedding"/>/<see cref="Heads"/>; RoPE rotates the whole head.
/// </summary>
/// <param name="Name">Name as users type it (e.g. "llama-3.2-1b").</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Embedding">Model width.</param>
/// <param name="FeedForward">Feed-forward inner width.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads.</param>
/// <param name="Vocab">Vocabulary size (rows of token_embd and output).</param>
/// <param name="TiedOutput">True when there is no output.weight (the head reuses token_embd).</param>
/// <param name="RopeTheta">RoPE frequency base.</param>
/// <param name="ContextLength">llama.context_length written to the file.</param>
/// <param name="Llama3RopeFreqs">Writes Llama-3.1/3.2's rope_freqs tensor (factor 32, low 1, high 4, original 8192).</param>
public sealed record ModelShape(string Name, int Layers, int Embedding, int FeedForward, int Heads, int KvHeads, int Vocab,
    bool TiedOutput, float RopeTheta, int ContextLength, bool Llama3RopeFreqs = false)
{
    /// <summary>Llama-3.2-1B: 16 layers, 2048 wide, 8192 FFN, 32/8 heads, vocab 128256, tied output, θ 500000.</summary>
    public static ModelShape Llama32_1B { get; } = new("llama-3.2-1b", 16, 2048, 8192, 32, 8, 128256, true, 500000f, 131072, true);

    /// <summary>A 160M llama: 12 layers, 768 wide, 3072 FFN, 12/12 heads, vocab 32000, separate output, θ 10000.</summary>
    public static ModelShape Llama160M { get; } = new("160m", 12, 768, 3072, 12, 12, 32000, false, 10000f, 2048);

    /// <summary>The named shapes.</summary>
    public static IReadOnlyList<ModelShape> Named { get; } = [Llama32_1B, Llama160M];

    /// <summary>Elements per attention head.</summary>
    public int HeadDim => Embedding / Heads;

    /// <summary>Looks up a named shape (any case).</summary>
    public static bool TryParse(string? name, out ModelShape shape)
    {
        shape = Named.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))!;
        return shape != null;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent value.</summary>
    public void Validate()
    {
        if (Layers <= 0 || Embedding <= 0 || FeedForward <= 0 || Heads <= 0 || KvHeads <= 0 || Vocab < 259 || ContextLength <= 0)
            throw new ArgumentException($"shape {Name}: sizes must be positive and the vocabulary at least 259 (3 specials + 256 bytes)");
        if (Embedding % Heads != 0 || Heads % KvHeads != 0 || HeadDim % 2 != 0)
            throw new ArgumentException($"shape {Name}: embedding {Embedding} must split into {Heads} heads of even size, heads into {KvHeads} groups");
    }
}
