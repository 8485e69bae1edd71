namespace Quanta.Engine.Generation;

/// <summary>A prompt does not fit the context (KV cache capacity) of the model instance.</summary>
public sealed class ContextLengthExceededException : ArgumentException
{
    /// <summary>Creates the exception with the numbers involved.</summary>
    public ContextLengthExceededException(int promptTokens, int contextLength)
        : base($"the prompt is {promptTokens} tokens long but the context holds only {contextLength} tokens; shorten the prompt or raise the context length")
    {
        PromptTokens = promptTokens;
        ContextLength = contextLength;
    }

    /// <summary>Creates the exception with a message.</summary>
    public ContextLengthExceededException() { }

    /// <summary>Creates the exception with a message.</summary>
    public ContextLengthExceededException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public ContextLengthExceededException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Tokens in the prompt.</summary>
    public int PromptTokens { get; }

    /// <summary>Tokens the context holds.</summary>
    public int ContextLength { get; }
}
