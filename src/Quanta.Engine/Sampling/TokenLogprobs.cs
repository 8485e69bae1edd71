namespace Quanta.Engine.Sampling;

/// <summary>One alternative in <see cref="TokenLogprobs.TopLogprobs"/>: a token id and its log-probability.</summary>
public readonly record struct TopLogprob(int Token, float Logprob);

/// <summary>
/// Log-probabilities for one sampled position, as the OpenAI API reports them: natural-log probabilities of the
/// full vocabulary distribution after logit bias and penalties but BEFORE temperature and truncation
/// (top-k / typical / top-p / min-p), so they do not depend on the sampling knobs that shape the draw.
/// <see cref="TopLogprobs"/> holds the <c>top_logprobs</c> most likely tokens, best first (ties: lower id first).
/// It is a view over the sampler's own buffer: valid until the sampler's next <see cref="Sampler.Sample"/> call;
/// copy it (<c>ToArray()</c>) to keep it.
/// </summary>
public readonly struct TokenLogprobs
{
    /// <summary>Creates the record.</summary>
    public TokenLogprobs(int token, float logprob, ReadOnlyMemory<TopLogprob> topLogprobs)
    {
        Token = token;
        Logprob = logprob;
        TopLogprobs = topLogprobs;
    }

    /// <summary>The sampled token.</summary>
    public int Token { get; }

    /// <summary>log p(sampled token); −∞ only if the token was banned (never happens for a sampled token).</summary>
    public float Logprob { get; }

    /// <summary>The most likely tokens at this position, best first; empty when top_logprobs is 0.</summary>
    public ReadOnlyMemory<TopLogprob> TopLogprobs { get; }
}
