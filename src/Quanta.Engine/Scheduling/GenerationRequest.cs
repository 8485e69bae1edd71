namespace Quanta.Engine.Scheduling;

/// <summary>
/// What a caller asks the engine for: continue <see cref="Prompt"/> by up to <see cref="MaxNewTokens"/> tokens chosen by
/// <see cref="Sampler"/>, stopping early at any of <see cref="StopTokens"/>. <see cref="Priority"/>: lower runs first,
/// first come first served within a priority. <see cref="Deadline"/>: when it passes, the request is finished with
/// <see cref="FinishReason.Deadline"/> (waiting or running).
/// </summary>
public sealed record GenerationRequest
{
    /// <summary>Prompt token ids (at least one).</summary>
    public required IReadOnlyList<int> Prompt { get; init; }

    /// <summary>Most tokens to generate (&gt; 0).</summary>
    public required int MaxNewTokens { get; init; }

    /// <summary>Picks each next token (e.g. <see cref="TokenSamplers.Greedy"/>).</summary>
    public required TokenSampler Sampler { get; init; }

    /// <summary>Token ids that end generation (EOS and friends); the stop token is emitted.</summary>
    public IReadOnlyCollection<int> StopTokens { get; init; } = [];

    /// <summary>Scheduling priority; lower values run first.</summary>
    public int Priority { get; init; }

    /// <summary>Absolute deadline, or null for none.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>
    /// When set, generated tokens go to this observer on the engine thread (see <see cref="ITokenObserver"/>) and
    /// <see cref="RequestHandle.Tokens"/> yields nothing; when null they stream through <see cref="RequestHandle.Tokens"/>.
    /// </summary>
    public ITokenObserver? Observer { get; init; }

    /// <summary>Whether the prompt may reuse (and feed) the automatic prefix cache.</summary>
    public bool UsePrefixCache { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        if (Prompt is null || Prompt.Count == 0) throw new ArgumentException("the prompt needs at least one token");
        if (MaxNewTokens <= 0) throw new ArgumentException($"MaxNewTokens must be positive, got {MaxNewTokens}");
        if (Sampler is null) throw new ArgumentException("a sampler is required");
    }
}
