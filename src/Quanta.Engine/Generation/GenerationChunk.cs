namespace Quanta.Engine.Generation;

/// <summary>
/// One step of <see cref="LlmModel.GenerateStreaming(string, Sampling.SamplingParameters?, CancellationToken)"/>: the
/// token sampled and the text it releases. <see cref="Text"/> is always whole UTF-16 text (a character split over
/// several tokens appears with the token that completes it) and may be empty (bytes still incomplete, or text held
/// back while it could be the start of a stop string). The last chunk has <see cref="FinishReason"/> and
/// <see cref="Usage"/> set; it may carry no token (<see cref="TokenId"/> −1) when generation was cancelled before a
/// token was sampled. The chunks' texts concatenate to the non-streaming result's text.
/// </summary>
/// <param name="Text">Newly released text (may be empty).</param>
/// <param name="TokenId">The token sampled at this step, or −1.</param>
/// <param name="FinishReason">Set on the last chunk only.</param>
/// <param name="Usage">Set on the last chunk only.</param>
/// <param name="StopSequence">On the last chunk: the stop string that ended generation, if any.</param>
public readonly record struct GenerationChunk(string Text, int TokenId, GenerationFinishReason? FinishReason = null,
    GenerationUsage? Usage = null, string? StopSequence = null)
{
    /// <summary>True for the last chunk of a generation.</summary>
    public bool IsFinal => FinishReason is not null;
}
