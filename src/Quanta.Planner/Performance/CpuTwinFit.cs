using System.Globalization;
using Quanta.Planner.Validation;

namespace Quanta.Planner.Performance;

/// <summary>
/// Least-squares fit of the CPU efficiency parameters on CPU-twin runs: Σ ln(predicted / measured)² over the
/// benchmarks' quantities (pp, tg) and the executor time of the serving engine's recorded steps (per wave size, the
/// steps with prompt tokens and the pure decode steps, <see cref="CpuTwinObservation.PredictSteps"/>), each predicted
/// from its own run's machine figures, minimized by Nelder-Mead (restarted from its best point) over the logarithms of
/// the fractions and the host cost and over the overheads in milliseconds (a fixed cost may be 0). TTFT and TPOT are
/// not fitted on: they follow from the steps through the engine's scheduler (a run without recorded steps
/// falls back to fitting on them). Fitted: the bandwidth fraction (kept at its starting value when every run's GEMM rates
/// were probed on the model's streamed weights, <see cref="CpuMeasurements.GemmRatesStreamWeights"/>: then it bounds only
/// the KV cache's traffic, which the attention probe times), the compute fraction (one for every m: the measured
/// GEMM rates already carry the dependence on m), the per-layer overhead, the host-thread cost per activation
/// element, when the runs cover models of at least two depths, the per-step overhead, and, when some quantity did not
/// read the weight products' overlap in its own bracket (<see cref="CpuTwinObservation.StreamedRates"/>), the overlap k
/// of their roofline (<see cref="CpuStepModel.Roofline"/>, linear in [0, 1]). On models of one depth the
/// per-step overhead cannot be told apart from the per-layer one (both are a fixed time per step), so it is set to 0
/// and the per-layer overhead carries the whole fixed cost: on a CPU that is the physical cause (a barrier per
/// parallel region), and it carries over to a model of another depth; the starting value of a per-step overhead is
/// never kept unfitted, since it would be a fossil of an older fit. Not fitted: the sampling cost (set to 0: the engine
/// loop's time outside the executor, sampling included, is measured on the recorded steps,
/// <see cref="CpuMeasurements.LoopCost"/>).
/// </summary>
public static class CpuTwinFit
{
    /// <summary>The names of the fitted parameters, in the fit's order.</summary>
    public static IReadOnlyList<string> Fitted { get; } = ["eff_bandwidth", "eff_compute_prefill", "layer_overhead_s", "host_element_s", "step_overhead_s", "overlap_k"];

    /// <summary>Whether some measured quantity of <paramref name="runs"/> is predicted without a streamed reading of its own
    /// (<see cref="CpuTwinObservation.StreamedRates"/>), so the products' overlap k is <see cref="EfficiencyParameters.OverlapK"/>
    /// and the fit frees it; where every quantity read its overlap, k is measured and the parameter keeps its value.</summary>
    public static bool FitsOverlap(IReadOnlyList<CpuTwinObservation> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return runs.Any(r => r.Measured.Any(q => !r.ReadsOverlap(q.Key)));
    }

    /// <summary>Whether <paramref name="runs"/> separate the per-step from the per-layer overhead: models of two or more depths.</summary>
    public static bool SeparatesStepOverhead(IReadOnlyList<CpuTwinObservation> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return runs.Where(r => r.Measured.Count > 0).Select(r => r.Spec.Layers).Distinct().Count() >= 2;
    }

