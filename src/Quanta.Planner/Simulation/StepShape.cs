namespace Quanta.Planner.Simulation;

/// <summary>
/// What one engine step computes, summed over its sequences: the inputs a step-time model needs.
/// </summary>
/// <param name="Sequences">Sequences in the step.</param>
/// <param name="PrefillTokens">Prompt (or recomputed) tokens processed in prefill chunks.</param>
/// <param name="DecodeTokens">One-token decode work items.</param>
/// <param name="KvReadTokens">Tokens of KV cache already stored that the step reads (each item's start position).</param>
/// <param name="AttendedPairs">Sum over new tokens of the positions each attends to (itself included).</param>
public readonly record struct StepShape(int Sequences, int PrefillTokens, int DecodeTokens, double KvReadTokens, double AttendedPairs)
{
    /// <summary>All new tokens of the step.</summary>
    public int Tokens => PrefillTokens + DecodeTokens;

    /// <summary>
    /// Rows of logits the step computes and samples (one per sequence that asked for logits: every decode and the
    /// chunk that completes a prompt); 0 when the producer did not count them.
    /// </summary>
    public int LogitsRows { get; init; }

    /// <summary>
    /// The part of <see cref="AttendedPairs"/> from one-token decode items (Σ of their positions attended); decode rows
    /// run the attention kernel one query at a time, prefill chunks in blocks of rows. 0 when the producer did not count them.
    /// </summary>
    public double DecodePairs { get; init; }
}

/// <summary>Predicts the duration of one engine step. Implementations must be pure (same shape, same time) and fast.</summary>
public interface IStepTimeModel
{
    /// <summary>Seconds the step takes (> 0).</summary>
    double Seconds(in StepShape step);

    /// <summary>Seconds once per request outside the steps (added to its TTFT and end-to-end latency); 0 by default.</summary>
    double RequestOverheadSeconds => 0;
}

/// <summary>
/// A step-time model that is an affine function of the step's tokens: <c>Fixed + PerToken x tokens +
/// PerContextToken x KV tokens read</c>. Meant for tests and what-if studies where the answer must be computable by hand.
/// </summary>
/// <param name="FixedSeconds">Seconds every step costs.</param>
/// <param name="PerTokenSeconds">Seconds per new token.</param>
/// <param name="PerContextTokenSeconds">Seconds per KV-cache token read.</param>
public sealed record AffineStepTime(double FixedSeconds, double PerTokenSeconds = 0, double PerContextTokenSeconds = 0) : IStepTimeModel
{
    /// <inheritdoc/>
    public double Seconds(in StepShape step) => FixedSeconds + PerTokenSeconds * step.Tokens + PerContextTokenSeconds * step.KvReadTokens;
}
