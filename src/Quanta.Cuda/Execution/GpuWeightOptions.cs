using Quanta.Cuda.Kernels;

namespace Quanta.Cuda.Execution;

/// <summary>How weights are stored on the device.</summary>
/// <param name="Format">BF16 (dequantized at load) or FP8 E4M3 (re-quantized at load).</param>
/// <param name="PerChannelScales">FP8 only: one scale per output row instead of one per tensor.</param>
public readonly record struct GpuWeightOptions(DeviceFormat Format, bool PerChannelScales = false);
