namespace Quanta.Planner.Performance;

/// <summary>
/// The measured rate of the engine's weight-matrix product (Quanta.Core.Kernels.MatMul) at one activation-row count:
/// Y[m, rows] = X[m, cols] · Wᵀ on cache-resident weights of the model's quantization, ops counted 2 per multiply-add.
/// </summary>
/// <param name="M">Activation rows (tokens in the step; 1 for a single decode).</param>
/// <param name="OpsPerSecond">Ops/s over the run's threads.</param>
public readonly record struct GemmRate(int M, double OpsPerSecond);
