namespace Quanta.Engine.Metrics;

/// <summary>One request's part of an engine step: how many tokens it ran (a prefill chunk, or 1 for a decode).</summary>
/// <param name="RequestId">The id given to <see cref="ServingMetrics.RequestQueued"/> (the server and the engine loop both use RequestHandle.Id).</param>
/// <param name="Tokens">Tokens it ran in the step (≥ 0).</param>
public readonly record struct StepShare(long RequestId, int Tokens);
