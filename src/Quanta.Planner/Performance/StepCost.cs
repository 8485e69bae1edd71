namespace Quanta.Planner.Performance;

/// <summary>Cost of one model step on one device of a tensor-parallel group.</summary>
/// <param name="Seconds">Step time: the per-operator roofline sum + overhead + communication.</param>
/// <param name="Bytes">Bytes moved to/from device memory on one device.</param>
/// <param name="Ops">Arithmetic operations on one device.</param>
/// <param name="MemorySeconds">All bytes / (bandwidth x achievable fraction).</param>
/// <param name="ComputeSeconds">All ops / (peak at each operator's precision x achievable fraction).</param>
/// <param name="CommSeconds">Tensor-parallel all-reduce time (0 for one device).</param>
public sealed record StepCost(double Seconds, double Bytes, double Ops, double MemorySeconds, double ComputeSeconds, double CommSeconds)
{
    /// <summary>True when compute, not memory traffic, bounds the step.</summary>
    public bool ComputeBound => ComputeSeconds >= MemorySeconds;
}
