using Quanta.Cuda.Kernels;

namespace Quanta.Cuda.Diagnostics;

/// <summary>
/// Dense (no sparsity) tensor-core peaks from NVIDIA's H100 and H200 datasheets, in FLOP/s: H100 SXM and H200 989.4 T
/// (BF16) and 1,978.9 T (FP8); H100 NVL 835 T / 1,671 T; H100 PCIe 756 T / 1,513 T. Null for other devices.
/// </summary>
public static class TensorCorePeak
{
    /// <summary>The peak for a device whose name contains "H100"/"H200", or null.</summary>
    public static double? For(string deviceName, DeviceFormat format)
    {
        ArgumentNullException.ThrowIfNull(deviceName);
        (double bf16, double fp8)? p =
            deviceName.Contains("H200", StringComparison.OrdinalIgnoreCase) ? (989.4e12, 1978.9e12) :
            deviceName.Contains("H100", StringComparison.OrdinalIgnoreCase) && deviceName.Contains("PCIe", StringComparison.OrdinalIgnoreCase) ? (756e12, 1513e12) :
            deviceName.Contains("H100", StringComparison.OrdinalIgnoreCase) && deviceName.Contains("NVL", StringComparison.OrdinalIgnoreCase) ? (835e12, 1671e12) :
            deviceName.Contains("H100", StringComparison.OrdinalIgnoreCase) ? (989.4e12, 1978.9e12) : null;
        if (p is null) return null;
        return format == DeviceFormat.BF16 ? p.Value.bf16 : p.Value.fp8;
    }
}
