namespace Quanta.Engine.Sampling;

/// <summary>
/// A per-sequence stage of <see cref="Sampler"/> that edits the logits after the bias and penalties and before
/// greedy selection or truncation (e.g. <see cref="JsonLogitsProcessor"/> sets every token that would break the
/// output's grammar to −∞). Contract: <see cref="Process"/> leaves at least one finite logit; <see cref="Accept"/> is
/// told every token the sampler picked, in order. Called on one thread at a time; must not allocate per token.
/// </summary>
public interface ILogitsProcessor
{
    /// <summary>Edits <paramref name="logits"/> (shape [vocab]) in place for the next position.</summary>
    void Process(Span<float> logits);

    /// <summary>Records that <paramref name="token"/> was generated.</summary>
    void Accept(int token);

    /// <summary>Returns to the state before the first token.</summary>
    void Reset();
}
