namespace Quanta.Engine.Generation;

/// <summary>
/// Token counts and speeds of one generation. Times cover the model's forward passes only: tokenization, sampling
/// and detokenization are excluded.
/// </summary>
/// <param name="PromptTokens">Tokens of the prompt (fed to the model in the prefill).</param>
/// <param name="CompletionTokens">Tokens sampled, including a final end-of-generation token.</param>
/// <param name="PromptTime">Wall time of the prefill forward passes.</param>
/// <param name="GenerationTime">Wall time of the per-token decode forward passes.</param>
/// <param name="DecodeSteps">Decode forward passes run (usually CompletionTokens − 1: the last sampled token is never fed back).</param>
public sealed record GenerationUsage(int PromptTokens, int CompletionTokens, TimeSpan PromptTime, TimeSpan GenerationTime, int DecodeSteps)
{
    /// <summary>PromptTokens + CompletionTokens.</summary>
    public int TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>Prefill speed: PromptTokens / PromptTime (0 when nothing was timed).</summary>
    public double PromptTokensPerSecond => PromptTime > TimeSpan.Zero ? PromptTokens / PromptTime.TotalSeconds : 0;

    /// <summary>Decode speed: DecodeSteps / GenerationTime (0 when nothing was timed).</summary>
    public double GenerationTokensPerSecond => GenerationTime > TimeSpan.Zero ? DecodeSteps / GenerationTime.TotalSeconds : 0;
}
