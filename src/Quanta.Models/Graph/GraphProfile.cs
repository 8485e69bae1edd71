using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Quanta.Models.Graph;

/// <summary>
/// Per-op-type wall time of <see cref="GraphSession"/> runs: set <see cref="GraphSession.Profile"/> to an instance and
/// every node run adds its elapsed time (Stopwatch ticks, the operator's Run only, allocation of outputs included)
/// and one call under its op type (fused nodes under their fused type, e.g. "MatMulAdd"). Also counts whole runs and
/// their total time, so the gap between the node sum and the run total is the executor's own per-node overhead.
/// Not thread-safe (a session runs one call at a time).
/// </summary>
public sealed class GraphProfile
{
    private readonly Dictionary<string, (long Ticks, long Calls)> _ops = new(StringComparer.Ordinal);

    /// <summary>Completed runs recorded.</summary>
    public long Runs { get; private set; }
    /// <summary>Total Stopwatch ticks of the recorded runs (from plan lookup to outputs).</summary>
    public long RunTicks { get; private set; }

    /// <summary>Per op type: total Stopwatch ticks and calls.</summary>
    public IReadOnlyDictionary<string, (long Ticks, long Calls)> Ops => _ops;

    internal void AddNode(string opType, long ticks)
    {
        ref var e = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_ops, opType, out _);
        e = (e.Ticks + ticks, e.Calls + 1);
    }

    internal void AddRun(long ticks)
    {
        Runs++;
        RunTicks += ticks;
    }

    /// <summary>Forgets everything recorded.</summary>
    public void Reset()
    {
        _ops.Clear();
        Runs = 0;
        RunTicks = 0;
    }

    /// <summary>A table, slowest op type first: milliseconds per run, share of the run time, calls per run.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        double runs = Math.Max(Runs, 1), total = Math.Max(RunTicks, 1);
        double perMs = 1000.0 / Stopwatch.Frequency;
        var c = CultureInfo.InvariantCulture;
        sb.AppendLine(c, $"{"op type",-22} {"ms/run",9} {"share",7} {"calls/run",10}");
        long nodes = 0;
        foreach (var (op, (ticks, calls)) in _ops.OrderByDescending(kv => kv.Value.Ticks))
        {
            nodes += ticks;
            sb.AppendLine(c, $"{op,-22} {ticks * perMs / runs,9:F3} {ticks / total,7:P1} {calls / runs,10:F1}");
        }
        sb.AppendLine(c, $"{"(executor overhead)",-22} {(RunTicks - nodes) * perMs / runs,9:F3} {(RunTicks - nodes) / total,7:P1}");
        sb.Append(c, $"{"total",-22} {RunTicks * perMs / runs,9:F3} over {Runs} runs");
        return sb.ToString();
    }
}
