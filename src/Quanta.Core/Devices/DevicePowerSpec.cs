namespace Quanta.Core.Devices;

/// <summary>
/// Power and price of one device, as the energy model and the planner use them. Watts are electrical board (GPU) or
/// core-share (CPU) power; <see cref="IdleWatts"/> ≤ <see cref="BusyWatts"/>. Busy power is taken as the TDP: a
/// saturated inference step runs the device at (or near) its sustained power limit.
/// </summary>
/// <param name="Id">Short stable id (e.g. "h100-sxm").</param>
/// <param name="Name">Product name.</param>
/// <param name="Kind">CPU cores or a GPU board.</param>
/// <param name="TdpWatts">Thermal design power (upper end when the source gives a range).</param>
/// <param name="IdleWatts">Power when nothing runs.</param>
/// <param name="PriceUsdPerHour">Rental price of the device per hour, or null when no price was captured.</param>
/// <param name="Notes">Caveats.</param>
public sealed record DevicePowerSpec(string Id, string Name, DeviceKind Kind, SourcedFigure TdpWatts, SourcedFigure IdleWatts,
    SourcedFigure? PriceUsdPerHour, string Notes = "")
{
    /// <summary>Power while a step runs at full utilization (= TDP).</summary>
    public double BusyWatts => TdpWatts.Value;
}
