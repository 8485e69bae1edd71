namespace Quanta.Engine.Generation;

/// <summary>Why generation ended.</summary>
public enum GenerationFinishReason
{
    /// <summary>An end-of-generation token (EOS/EOT; BOS for llama2.c checkpoints) or a stop string.</summary>
    Stop,

    /// <summary>The token limit (<see cref="Sampling.SamplingParameters.MaxTokens"/>) or the end of the context was reached.</summary>
    Length,

    /// <summary>The cancellation token fired; the result holds what was generated until then.</summary>
    Cancelled,
}
