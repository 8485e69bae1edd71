using Quanta.Engine.Metrics;
using Quanta.Engine.Sampling;

namespace Quanta.Engine.Serving;

/// <summary>
/// One generation request as the serving layer takes it: prompt token ids (a rendered chat template or a completion
/// prompt) and sampling. <see cref="SamplingParameters.N"/> choices are generated, each with its own sampler
/// (<see cref="SamplingParameters.ForChoice"/>); <see cref="SamplingParameters.MaxTokens"/> (null: until the context
/// is full) and <see cref="SamplingParameters.Stop"/> are honoured per choice.
/// </summary>
public sealed record ServingRequest
{
    /// <summary>Prompt token ids (at least one, each below the vocabulary size, fewer than the context length).</summary>
    public required IReadOnlyList<int> Prompt { get; init; }

    /// <summary>Sampling settings.</summary>
    public SamplingParameters Sampling { get; init; } = new();

    /// <summary>Scheduling priority: lower runs first.</summary>
    public int Priority { get; init; }

    /// <summary>
    /// Generate past end-of-generation tokens until the token limit (vLLM's ignore_eos, for benchmarks): end tokens are
    /// sampled like any other token (they render no text) and do not end the choice.
    /// </summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Absolute deadline; when it passes, unfinished choices end with <see cref="ServingFinishReason.Deadline"/>.</summary>
    public DateTimeOffset? Deadline { get; init; }
}

/// <summary>Why a choice ended.</summary>
public enum ServingFinishReason
{
    /// <summary>An end-of-generation token or a stop string.</summary>
    Stop,

    /// <summary>The token limit or the end of the context.</summary>
    Length,

    /// <summary>Cancelled (client gone).</summary>
    Cancelled,

    /// <summary>The deadline passed.</summary>
    Deadline,

    /// <summary>The engine could not run it (it needs more KV blocks than the pool holds).</summary>
    Aborted,
}

/// <summary>A sampled token's log-probability and its most likely alternatives (copied out of the sampler).</summary>
/// <param name="Token">The sampled token id.</param>
/// <param name="Logprob">Its natural-log probability.</param>
/// <param name="Top">The most likely tokens, best first (empty unless top_logprobs &gt; 0).</param>
public sealed record ServingLogprob(int Token, float Logprob, IReadOnlyList<TopLogprob> Top);

/// <summary>
/// One piece of a choice's output. <paramref name="Text"/> is safe to show (never half a UTF-8 character, never stop
/// text; may be empty). <paramref name="Token"/> is the token that produced it (−1 for the final flush).
/// The last delta of a choice has <paramref name="Finish"/> set.
/// </summary>
public sealed record ServingDelta(int Choice, string Text, int Token, ServingLogprob? Logprob, ServingFinishReason? Finish);

/// <summary>Token counts, energy and cost of a finished request (sums over its choices; see <see cref="RequestUsage"/>).</summary>
/// <param name="PromptTokens">Prompt length.</param>
/// <param name="CompletionTokens">Tokens generated over all choices (an end token or the token completing a stop string included).</param>
/// <param name="CachedTokens">Prompt tokens served from the prefix cache (choice 0).</param>
/// <param name="EnergyJoules">Token share of the energy of every engine step its choices ran in.</param>
/// <param name="CostUsd">Token share of those steps' device time × the device's $/hour; null when no price is configured.</param>
/// <param name="EnergyEstimated">True when the energy comes from the power model rather than a meter.</param>
public sealed record ServingUsage(int PromptTokens, int CompletionTokens, int CachedTokens, double EnergyJoules, double? CostUsd, bool EnergyEstimated)
{
    /// <summary>Prompt plus completion tokens.</summary>
    public int TotalTokens => PromptTokens + CompletionTokens;
}
