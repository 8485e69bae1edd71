namespace Quanta.Planner.Catalogs;

/// <summary>
/// A model's shape. For kind "llm": transformer hyper-parameters as a Hugging Face config.json states them (mlp "gated"
/// = SwiGLU with three matrices, "plain" = two; experts / active_experts for mixture-of-experts). For kind "vision" and
/// "recsys": work per sample (flops_per_sample, and activation_elements_per_sample or bytes_per_sample).
/// </summary>
public sealed record ModelSpec(string Id, string Name, string Kind, IReadOnlyList<string>? Aliases, string Source,
    string? HfRepo = null, int Layers = 0, int Hidden = 0, int Intermediate = 0, int Heads = 0, int KvHeads = 0, int HeadDim = 0,
    int Vocab = 0, bool TiedEmbeddings = false, string Mlp = "gated", int Experts = 1, int ActiveExperts = 1, int? ContextLength = null,
    double Params = 0, double FlopsPerSample = 0, double ActivationElementsPerSample = 0, double BytesPerSample = 0,
    bool Estimated = false, string? Note = null)
{
    /// <summary>True for a transformer language model (token-step performance model).</summary>
    public bool IsLlm => string.Equals(Kind, "llm", StringComparison.OrdinalIgnoreCase);

    private double AttentionParamsPerLayer => (double)Hidden * Heads * HeadDim * 2 + 2.0 * Hidden * KvHeads * HeadDim;

    private double ExpertParams => (string.Equals(Mlp, "plain", StringComparison.OrdinalIgnoreCase) ? 2.0 : 3.0) * Hidden * Intermediate;

    private double RouterParamsPerLayer => Experts > 1 ? (double)Hidden * Experts : 0;

    private double EmbeddingParams => (double)Vocab * Hidden * (TiedEmbeddings ? 1 : 2);

    /// <summary>Total weights (all experts, embeddings, norms; biases ignored). For vision/recsys: the catalog's params.</summary>
    public double TotalParams => IsLlm
        ? Layers * (AttentionParamsPerLayer + Experts * ExpertParams + RouterParamsPerLayer + 2.0 * Hidden) + EmbeddingParams + Hidden
        : Params;

    /// <summary>Weights of all layers outside the experts (attention, router, norms, embeddings): read every step.</summary>
    public double SharedParams => TotalParams - Layers * Experts * ExpertParams;

    /// <summary>Weights of all experts together (0 for a dense model; the MLP counts as shared there).</summary>
    public double ExpertParamsTotal => Experts > 1 ? Layers * Experts * ExpertParams : 0;

    /// <summary>
    /// Parameters that take part in matrix products for one token: attention, the active experts' MLPs, the router and
    /// the output head (the embedding lookup is not a product). FLOPs per token = 2 x this (+ attention over the context).
    /// </summary>
    public double MatmulParamsPerToken => Layers * (AttentionParamsPerLayer + ActiveExperts * ExpertParams + RouterParamsPerLayer) + (double)Vocab * Hidden;

    /// <summary>KV-cache bytes per token: 2 (K and V) x layers x kv_heads x head_dim x bytes per element.</summary>
    public double KvBytesPerToken(Precision kv) => 2.0 * Layers * KvHeads * HeadDim * PrecisionInfo.BytesPerKvElement(kv);

    /// <summary>Weight bytes at precision <paramref name="p"/> (all weights stored at that precision, 4-bit with group scales).</summary>
    public double WeightBytes(Precision p) => TotalParams * PrecisionInfo.BytesPerWeight(p);
}
