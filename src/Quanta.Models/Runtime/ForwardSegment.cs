using Quanta.Models.KvCache;

namespace Quanta.Models.Runtime;

/// <summary>
/// One sequence's share of a batched forward pass (<see cref="DecoderModel.ForwardBatch(ReadOnlySpan{ForwardSegment}, Span{float}, DecoderWorkspace)"/>):
/// run <see cref="Tokens"/> at positions [StartPosition, StartPosition + Tokens.Length) over <see cref="Kv"/>, which
/// already holds positions [0, StartPosition) and receives the new tokens' K/V.
/// </summary>
/// <param name="Tokens">Token ids to run (≥ 1): a prefill chunk or one decode token.</param>
/// <param name="StartPosition">Position of Tokens[0].</param>
/// <param name="Kv">The sequence's KV cache view; one view per segment (two segments must not share a view).</param>
/// <param name="NeedsLogits">Whether logits are wanted for this segment: its last token's, or every token's when the
/// batch is run with allPositions.</param>
public readonly record struct ForwardSegment(ReadOnlyMemory<int> Tokens, int StartPosition, IKvCacheView Kv, bool NeedsLogits);
