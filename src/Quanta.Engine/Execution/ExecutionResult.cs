namespace Quanta.Engine.Execution;

/// <summary>
/// What a step returns: the logits of each sequence that asked for them, the step time and (when known) energy.
/// Logits live in a buffer the executor owns: valid until its next Execute call.
/// </summary>
public sealed class ExecutionResult
{
    private readonly float[] _logits;   // [rows, VocabSize]
    private readonly int[] _row;        // [batch sequences] row of each sequence, −1 when it asked for none

    /// <summary>Wraps <paramref name="logits"/> [rows, vocab] and the row index of each batch entry (−1: none).</summary>
    public ExecutionResult(float[] logits, int[] rowOfSequence, int vocabSize, TimeSpan stepTime, double? energyJoules = null)
    {
        _logits = logits ?? throw new ArgumentNullException(nameof(logits));
        _row = rowOfSequence ?? throw new ArgumentNullException(nameof(rowOfSequence));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        VocabSize = vocabSize;
        StepTime = stepTime;
        EnergyJoules = energyJoules;
    }

    /// <summary>Logits per row.</summary>
    public int VocabSize { get; }

    /// <summary>Wall time of the step (measured) or its modelled duration (simulated executors).</summary>
    public TimeSpan StepTime { get; }

    /// <summary>Energy of the step in joules, or null when the executor cannot tell.</summary>
    public double? EnergyJoules { get; }

    /// <summary>True when batch entry <paramref name="index"/> has logits.</summary>
    public bool HasLogits(int index) => _row[index] >= 0;

    /// <summary>Logits [vocab] of batch entry <paramref name="index"/>'s last token; throws when it asked for none.</summary>
    public ReadOnlySpan<float> Logits(int index)
    {
        int r = _row[index];
        if (r < 0) throw new InvalidOperationException($"batch entry {index} did not ask for logits");
        return _logits.AsSpan(r * VocabSize, VocabSize);
    }
}
