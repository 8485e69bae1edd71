namespace Quanta.Engine.Metrics;

/// <summary>What <see cref="ServingMetrics.BeginStep"/> captured: the step's start time and the energy meter reading then.</summary>
/// <param name="StartTimestamp">TimeProvider timestamp at the start.</param>
/// <param name="StartJoules">Power source reading at the start.</param>
public readonly record struct StepToken(long StartTimestamp, double StartJoules);
