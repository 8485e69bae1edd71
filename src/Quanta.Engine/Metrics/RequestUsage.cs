namespace Quanta.Engine.Metrics;

/// <summary>What a finished request consumed, for the API response's usage block and logs.</summary>
/// <param name="PromptTokens">Prompt tokens.</param>
/// <param name="CompletionTokens">Generated tokens.</param>
/// <param name="CachedPromptTokens">Prompt tokens served from the prefix cache.</param>
/// <param name="EnergyJoules">Its token share of the energy of every step it ran in.</param>
/// <param name="EnergyEstimated">True when that energy comes from the power model rather than a meter.</param>
/// <param name="CostUsd">Its token share of the device time of those steps × the device's $/hour; null when no price is configured.</param>
/// <param name="TimeToFirstTokenSeconds">Queued → first token, or null when no token was reported.</param>
/// <param name="QueueSeconds">Queued → first scheduled step, or null when it never ran.</param>
/// <param name="E2eSeconds">Queued → finished.</param>
public readonly record struct RequestUsage(int PromptTokens, int CompletionTokens, int CachedPromptTokens, double EnergyJoules, bool EnergyEstimated,
    double? CostUsd, double? TimeToFirstTokenSeconds, double? QueueSeconds, double E2eSeconds);
