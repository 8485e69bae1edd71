namespace Quanta.Core.Devices;

/// <summary>
/// One catalog number with where it comes from. <see cref="Estimated"/> is true when the figure is derived by a stated
/// rule (for example idle = a fraction of TDP) rather than read from a vendor sheet, a price page or a measurement.
/// </summary>
/// <param name="Value">The number, in the unit the field that holds it names.</param>
/// <param name="Source">Where it comes from (never empty).</param>
/// <param name="Estimated">True when derived by a rule or recalled without a fetched source.</param>
public readonly record struct SourcedFigure(double Value, string Source, bool Estimated = false);
