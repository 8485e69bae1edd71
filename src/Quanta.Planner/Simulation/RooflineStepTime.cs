using Quanta.Planner.Performance;

namespace Quanta.Planner.Simulation;

/// <summary>
/// Step times from the planner's <see cref="RooflineModel"/>: one step of T new tokens reads the weights once, the KV
/// cache of every item's existing context (decodes and later prefill chunks) and writes the new tokens' K/V. Memory
/// time and communication come from <see cref="RooflineModel.Step"/>; the compute time of a mixed step (prefill chunks
/// beside decodes) weights the prefill and decode achievable tensor throughputs by their share of the step's tokens,
/// and the step costs max(memory, compute) + step overhead + all-reduce time, as the roofline states.
/// </summary>
public sealed class RooflineStepTime : IStepTimeModel
{
    /// <summary>Wraps <paramref name="roofline"/>.</summary>
    public RooflineStepTime(RooflineModel roofline) => Roofline = roofline ?? throw new ArgumentNullException(nameof(roofline));

    /// <summary>The underlying roofline model.</summary>
    public RooflineModel Roofline { get; }

    /// <inheritdoc/>
    public double RequestOverheadSeconds => Roofline.Eff.RequestOverheadS;

    /// <inheritdoc/>
    public double Seconds(in StepShape step)
    {
        int tokens = step.Tokens;
        if (tokens <= 0) throw new ArgumentException("a step runs at least one token", nameof(step));
        if (step.DecodeTokens == 0) return Roofline.Step(tokens, step.KvReadTokens, step.AttendedPairs, prefill: true).Seconds;
        if (step.PrefillTokens == 0) return Roofline.Step(tokens, step.KvReadTokens, step.AttendedPairs, prefill: false).Seconds;
        StepCost p = Roofline.Step(tokens, step.KvReadTokens, step.AttendedPairs, prefill: true);
        StepCost d = Roofline.Step(tokens, step.KvReadTokens, step.AttendedPairs, prefill: false);
        double share = (double)step.PrefillTokens / tokens;
        double compute = share * p.ComputeSeconds + (1 - share) * d.ComputeSeconds;
        double overhead = p.Seconds - Math.Max(p.MemorySeconds, p.ComputeSeconds) - p.CommSeconds;
        return Math.Max(p.MemorySeconds, compute) + overhead + p.CommSeconds;
    }
}
