namespace Quanta.Planner.Catalogs;

/// <summary>
/// One catalog figure: the number the planner computes with (null when the source gives none), the original text
/// (ranges such as "300-350" or "up to 700" are kept verbatim; the value is then the upper end), and where it comes from.
/// </summary>
/// <param name="Value">Number in the unit the field name states, or null when not known.</param>
/// <param name="Text">The figure as the source wrote it.</param>
/// <param name="Source">Where the figure comes from (never empty in a valid catalog).</param>
/// <param name="Estimated">True when the value is an estimate rather than a published or measured figure.</param>
/// <param name="Note">Why the value differs from the text, or where sources disagree.</param>
public sealed record Figure(double? Value, string Text, string Source, bool Estimated = false, string? Note = null);
