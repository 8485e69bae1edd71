namespace Quanta.Bench;

/// <summary>
/// An inference engine as the benchmark drives it: one sequence, forward passes only (no tokenization, sampling or
/// logits copies). Positions continue from call to call until <see cref="Reset"/>.
/// </summary>
public interface IBenchEngine : IDisposable
{
    /// <summary>Engine name for the report ("quanta", "llama.cpp").</summary>
    string Name { get; }

    /// <summary>Vocabulary size (random token ids are drawn below it).</summary>
    int VocabSize { get; }

    /// <summary>Forgets the sequence (KV cache emptied; next position 0).</summary>
    void Reset();

    /// <summary>Runs <paramref name="tokens"/> as one batch (the engine may split it into micro-batches).</summary>
    void Prefill(ReadOnlySpan<int> tokens);

    /// <summary>Runs one token.</summary>
    void Decode(int token);
}
