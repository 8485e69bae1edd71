using System.Globalization;
using Quanta.Planner.Validation;

namespace Quanta.Planner.Performance;

/// <summary>
/// Least-squares fit of the CPU efficiency parameters on CPU-twin runs: Σ ln(predicted / measured)² over every
/// measured quantity, each predicted from its own run's machine figures, minimized by Nelder-Mead over the logarithms
/// of the fitted parameters. Fitted: the bandwidth fraction, the compute fraction (one for every m: the measured GEMM
/// rates already carry the dependence on m), the per-layer overhead, the host-thread cost per activation element and
/// the cost per sampled row (sampling and hand-off). The per-step overhead is kept at its starting value: on one model shape it
/// cannot be told apart from the per-layer overhead (both are constant per step), and the per-layer one is the
/// physical cause on a CPU (a barrier per parallel region) that carries over to a model of another depth.
/// </summary>
public static class CpuTwinFit
{
    /// <summary>The names of the fitted parameters, in the fit's order.</summary>
    public static IReadOnlyList<string> Fitted { get; } = ["eff_bandwidth", "eff_compute_prefill", "layer_overhead_s", "host_element_s", "sample_row_s"];

    /// <summary>Sum of squared log errors of <paramref name="runs"/> under <paramref name="eff"/>.</summary>
    public static double Objective(IReadOnlyList<CpuTwinObservation> runs, EfficiencyParameters eff)
    {
        ArgumentNullException.ThrowIfNull(runs);
        double sum = 0;
        foreach (var run in runs)
            foreach (var (_, p, m) in run.Predict(eff))
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
        double Objective(double[] x)
        {
            double pen = 0;
            foreach (double v in x.Take(2)) if (v > 0) pen += 100 * v * v;   // fractions above 1
            return CpuTwinFit.Objective(runs, FromVector(x, start)) + pen;
        }
        double[] x0 =
        [
            Math.Log(start.EffBandwidth), Math.Log(start.EffComputePrefill), Math.Log(Math.Max(start.LayerOverheadS, 1e-6)),
            Math.Log(Math.Max(start.HostElementS, 1e-10)), Math.Log(Math.Max(start.SampleRowS, 1e-7)),
        ];
        var best = NelderMead.Minimize(Objective, x0, 0.5, 3000);
        var f = FromVector(best, start);
        return f with
        {
            EffBandwidth = Math.Round(f.EffBandwidth, 4),
            EffComputePrefill = Math.Round(f.EffComputePrefill, 4),
            EffComputeDecode = Math.Round(f.EffComputePrefill, 4),
            FitDate = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            RowsUsed = runs.SelectMany(r => r.Measured.Select(x => $"{r.Name}:{x.Key}")).ToList(),
            Method = "Nelder-Mead on log parameters (" + string.Join(", ", Fitted) + "; step_overhead_s kept), least squares of ln(predicted/measured) over the twin run's quantities",
            WhyTheseRows = "every quantity of a quanta plan twin run on this machine (pp, tg, serve TTFT/TPOT), each predicted from the machine figures (bandwidth, GEMM rate at each m, attention rate) measured in its own run",
        };
    }

    private static EfficiencyParameters FromVector(double[] x, EfficiencyParameters start)
    {
        double c = Math.Min(Math.Exp(x[1]), 1);
        return start with
        {
            EffBandwidth = Math.Min(Math.Exp(x[0]), 1), EffComputePrefill = c, EffComputeDecode = c, LayerOverheadS = Math.Exp(x[2]),
            HostElementS = Math.Exp(x[3]), SampleRowS = Math.Exp(x[4]),
        };
    }
}
