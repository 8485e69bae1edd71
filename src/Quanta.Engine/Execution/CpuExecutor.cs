using System.Diagnostics;
using Quanta.Core.Threading;
using Quanta.Models.Runtime;

namespace Quanta.Engine.Execution;

/// <summary>
/// <see cref="IExecutor"/> on the CPU: a thin wrapper over <see cref="DecoderModel.ForwardBatch(ReadOnlySpan{ForwardSegment}, Span{float}, DecoderWorkspace)"/>,
/// the model's one forward pass. A step's sequences become the batch's segments, so all their tokens (prefill chunks
/// and decode tokens alike) run as one activation matrix and every weight matrix is read once per step; each sequence's
/// K/V and attention go through its own KV view. The model's pass is batch-invariant, so a sequence's logits are
/// bit-identical alone, in any batch, and to <see cref="DecoderModel.Forward"/> with a contiguous cache. All buffers are
/// allocated in the constructor.
/// </summary>
public sealed class CpuExecutor : IExecutor
{
    private readonly DecoderModel _model;
    private readonly DecoderWorkspace _workspace;
    private readonly ForwardSegment[] _segments;   // [MaxBatchSequences]
    private readonly float[] _logits;              // [MaxBatchSequences, vocab]

    /// <summary>
    /// Creates an executor for steps of up to <paramref name="maxBatchTokens"/> tokens over up to
    /// <paramref name="maxBatchSequences"/> sequences at positions below <paramref name="maxPositions"/>.
    /// </summary>
    public CpuExecutor(DecoderModel model, WorkerPool pool, int maxBatchTokens, int maxBatchSequences, int maxPositions)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchTokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchSequences);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPositions);
        MaxBatchTokens = maxBatchTokens;
        MaxBatchSequences = maxBatchSequences;
        MaxPositions = maxPositions;
        _workspace = model.CreateWorkspace(maxBatchTokens, maxBatchSequences, maxPositions, pool);
        _segments = new ForwardSegment[maxBatchSequences];
        _logits = new float[maxBatchSequences * model.Config.VocabSize];
    }

    /// <inheritdoc/>
    public int VocabSize => _model.Config.VocabSize;

    /// <inheritdoc/>
    public int MaxBatchTokens { get; }

    /// <inheritdoc/>
    public int MaxBatchSequences { get; }

    /// <summary>Positions covered by the RoPE tables and attention scratch.</summary>
    public int MaxPositions { get; }

    /// <summary>The model whose weights run.</summary>
    public DecoderModel Model => _model;

    /// <inheritdoc/>
    public ExecutionResult Execute(ExecutionBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long t0 = Stopwatch.GetTimestamp();
        IReadOnlyList<SequenceWork> seqs = batch.Sequences;
        int ns = seqs.Count;
        if (ns > MaxBatchSequences) throw new ArgumentException($"{ns} sequences exceed the executor's {MaxBatchSequences}", nameof(batch));
        if (batch.TotalTokens > MaxBatchTokens) throw new ArgumentException($"{batch.TotalTokens} tokens exceed the executor's {MaxBatchTokens}", nameof(batch));
        var row = new int[ns];   // logits row of each entry, −1 when it asked for none (kept by the result)
        int rows = 0;
        for (int s = 0; s < ns; s++)
        {
            SequenceWork w = seqs[s];
            if (w.Kv is null) throw new ArgumentException($"sequence {w.SequenceId} has no KV view", nameof(batch));
            _segments[s] = new ForwardSegment(w.Tokens, w.StartPosition, w.Kv, w.NeedsLogits);
            row[s] = w.NeedsLogits ? rows++ : -1;
        }
        try
        {
            if (ns > 0) _model.ForwardBatch(_segments.AsSpan(0, ns), _logits, _workspace);
        }
        finally
        {
            Array.Clear(_segments, 0, ns);   // hold no sequence's view past the step
        }
        return new ExecutionResult(_logits, row, VocabSize, Stopwatch.GetElapsedTime(t0));
    }
}
