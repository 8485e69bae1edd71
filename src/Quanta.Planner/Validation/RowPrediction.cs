namespace Quanta.Planner.Validation;

/// <summary>The planner's prediction for one calibration row, or why it was skipped.</summary>
/// <param name="Id">Row id.</param>
/// <param name="Quantity">"throughput" or "latency".</param>
/// <param name="Unit">Unit of predicted and measured (tokens/s, samples/s, ms), per accelerator for throughput.</param>
/// <param name="Predicted">Predicted value, null when skipped.</param>
/// <param name="Measured">Measured value as the row gives it (per accelerator where the row derives it).</param>
/// <param name="Fitted">True when the row was used to fit the efficiency parameters.</param>
/// <param name="SkipReason">Why no prediction was made (null when predicted).</param>
/// <param name="Detail">Device, tensor parallelism, precision, batch and what bounds it.</param>
public sealed record RowPrediction(string Id, string Quantity, string Unit, double? Predicted, double? Measured, bool Fitted, string? SkipReason, string Detail)
{
    /// <summary>Why a predicted row is left out of the error summaries (shown, not averaged), or null.</summary>
    public string? Excluded { get; init; }

    /// <summary>Signed error in percent: 100 x (predicted - measured) / measured.</summary>
    public double? ErrorPercent => Predicted is double p && Measured is double m && m != 0 ? 100 * (p - m) / m : null;
}
