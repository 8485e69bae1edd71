namespace Quanta.Planner.Validation;

/// <summary>Mean absolute percentage error over a set of rows (NaN when the set is empty).</summary>
/// <param name="Mape">Mean of |error %|.</param>
/// <param name="Count">Rows in the set.</param>
public sealed record ErrorSummary(double Mape, int Count);

/// <summary>Predictions for every row of a calibration file and their error summaries.</summary>
public sealed record ValidationReport(IReadOnlyList<RowPrediction> Rows)
{
    /// <summary>Rows with a prediction.</summary>
    public IEnumerable<RowPrediction> Predicted => Rows.Where(r => r.Predicted is not null && r.ErrorPercent is not null);

    /// <summary>MAPE of <paramref name="quantity"/> rows; <paramref name="fitted"/> null = all, true = fitting rows, false = held-out rows.</summary>
    public ErrorSummary Mape(string quantity, bool? fitted)
    {
        var set = Predicted.Where(r => r.Excluded is null && r.Quantity == quantity && (fitted is null || r.Fitted == fitted)).ToList();
        return new ErrorSummary(set.Count == 0 ? double.NaN : set.Average(r => Math.Abs(r.ErrorPercent!.Value)), set.Count);
    }

    /// <summary>Fraction of rows predicted.</summary>
    public double Coverage => Rows.Count == 0 ? 0 : (double)Predicted.Count() / Rows.Count;
}

/// <summary>Runs <see cref="RowPredictor"/> over calibration rows.</summary>
public static class Validator
{
    /// <summary>Predicts every row.</summary>
    public static ValidationReport Run(IReadOnlyList<CalibrationRow> rows, RowPredictor predictor, Performance.EfficiencyParameters eff) =>
        new(rows.Select(r => predictor.Predict(r, eff)).ToList());
}
