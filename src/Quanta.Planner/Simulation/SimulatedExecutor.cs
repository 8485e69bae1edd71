using Quanta.Engine.Execution;

namespace Quanta.Planner.Simulation;

/// <summary>
/// The planner's <see cref="IExecutor"/>: it does no model math. For each step it sums the batch's shape
/// (<see cref="StepShape"/>: prefill and decode tokens, KV positions read, attended pairs, logits rows), asks the step-time model
/// for the duration, advances the <see cref="VirtualClock"/> by it and returns a one-entry "logits" row (vocabulary of
/// one) for every sequence that asked for logits; the request's sampler then picks <see cref="Token"/>, which is never a
/// stop token, so a sequence ends exactly when its output length (MaxNewTokens) is reached. K/V is not written: the
/// simulation's KV cache only does block bookkeeping. Buffers are reused step to step: no per-step allocation
/// beyond the <see cref="ExecutionResult"/> the interface returns.
/// </summary>
public sealed class SimulatedExecutor : IExecutor
{
    /// <summary>The token id every simulated step produces.</summary>
    public const int Token = 0;

    private readonly IStepTimeModel _model;
    private readonly VirtualClock _clock;
    private float[] _logits = new float[64];   // [rows, VocabSize = 1], all zero
    private int[] _rows = new int[64];         // [batch sequences] row of each entry, −1 when none

    /// <summary>Creates the executor.</summary>
    public SimulatedExecutor(IStepTimeModel model, VirtualClock clock, int maxBatchTokens, int maxBatchSequences)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _clock = clock ?? throw new ArgumentNullException(nameof(clock));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchTokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchSequences);
        MaxBatchTokens = maxBatchTokens;
        MaxBatchSequences = maxBatchSequences;
    }

    /// <summary>The step-time model this executor advances the clock by.</summary>
    public IStepTimeModel Model => _model;

    /// <inheritdoc/>
    public int VocabSize => 1;

    /// <inheritdoc/>
    public int MaxBatchTokens { get; }

    /// <inheritdoc/>
    public int MaxBatchSequences { get; }

    /// <summary>Steps executed.</summary>
    public long Steps { get; private set; }

    /// <summary>Sum of the modelled step times (the device's busy time), seconds.</summary>
    public double BusySeconds { get; private set; }

    /// <summary>New tokens processed over all steps (prefill, recomputation and decode).</summary>
    public long TokensProcessed { get; private set; }

    /// <summary>Shape of the last step.</summary>
    public StepShape LastStep { get; private set; }

    /// <summary>Shape of a batch (no time advanced).</summary>
    public static StepShape Shape(ExecutionBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int prefill = 0, decode = 0, logits = 0;
        double kvRead = 0, pairs = 0, decodePairs = 0;
        var seqs = batch.Sequences;
        for (int i = 0; i < seqs.Count; i++)
        {
            SequenceWork w = seqs[i];
            int n = w.Tokens.Length;
            double start = w.StartPosition;
            if (n == 1 && w.NeedsLogits && w.StartPosition > 0) { decode++; decodePairs += start + 1; } else prefill += n;
            if (w.NeedsLogits) logits++;
            kvRead += start;
            pairs += n * start + n * (n + 1.0) / 2;
        }
        return new StepShape(seqs.Count, prefill, decode, kvRead, pairs) { LogitsRows = logits, DecodePairs = decodePairs };
    }

    /// <inheritdoc/>
    public ExecutionResult Execute(ExecutionBatch batch)
    {
        StepShape shape = Shape(batch);
        if (shape.Tokens > MaxBatchTokens || shape.Sequences > MaxBatchSequences)
            throw new ArgumentException($"step of {shape.Tokens} tokens over {shape.Sequences} sequences exceeds the executor's limits ({MaxBatchTokens} tokens, {MaxBatchSequences} sequences)", nameof(batch));
        double seconds = _model.Seconds(shape);
        if (!(seconds > 0) || double.IsInfinity(seconds)) throw new InvalidOperationException($"step-time model returned {seconds} s for {shape}");
        int n = batch.Sequences.Count;
        if (_rows.Length < n)
        {
            _rows = new int[Math.Max(n, _rows.Length * 2)];
            _logits = new float[_rows.Length];
        }
        int row = 0;
        for (int i = 0; i < n; i++) _rows[i] = batch.Sequences[i].NeedsLogits ? row++ : -1;
        _clock.Advance(seconds);
        Steps++;
        BusySeconds += seconds;
        TokensProcessed += shape.Tokens;
        LastStep = shape;
        return new ExecutionResult(_logits, _rows, 1, TimeSpan.FromSeconds(seconds));
    }
}
