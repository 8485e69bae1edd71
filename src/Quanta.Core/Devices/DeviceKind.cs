namespace Quanta.Core.Devices;

/// <summary>What kind of processor a catalog entry describes.</summary>
public enum DeviceKind
{
    /// <summary>Host CPU cores (power measured or modelled for the cores the engine uses).</summary>
    Cpu,

    /// <summary>A discrete GPU or accelerator card (power for the whole board).</summary>
    Gpu,
}
