using Quanta.Planner.Performance;

namespace Quanta.Planner.Validation;

/// <summary>
/// Fits the efficiency parameters by least squares on the log error of the chosen rows: minimize
/// sum (ln predicted - ln measured)^2 with Nelder-Mead over the logarithms of the parameters (efficiencies kept in (0, 1]).
/// </summary>
public static class EfficiencyFitter
{
    /// <summary>
    /// Fits on the rows whose ids are in <paramref name="rowIds"/>; returns parameters stamped with the date and rows.
    /// <paramref name="hold"/> keeps named parameters (<see cref="EfficiencyParameters.VectorNames"/>) at a given value:
    /// for directions the rows cannot tell apart (a per-step overhead trades against the bandwidth fraction at equal
    /// error), a physically known value is better than whatever the optimizer drifts to.
    /// </summary>
    /// <exception cref="ArgumentException">A requested row is missing or cannot be predicted, or a held name is unknown.</exception>
    public static EfficiencyParameters Fit(IReadOnlyList<CalibrationRow> rows, IReadOnlyCollection<string> rowIds, RowPredictor predictor,
        EfficiencyParameters start, DateOnly date, IReadOnlyDictionary<string, double>? hold = null)
    {
        var held = new Dictionary<int, double>();
        foreach (var (name, value) in hold ?? new Dictionary<string, double>())
        {
            int i = EfficiencyParameters.VectorNames.ToList().IndexOf(name);
            if (i < 0) throw new ArgumentException($"unknown parameter '{name}' (known: {string.Join(", ", EfficiencyParameters.VectorNames)})");
            if (!(value >= 0) || double.IsInfinity(value) || (!EfficiencyParameters.IsSeconds(i) && !(value > 0 && value <= 1)))
                throw new ArgumentException($"held value {name}={value} is out of range");
            held[i] = value;
        }
        var chosen = rows.Where(r => rowIds.Contains(r.Id)).ToList();
        var absent = rowIds.Except(chosen.Select(r => r.Id)).ToList();
        if (absent.Count > 0) throw new ArgumentException($"rows not in the file: {string.Join(", ", absent)}");
        foreach (var r in chosen)
            if (predictor.Predict(r, start).SkipReason is string why) throw new ArgumentException($"row {r.Id} cannot be predicted: {why}");
        double Objective(double[] x)
        {
            var v = x.Select(t => Math.Exp(t)).ToArray();
            foreach (var (i, value) in held) v[i] = value;
            double penalty = 0;
            for (int i = 0; i < v.Length; i++)
                if (!EfficiencyParameters.IsSeconds(i) && v[i] > 1) { penalty += 100 * (v[i] - 1) * (v[i] - 1); v[i] = 1; }
            var e = EfficiencyParameters.FromVector(v);
            double sum = penalty;
            foreach (var r in chosen)
            {
                var p = predictor.Predict(r, e);
                if (p.Predicted is not double pv || p.Measured is not double mv || pv <= 0) return 1e9;
                double d = Math.Log(pv / mv);
                sum += d * d;
            }
            return sum;
        }
        var best = NelderMead.Minimize(Objective, start.ToVector().Select((t, i) => Math.Log(EfficiencyParameters.IsSeconds(i) ? Math.Max(t, 1e-4) : t)).ToArray(), 0.3, 3000);
        var vals = best.Select(t => Math.Exp(t)).Select((x, i) => EfficiencyParameters.IsSeconds(i) ? x : Math.Min(x, 1)).Select(x => Math.Round(x, 5)).ToArray();
        foreach (var (i, value) in held) vals[i] = value;
        return EfficiencyParameters.FromVector(vals) with
        {
            FitDate = date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            RowsUsed = chosen.Select(r => r.Id).ToList(),
            Method = "Nelder-Mead on log parameters, least squares of ln(predicted/measured) over rows_used"
                + (held.Count == 0 ? "" : "; held: " + string.Join(", ", held.Select(h => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{EfficiencyParameters.VectorNames[h.Key]}={h.Value}")))),
        };
    }
}
