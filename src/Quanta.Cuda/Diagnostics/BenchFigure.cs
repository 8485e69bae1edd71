namespace Quanta.Cuda.Diagnostics;

/// <summary>One benchmark figure: <see cref="Value"/> in <see cref="Unit"/>, with what it was measured on.</summary>
public sealed record BenchFigure(string Name, double Value, string Unit, string Detail);
