namespace Quanta.Core.ModelFiles.Llama2c;

/// <summary>Which llama2.c checkpoint layout a file uses.</summary>
public enum Llama2cFormat
{
    /// <summary>Header-less legacy export: seven int32 then float32 weights including the RoPE tables.</summary>
    Legacy,
    /// <summary>"version 1" export: magic 0x616b3432, version 1, seven int32, shared flag, padded to 256 bytes.</summary>
    Version1,
}

/// <summary>
/// Hyperparameters of a llama2.c checkpoint (validated: all positive, dim divisible by n_heads,
/// n_heads divisible by n_kv_heads).
/// </summary>
/// <param name="Dim">Model width (embedding length).</param>
/// <param name="HiddenDim">FFN inner width.</param>
/// <param name="NLayers">Transformer blocks.</param>
/// <param name="NHeads">Query heads.</param>
/// <param name="NKvHeads">Key/value heads (grouped-query attention when fewer than <paramref name="NHeads"/>).</param>
/// <param name="VocabSize">Tokens (absolute value of the legacy header field).</param>
/// <param name="SeqLen">Maximum sequence length.</param>
/// <param name="SharedClassifier">True when the output classifier reuses the token embedding table.</param>
public sealed record Llama2cConfig(
    int Dim, int HiddenDim, int NLayers, int NHeads, int NKvHeads, int VocabSize, int SeqLen, bool SharedClassifier)
{
    /// <summary>Dim / NHeads.</summary>
    public int HeadSize => Dim / NHeads;

    /// <summary>NKvHeads x HeadSize: width of the K and V projections.</summary>
    public int KvDim => NKvHeads * HeadSize;
}
