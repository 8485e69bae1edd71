namespace Quanta.Engine.Generation;

/// <summary>The outcome of <see cref="LlmModel.Generate(string, Sampling.SamplingParameters?, CancellationToken)"/>.</summary>
/// <param name="Text">Generated text (without the prompt, end-of-generation tokens or the matched stop string); equal to
/// the concatenation of the streamed chunks.</param>
/// <param name="TokenIds">Every sampled token in order, including a final end-of-generation token.</param>
/// <param name="FinishReason">Why generation ended.</param>
/// <param name="Usage">Counts and speeds.</param>
/// <param name="StopSequence">The stop string that ended generation, or null.</param>
public sealed record GenerationResult(string Text, IReadOnlyList<int> TokenIds, GenerationFinishReason FinishReason, GenerationUsage Usage,
    string? StopSequence = null);