    /// <summary>The (quantity, predicted, measured) triples the fit compares for <paramref name="run"/> (see the type's summary).</summary>
    public static IEnumerable<(string Quantity, double Predicted, double Measured)> Compared(CpuTwinObservation run, EfficiencyParameters eff)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.ServeSteps.Count == 0) return run.Predict(eff);
        return run.Predict(eff).Where(x => !x.Quantity.Contains('@', StringComparison.Ordinal)).Concat(run.PredictSteps(eff));
    }

    /// <summary>Sum of squared log errors of <paramref name="runs"/> under <paramref name="eff"/>.</summary>
    public static double Objective(IReadOnlyList<CpuTwinObservation> runs, EfficiencyParameters eff)
    {
        ArgumentNullException.ThrowIfNull(runs);
        double sum = 0;
        foreach (var run in runs)
            foreach (var (_, p, m) in Compared(run, eff))
            {
                double d = Math.Log(p / m);
                sum += double.IsFinite(d) ? d * d : 1e6;
            }
        return sum;
    }

    /// <summary>Fits the parameters on <paramref name="runs"/> starting from <paramref name="start"/> (see the type's summary).</summary>
    public static EfficiencyParameters Fit(IReadOnlyList<CpuTwinObservation> runs, EfficiencyParameters start)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(start);
        if (runs.Count == 0 || runs.All(r => r.Measured.Count == 0)) throw new ArgumentException("no measured quantities to fit on", nameof(runs));
        bool fitStep = SeparatesStepOverhead(runs);
        start = start with { SampleRowS = 0, StepOverheadS = fitStep ? start.StepOverheadS : 0 };
        // on rates probed over the model's own streamed weights the bandwidth fraction bounds nothing but the KV cache's
        // traffic, which the attention probe (on a working set the cache's size) already times: fitted, it would only be
        // a knob for whatever else the rows miss, so it keeps its starting value
        bool keepBandwidth = runs.All(r => r.Machine.GemmRatesStreamWeights && (r.ServeMachine?.GemmRatesStreamWeights ?? true));
        // the overlap is a parameter only where some quantity did not read it (and on streamed rates there is no roofline)
        bool fitOverlap = FitsOverlap(runs) && !keepBandwidth;
        int overlapAt = fitStep ? 5 : 4;
        EfficiencyParameters Params(double[] x)
        {
            var e = FromVector(x, start, fitStep);
            if (fitOverlap) e = e with { OverlapK = Math.Clamp(x[overlapAt], 0, 1) };
            return keepBandwidth ? e with { EffBandwidth = start.EffBandwidth } : e;
        }
        double Objective(double[] x)
        {
            double pen = 0;
            foreach (double v in x.Take(2)) if (v > 0) pen += 100 * v * v;   // fractions above 1
            if (fitOverlap) pen += 100 * Math.Pow(x[overlapAt] - Math.Clamp(x[overlapAt], 0, 1), 2);   // k outside [0, 1]
            return CpuTwinFit.Objective(runs, Params(x)) + pen;
        }
        double[] x0 =
        [
            Math.Log(Math.Min(start.EffBandwidth, 1)), Math.Log(Math.Min(start.EffComputePrefill, 1)), start.LayerOverheadS * OverheadScale,
            Math.Log(Math.Max(start.HostElementS, 1e-10)),
            .. fitStep ? [start.StepOverheadS * OverheadScale] : Array.Empty<double>(),
            .. fitOverlap ? [Math.Clamp(start.OverlapK, 0, 1)] : Array.Empty<double>(),
        ];
        // restarted from its own best point with a fresh simplex: one that has collapsed along a direction stalls short of
        // the minimum, a new one does not
        var best = x0;
        for (int round = 0; round < 4; round++) best = NelderMead.Minimize(Objective, best, round == 0 ? 0.5 : 0.2, 3000);
        var f = Params(best);
        return f with
        {
            EffBandwidth = Math.Round(f.EffBandwidth, 4),
            EffComputePrefill = Math.Round(f.EffComputePrefill, 4),
            EffComputeDecode = Math.Round(f.EffComputePrefill, 4),
            StepOverheadS = Math.Round(f.StepOverheadS, 7),     // 0.1 µs: a fitted 0 comes out as 1e-15 otherwise
            LayerOverheadS = Math.Round(f.LayerOverheadS, 7),
            OverlapK = Math.Round(f.OverlapK, 4),
            FitDate = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            RowsUsed = runs.SelectMany(r => Compared(r, f).Select(x => $"{r.Name}:{x.Quantity}")).ToList(),
            Method = "Nelder-Mead on log fractions and host cost, overheads in ms, the overlap k linear in [0, 1] (" + string.Join(", ", Fitted.Where(n => (n != "eff_bandwidth" || !keepBandwidth) && (n != "step_overhead_s" || fitStep) && (n != "overlap_k" || fitOverlap)))
                + (fitStep ? "" : "; step_overhead_s 0: models of one depth cannot tell it from layer_overhead_s, which carries the fixed cost")
                + (keepBandwidth ? ", eff_bandwidth kept: the GEMM rates were probed on the model's streamed weights" : "")
                + (!fitOverlap && !keepBandwidth ? ", overlap_k kept: every quantity's overlap was measured in its own bracket" : "")
                + ", sample_row_s 0: the engine loop's cost is measured), least squares of ln(predicted/measured) over pp, tg and the serving engine's recorded step times",
            WhyTheseRows = "the benchmarks (pp, tg) and the executor time of every recorded serve step of a quanta plan twin run on this machine (summed per wave size: prefill steps, decode steps), each predicted from the machine figures measured in its own run (bandwidth, GEMM rates of the layers and of the head at each m, attention rates of decode rows and prefill blocks); TTFT and TPOT are left to the engine's scheduler",
        };
    }

    // The overheads are fitted on a linear scale in milliseconds (their magnitude): a fixed cost may well be 0, where a
    // logarithm runs off to -infinity and the simplex can no longer bring it back.
    private const double OverheadScale = 1e3;

    private static EfficiencyParameters FromVector(double[] x, EfficiencyParameters start, bool fitStep)
    {
        double c = Math.Min(Math.Exp(x[1]), 1);
        return start with
        {
            EffBandwidth = Math.Min(Math.Exp(x[0]), 1), EffComputePrefill = c, EffComputeDecode = c, LayerOverheadS = Math.Abs(x[2]) / OverheadScale,
            HostElementS = Math.Exp(x[3]), StepOverheadS = fitStep ? Math.Abs(x[4]) / OverheadScale : start.StepOverheadS,
        };
    }
}
