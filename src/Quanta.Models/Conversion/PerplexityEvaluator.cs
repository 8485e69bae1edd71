namespace Quanta.Models.Conversion;

/// <summary>Options of <see cref="PerplexityEvaluator"/>.</summary>
public sealed record PerplexityOptions
{
    /// <summary>Tokens per chunk (the KV context of each evaluation), at least 2.</summary>
    public int Context { get; init; } = 512;

    /// <summary>Most chunks to evaluate; 0 means all that fit.</summary>
    public int MaxChunks { get; init; }

    /// <summary>Token written over each chunk's first position (llama-perplexity puts BOS there when the vocabulary adds one); null keeps the text's token.</summary>
    public int? Bos { get; init; }

    /// <summary>Threads of the sessions (0 = processor count).</summary>
    public int Threads { get; init; }
}

/// <summary>Perplexity (and, against a reference model, KL divergence) of a token sequence.</summary>
/// <param name="Chunks">Chunks evaluated.</param>
/// <param name="TokensScored">Predictions scored ((Context − 1 − Context/2) per chunk).</param>
/// <param name="Perplexity">exp(mean negative log-likelihood) over all scored predictions.</param>
/// <param name="MeanNll">Mean negative log-likelihood (nats).</param>
/// <param name="ChunkPerplexities">Running perplexity after each chunk (what llama-perplexity prints).</param>
/// <param name="MeanKlDivergence">Mean KL(reference ‖ model) over scored positions, in nats; null without a reference.</param>
/// <param name="SameTopTokenRate">Fraction of scored positions where both models' most likely token agree; null without a reference.</param>
/// <param name="ReferencePerplexity">The reference model's perplexity on the same tokens; null without a reference.</param>
public sealed record PerplexityResult(int Chunks, long TokensScored, double Perplexity, double MeanNll, IReadOnlyList<double> ChunkPerplexities,
    double? MeanKlDivergence, double? SameTopTokenRate, double? ReferencePerplexity);

/// <summary>
/// llama-perplexity's method: the tokens are cut into non-overlapping chunks of <see cref="PerplexityOptions.Context"/>
/// tokens (a trailing partial chunk is dropped); each chunk is run from an empty cache with its first token replaced by
/// BOS when given; only the second half of each chunk is scored (positions j = n/2 .. n−2 predict token j+1), so every
/// scored prediction sees at least n/2 tokens of context. Perplexity = exp(Σ −log p(token) / count). With a reference
/// model, each scored position also adds KL(p_ref ‖ p_model) = Σ p_ref (log p_ref − log p_model) and whether the two
/// argmax tokens agree. Log-softmax in double precision.
/// </summary>
public static class PerplexityEvaluator
{
    /// <summary>Evaluates <paramref name="model"/> on <paramref name="tokens"/>; <paramref name="onChunk"/> gets (chunk index, running PPL).</summary>
    public static PerplexityResult Evaluate(LoadedModel model, ReadOnlySpan<int> tokens, PerplexityOptions options, LoadedModel? reference = null,
        Action<int, int, double>? onChunk = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        int n = options.Context;
        if (n < 2) throw new ArgumentException($"--context must be at least 2, got {n}");
        if (options.MaxChunks < 0) throw new ArgumentException($"--chunks must not be negative, got {options.MaxChunks}");
        int vocab = model.Config.VocabSize;
        if (reference != null && reference.Config.VocabSize != vocab)
            throw new ArgumentException($"reference vocabulary {reference.Config.VocabSize} differs from the model's {vocab}");
        int available = tokens.Length / n;
        if (available == 0) throw new ArgumentException($"the text has {tokens.Length} tokens, fewer than one chunk of {n}; use a smaller --context or a longer file");
        int chunks = options.MaxChunks > 0 ? Math.Min(options.MaxChunks, available) : available;

        var sessionOptions = new SessionOptions { ContextLength = n, Threads = options.Threads };
        using var session = model.CreateSession(sessionOptions);
        using var refSession = reference?.CreateSession(sessionOptions);
        var logits = new float[(long)n * vocab];
        var refLogits = reference != null ? new float[(long)n * vocab] : null;
        var chunk = new int[n];
        var logp = new double[vocab];
        var refLogp = new double[vocab];
        var running = new List<double>(chunks);
        double nll = 0, kl = 0;
        long count = 0, same = 0;
        double refNll = 0;
        int first = n / 2;
        for (int c = 0; c < chunks; c++)
        {
            tokens.Slice(c * n, n).CopyTo(chunk);
            if (options.Bos is int bos) chunk[0] = bos;
            session.Reset();
            session.Prefill(chunk, logits);
            if (refSession != null)
            {
                refSession.Reset();
                refSession.Prefill(chunk, refLogits);
            }
            for (int j = first; j < n - 1; j++)
            {
                int target = chunk[j + 1];
                int top = LogSoftmax(logits.AsSpan(j * vocab, vocab), logp);
                nll -= logp[target];
                if (refLogits != null)
                {
                    int refTop = LogSoftmax(refLogits.AsSpan(j * vocab, vocab), refLogp);
                    refNll -= refLogp[target];
                    double d = 0;
                    for (int v = 0; v < vocab; v++) d += Math.Exp(refLogp[v]) * (refLogp[v] - logp[v]);
                    kl += d;
                    if (top == refTop) same++;
                }
                count++;
            }
            double ppl = Math.Exp(nll / count);
            running.Add(ppl);
            onChunk?.Invoke(c, chunks, ppl);
        }
        return new PerplexityResult(chunks, count, Math.Exp(nll / count), nll / count, running,
            reference != null ? kl / count : null, reference != null ? (double)same / count : null,
            reference != null ? Math.Exp(refNll / count) : null);
    }

    /// <summary>Writes log-softmax(<paramref name="x"/>) into <paramref name="dst"/> (double) and returns the argmax (first on ties).</summary>
    public static int LogSoftmax(ReadOnlySpan<float> x, Span<double> dst)
    {
        int top = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[top]) top = i;
        double max = x[top], sum = 0;
        for (int i = 0; i < x.Length; i++) sum += Math.Exp(x[i] - max);
        double lse = max + Math.Log(sum);
        for (int i = 0; i < x.Length; i++) dst[i] = x[i] - lse;
        return top;
    }
}
