using Quanta.Core.Kernels.Ops;
using Quanta.Engine.Sampling;

namespace Quanta.Engine.Scheduling;

/// <summary>
/// Chooses a sequence's next token from its logits [vocab]. Called on the engine thread, once per generated token,
/// in generation order; a sampler may keep per-sequence state (penalties, RNG) — it is never called for tokens that
/// are recomputed after a preemption.
/// </summary>
public delegate int TokenSampler(ReadOnlySpan<float> logits);

/// <summary>Ready-made <see cref="TokenSampler"/>s.</summary>
public static class TokenSamplers
{
    /// <summary>Greedy decoding: the first index of the largest logit.</summary>
    public static TokenSampler Greedy { get; } = static logits => Argmax.Find(logits);

    /// <summary>Samples with <paramref name="sampler"/> (owned by the request; feed it the prompt first if penalties need it).</summary>
    public static TokenSampler From(Sampler sampler)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        return logits => sampler.Sample(logits, out _);
    }
}
