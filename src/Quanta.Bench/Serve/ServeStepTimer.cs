using System.Diagnostics;
using System.Globalization;
using System.Text;
using Quanta.Engine.Execution;

namespace Quanta.Bench.Serve;

/// <summary>One engine step as <see cref="ServeStepTimer"/> saw it.</summary>
/// <param name="Sequences">Sequences in the step.</param>
/// <param name="Tokens">Tokens in the step (prefill chunks and decode tokens).</param>
/// <param name="ExecuteSeconds">Wall time of the executor call.</param>
/// <param name="GapSeconds">Wall time from the end of the previous executor call to this one (the engine loop's own
/// work: sampling, token hand-off, scheduler); NaN for the first step after <see cref="ServeStepTimer.Mark"/> or after
/// the engine went idle.</param>
/// <param name="FirstOfShape">True when no earlier step since the timer was created had this many sequences and tokens.</param>
public readonly record struct TimedStep(int Sequences, int Tokens, double ExecuteSeconds, double GapSeconds, bool FirstOfShape);

/// <summary>
/// An <see cref="IExecutor"/> wrapper (for <c>ServingOptions.WrapExecutor</c>) that times every step and the loop's
/// time between steps, so the serving benchmark can say where a step's time goes: in the model (executor) or in the
/// engine loop around it, and what the first step at a new batch shape costs. Records go to a list pre-sized for
/// <paramref name="capacity"/> steps (no allocation per step below that). Steps are recorded on the engine thread;
/// <see cref="Mark"/> and <see cref="Take"/> lock and are meant for the caller between rounds.
/// </summary>
public sealed class ServeStepTimer(IExecutor inner, int capacity = 1 << 16) : IExecutor
{
    private const double IdleGapSeconds = 0.05;   // a longer gap is the engine waiting for requests, not loop work

    private readonly IExecutor _inner = inner ?? throw new ArgumentNullException(nameof(inner));
    private readonly List<TimedStep> _steps = new(capacity);
    private readonly HashSet<(int, int)> _shapes = [];
    private readonly Lock _lock = new();
    private long _lastEnd = -1;

    /// <inheritdoc/>
    public int VocabSize => _inner.VocabSize;

    /// <inheritdoc/>
    public int MaxBatchTokens => _inner.MaxBatchTokens;

    /// <inheritdoc/>
    public int MaxBatchSequences => _inner.MaxBatchSequences;

    /// <summary>Forgets the steps recorded so far (the shapes seen stay seen).</summary>
    public void Mark()
    {
        lock (_lock)
        {
            _steps.Clear();
            _lastEnd = -1;
        }
    }

    /// <summary>The steps recorded since the last <see cref="Mark"/> (a copy).</summary>
    public IReadOnlyList<TimedStep> Take()
    {
        lock (_lock) return _steps.ToArray();
    }

    /// <inheritdoc/>
    public ExecutionResult Execute(ExecutionBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long t0 = Stopwatch.GetTimestamp();
        ExecutionResult r = _inner.Execute(batch);
        long t1 = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            double gap = _lastEnd < 0 ? double.NaN : Stopwatch.GetElapsedTime(_lastEnd, t0).TotalSeconds;
            if (gap > IdleGapSeconds) gap = double.NaN;
            bool first = _shapes.Add((batch.Sequences.Count, batch.TotalTokens));
            _steps.Add(new TimedStep(batch.Sequences.Count, batch.TotalTokens, Stopwatch.GetElapsedTime(t0, t1).TotalSeconds, gap, first));
            _lastEnd = t1;
        }
        return r;
    }

    /// <summary>
    /// A short table of <paramref name="steps"/>: per batch size of decode-only steps (tokens = sequences), the steps,
    /// the median executor time, the median gap, the fastest executor time (on a shared machine the least disturbed
    /// step); then the steps with prompt tokens, and the first-of-shape steps.
    /// </summary>
    public static string Summary(IReadOnlyList<TimedStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("| step kind | steps | executor ms (median) | executor ms (max) | loop gap ms (median) | executor ms (min) |\n|---|---:|---:|---:|---:|---:|\n");
        foreach (var g in steps.Where(s => s.Tokens == s.Sequences).GroupBy(s => s.Sequences).OrderBy(g => g.Key))
            Row(sb, ci, $"decode x{g.Key}", [.. g]);
        TimedStep[] prefill = [.. steps.Where(s => s.Tokens != s.Sequences)];
        if (prefill.Length > 0) Row(sb, ci, "with prompt tokens", prefill);
        TimedStep[] first = [.. steps.Where(s => s.FirstOfShape)];
        if (first.Length > 0) Row(sb, ci, "first of their shape", first);
        return sb.ToString();
    }

    /// <summary>
    /// Tokens per second of the decode-only steps with <paramref name="sequences"/> sequences: sequences / (median
    /// executor time + median loop gap) of those steps; null when there are none.
    /// </summary>
    public static double? DecodeTokensPerSecond(IReadOnlyList<TimedStep> steps, int sequences)
    {
        ArgumentNullException.ThrowIfNull(steps);
        TimedStep[] g = [.. steps.Where(s => s.Sequences == sequences && s.Tokens == sequences)];
        if (g.Length == 0) return null;
        double[] gaps = [.. g.Select(s => s.GapSeconds).Where(x => !double.IsNaN(x))];
        return sequences / (Median([.. g.Select(s => s.ExecuteSeconds)]) + (gaps.Length == 0 ? 0 : Median(gaps)));
    }

    private static void Row(StringBuilder sb, CultureInfo ci, string name, TimedStep[] g)
    {
        double[] gaps = [.. g.Select(s => s.GapSeconds).Where(x => !double.IsNaN(x))];
        string gap = gaps.Length == 0 ? "-" : (Median(gaps) * 1e3).ToString("F2", ci);
        sb.Append(ci, $"| {name} | {g.Length} | {Median([.. g.Select(s => s.ExecuteSeconds)]) * 1e3:F2} | {g.Max(s => s.ExecuteSeconds) * 1e3:F2} | {gap} | {g.Min(s => s.ExecuteSeconds) * 1e3:F2} |\n");
    }

    private static double Median(double[] v)
    {
        Array.Sort(v);
        return v.Length % 2 == 1 ? v[v.Length / 2] : 0.5 * (v[v.Length / 2 - 1] + v[v.Length / 2]);
    }
}
