namespace Quanta.Cuda.Diagnostics;

/// <summary>One device check: <see cref="Error"/> (in <see cref="Metric"/>'s terms) must not exceed <see cref="Tolerance"/>.</summary>
/// <param name="Name">What was checked (e.g. "rmsnorm").</param>
/// <param name="Metric">How the error is measured (e.g. "max |Δ| / max |expected|", "mismatching codes").</param>
/// <param name="Error">Measured error.</param>
/// <param name="Tolerance">Largest error accepted.</param>
/// <param name="Detail">Shape or other context.</param>
public sealed record CheckResult(string Name, string Metric, double Error, double Tolerance, string Detail)
{
    /// <summary>Error within tolerance (NaN fails).</summary>
    public bool Passed => Error <= Tolerance;
}
