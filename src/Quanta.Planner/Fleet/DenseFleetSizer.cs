using Quanta.Planner.Catalogs;
using Quanta.Planner.Performance;

namespace Quanta.Planner.Fleet;

/// <summary>
/// Sizes a fleet for a vision or recommendation workload with a batch model built on the roofline: a device's peak
/// rate S = <see cref="ServingModel.SamplesPerSecond"/> (max of compute and memory time per sample at the fitted
/// efficiencies); a batch of B takes t(B) = B / S + step overhead; with dynamic batching a sample waits at most one
/// batch interval and is then computed, so its worst-case latency is 2 t(B). The batch is the largest (≤ MaxBatch)
/// with 2 t(B) within the bound; a device then sustains B / t(B) samples/s, loaded to at most the utilization cap;
/// devices = ⌈rate / (cap x B / t(B))⌉. The model's weights must fit one device's memory.
/// </summary>
public static class DenseFleetSizer
{
    /// <summary>Sizes every device, ranked by USD per million samples (then devices; infeasible last).</summary>
    public static IReadOnlyList<DenseDeviceOption> Size(DenseWorkload workload, IEnumerable<DeviceSpec> devices, EfficiencyParameters eff,
        IReadOnlyDictionary<string, double>? prices = null)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(eff);
        workload.Validate();
        return [.. devices.Select(d => SizeOne(workload, d, eff, LlmFleetSizer.Price(d, prices)))
            .OrderBy(o => o.Feasible ? (o.UsdPerMillionSamples is null ? 1 : 0) : 2)
            .ThenBy(o => o.UsdPerMillionSamples ?? double.MaxValue)
            .ThenBy(o => o.Feasible ? o.Devices : long.MaxValue)
            .ThenBy(o => o.Device.Id, StringComparer.Ordinal)];
    }

    /// <summary>Sizes one device type.</summary>
    public static DenseDeviceOption SizeOne(DenseWorkload w, DeviceSpec d, EfficiencyParameters eff, double? pricePerHour)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(d);
        ArgumentNullException.ThrowIfNull(eff);
        if (d.PeakOpsPerSecond(w.Precision) is null) return new DenseDeviceOption { Device = d, Feasible = false, Reason = $"states no tensor throughput usable at {PrecisionInfo.Name(w.Precision)}" };
        if (d.BandwidthBytesPerSecond <= 0) return new DenseDeviceOption { Device = d, Feasible = false, Reason = "states no memory bandwidth" };
        double weights = w.Model.Params * PrecisionInfo.BytesPerWeight(w.Precision);
        if (weights > MemoryFit.UsableBytes(d))
            return new DenseDeviceOption { Device = d, Feasible = false, Reason = $"weights of {weights / 1e9:0.#} GB exceed the usable memory" };
        double s = ServingModel.SamplesPerSecond(w.Model, d, w.Precision, eff);
        double overhead = eff.StepOverheadS;
        double T(int b) => b / s + overhead;
        int batch = w.MaxBatch;
        if (w.LatencyBoundS is double bound)
        {
            if (2 * T(1) > bound)
                return new DenseDeviceOption { Device = d, Feasible = false, Reason = $"one sample takes {T(1) * 1e3:0.##} ms; with batching delay {2 * T(1) * 1e3:0.##} ms > {bound * 1e3:0.##} ms" };
            batch = (int)Math.Clamp(Math.Floor((bound / 2 - overhead) * s), 1, w.MaxBatch);
        }
        double perDevice = batch / T(batch);
        long devices = Math.Max(1, (long)Math.Ceiling(w.SamplesPerSecond / (w.UtilizationCap * perDevice) - 1e-9));
        double load = w.SamplesPerSecond / devices / perDevice;
        double? usdH = pricePerHour * devices;
        double? watts = PowerModel.Watts(d, load);
        return new DenseDeviceOption
        {
            Device = d,
            Feasible = true,
            Batch = batch,
            BatchSeconds = T(batch),
            LatencySeconds = 2 * T(batch),
            SamplesPerSecondPerDevice = perDevice,
            Devices = devices,
            Load = load,
            PricePerDeviceHour = pricePerHour,
            UsdPerHour = usdH,
            UsdPerMillionSamples = usdH / (w.SamplesPerSecond * 3600) * 1e6,
            WattsPerDevice = watts,
            JoulesPerSample = watts * devices / w.SamplesPerSecond,
        };
    }
}
