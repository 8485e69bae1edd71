using Quanta.Core.Devices;

namespace Quanta.Engine.Energy;

/// <summary>Picks the best available <see cref="IPowerSource"/> for a device.</summary>
public static class PowerSources
{
    /// <summary>
    /// For a CPU device, RAPL through powercap when <paramref name="powercapRoot"/> offers readable counters; otherwise
    /// (and for GPUs until an NVML source exists) the estimated <see cref="ModeledPowerSource"/> with the catalog's idle
    /// and busy power. <paramref name="reason"/> says why RAPL was not used (or "ok").
    /// </summary>
    public static IPowerSource Detect(DevicePowerSpec device, out string reason, TimeProvider? time = null, string powercapRoot = RaplPowerSource.DefaultRoot)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.Kind == DeviceKind.Cpu)
        {
            if (RaplPowerSource.TryCreate(powercapRoot, out RaplPowerSource? rapl, out reason)) return rapl!;
        }
        else
        {
            reason = "GPU power via NVML is not implemented yet; using the power model";
        }
        return new ModeledPowerSource(PowerModel.For(device), "model:" + device.Id, time);
    }
}
