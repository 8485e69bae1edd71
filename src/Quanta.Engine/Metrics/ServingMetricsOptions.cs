using System.Diagnostics.Metrics;
using Quanta.Core.Devices;
using Quanta.Engine.Energy;

namespace Quanta.Engine.Metrics;

/// <summary>Configuration of <see cref="ServingMetrics"/>; every property has a working default.</summary>
public sealed class ServingMetricsOptions
{
    /// <summary>Clock for every duration (tests pass a manual one). Default: the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The device the engine runs on: default power model and price. Default: this machine's CPU entry.</summary>
    public DevicePowerSpec Device { get; init; } = DevicePowerCatalog.ThisCpu;

    /// <summary>Energy meter. Default: <see cref="PowerSources.Detect"/> for <see cref="Device"/> (RAPL, else the model).</summary>
    public IPowerSource? PowerSource { get; init; }

    /// <summary>Device rental price, $/hour, for per-request cost. Default: the catalog's price of <see cref="Device"/> (may be none).</summary>
    public double? PriceUsdPerHour { get; init; }

    /// <summary>Creates the meter (dependency injection); default: a new Meter("Quanta") owned by the recorder.</summary>
    public IMeterFactory? MeterFactory { get; init; }

    /// <summary>Whether to meter energy at all (false: no power source is read, energy stays 0).</summary>
    public bool EnableEnergy { get; init; } = true;
}
