namespace Quanta.Core.Devices;

/// <summary>
/// A small built-in catalog of device power and price, kept as data low in the dependency order so the engine's energy
/// model and the planner read the same numbers. GPU rows are transcribed from shared/planner/gpu-catalog.csv (TDP: the
/// upper end where the sheet gives a range; price: the figure the planner's devices.json uses). Conventions:
/// <list type="bullet">
/// <item>Idle power = <see cref="IdleFractionOfTdp"/> × TDP for every device (estimated=true): datacenter accelerators
/// typically idle at 8-15% of TDP; the same fraction as the planner's catalog. Not measured.</item>
/// <item>Busy power = TDP (see <see cref="DevicePowerSpec.BusyWatts"/>).</item>
/// <item>This machine's CPU (<see cref="ThisCpuId"/>): 2 cores of an AMD EPYC Zen 4 "Genoa" part (cpuid family 25,
/// model 17; KVM guest, no SMT). The SKU is not exposed to the guest, so the share of TDP assumes the 96-core flagship
/// EPYC 9654 at its 360 W default TDP: 360 / 96 = 3.75 W per core (the per-core share includes the core's share of the
/// I/O die and fabric, which draw power whatever the load), hence 2 × 3.75 = 7.5 W busy. Cloud Genoa instances run on
/// 96-core parts (e.g. AWS c7a/m7a on the EPYC 9R14), so 96 cores is the likely denominator.</item>
/// </list>
/// </summary>
public static class DevicePowerCatalog
{
    /// <summary>Idle power as a fraction of TDP (estimate; see the class remarks).</summary>
    public const double IdleFractionOfTdp = 0.12;

    /// <summary>Id of this machine's CPU entry.</summary>
    public const string ThisCpuId = "epyc-zen4-2c";

    private const string GpuSheet = "shared/planner/gpu-catalog.csv tdp_w";
    private const string IdleRule = "estimate: 12% of TDP (typical accelerator idle 8-15% of TDP; planner convention); not measured";
    private const string AwsCapacityBlocks = "AWS EC2 Capacity Blocks price page snapshot (rates 'next updated Jan 1 2025'), per GPU-hour, via gpu-catalog.csv";

    private static readonly DevicePowerSpec[] Devices =
    [
        Gpu("h100-sxm", "NVIDIA H100 SXM5 80GB", 700, "up to 700 W; " + GpuSheet + " (NVIDIA H100 datasheet)", 4.92, "p5.48xlarge $39.33/h / 8 = $4.92; " + AwsCapacityBlocks),
        Gpu("h100-pcie", "NVIDIA H100 PCIe 80GB", 350, "300-350 W; " + GpuSheet + " (NVIDIA product brief PB-11133-001)", null, null),
        Gpu("h100-nvl", "NVIDIA H100 NVL 94GB", 400, "350-400 W; " + GpuSheet + " (NVIDIA H100 datasheet)", 3.07, "RunPod marketplace snapshot via gpu.blog, in gpu-catalog.csv"),
        Gpu("h200-sxm", "NVIDIA H200 SXM 141GB", 700, "up to 700 W; " + GpuSheet + " (geektopia.es, NVIDIA H200 page)", 5.41, "8xH200 $43.26/h / 8 = $5.41; " + AwsCapacityBlocks),
        Gpu("b200", "NVIDIA B200 (HGX, per GPU)", 1000, "1000 W config; " + GpuSheet + " (glennklockwood.com B200 table)", 4.60, "third-party blended estimate (HF dataset devidasmishra/ai-inference-hardware-economics-2026), in gpu-catalog.csv"),
        Gpu("gb200", "NVIDIA GB200 (per Blackwell GPU)", 1200, "~1200 W per GPU; " + GpuSheet + " (Klockwood's assumed configuration)", null, null),
        Gpu("l40s", "NVIDIA L40S 48GB", 350, "350 W; " + GpuSheet + " (NVIDIA L40S datasheet copy)", null, null),
        Gpu("l4", "NVIDIA L4 24GB", 72, "72 W; " + GpuSheet + " (fpsbench.com, NVIDIA L4 datasheet)", null, null),
        Gpu("a100-40gb-sxm", "NVIDIA A100 40GB SXM4", 400, "400 W; " + GpuSheet + " (NVIDIA A100 datasheet)", 1.84, "p4d.24xlarge $14.75/h / 8 = $1.84; " + AwsCapacityBlocks),
        Gpu("a100-80gb-sxm", "NVIDIA A100 80GB SXM4", 400, "400 W; " + GpuSheet + " (NVIDIA A100 datasheet)", null, null),
        Gpu("a10", "NVIDIA A10 24GB", 150, "150 W; " + GpuSheet + " (NVIDIA A10 datasheet, kimbochen table)", 1.01, "AWS g5.xlarge on-demand $1.006/h (factualminds.com) - that is the A10G, a different SKU"),
        Gpu("t4", "NVIDIA T4 16GB", 70, "70 W; " + GpuSheet + " (NVIDIA T4 datasheet)", null, null),
        Gpu("mi300x", "AMD Instinct MI300X 192GB", 750, "750 W; " + GpuSheet + " (gpu.blog, AMD datasheet)", 1.85, "Vultr marketplace snapshot via gpu.blog ($1.71-1.85/h), in gpu-catalog.csv"),
        Gpu("mi325x", "AMD Instinct MI325X 256GB", 1000, "1000 W; " + GpuSheet + " (awesomeagents.ai)", 2.25, "awesomeagents.ai cloud $2.00-2.25/h (upper end), in gpu-catalog.csv"),
        Gpu("gaudi3", "Intel Gaudi 3 (OAM)", 900, "900 W OAM (sources disagree: 600 vs 900 W); " + GpuSheet + " (yobitel.com, pcguia.pt)", null, null),
        Gpu("jetson-agx-orin-64gb", "NVIDIA Jetson AGX Orin 64GB", 60, "15-60 W configurable; " + GpuSheet + " (fixstars blog)", null, null),
        new DevicePowerSpec(ThisCpuId, "AMD EPYC Zen 4 (Genoa), 2 cores of a 96-core part", DeviceKind.Cpu,
            new SourcedFigure(7.5, "2 of 96 cores x 360 W default TDP of the AMD EPYC 9654 (AMD product page, recalled, not re-fetched) = 3.75 W/core; SKU assumed (see DevicePowerCatalog remarks)", Estimated: true),
            new SourcedFigure(7.5 * IdleFractionOfTdp, IdleRule + "; a CPU package likely idles higher (I/O die stays powered)", Estimated: true),
            new SourcedFigure(0.10, "AWS c7a.large (2 vCPU Genoa, 4 GiB) on-demand ~ $0.10/h in us-east-1 (recalled, not verified)", Estimated: true),
            "KVM guest: no powercap/RAPL exposed; power is modelled."),
    ];

    /// <summary>Every entry, GPUs first, then this machine's CPU.</summary>
    public static IReadOnlyList<DevicePowerSpec> All => Devices;

    /// <summary>This machine's CPU entry.</summary>
    public static DevicePowerSpec ThisCpu => Find(ThisCpuId)!;

    /// <summary>The entry with id (or name) <paramref name="idOrName"/>, ignoring case; null when absent.</summary>
    public static DevicePowerSpec? Find(string idOrName)
    {
        ArgumentNullException.ThrowIfNull(idOrName);
        foreach (DevicePowerSpec d in Devices)
        {
            if (string.Equals(d.Id, idOrName, StringComparison.OrdinalIgnoreCase) || string.Equals(d.Name, idOrName, StringComparison.OrdinalIgnoreCase))
                return d;
        }
        return null;
    }

    private static DevicePowerSpec Gpu(string id, string name, double tdp, string tdpSource, double? price, string? priceSource) =>
        new(id, name, DeviceKind.Gpu, new SourcedFigure(tdp, tdpSource), new SourcedFigure(tdp * IdleFractionOfTdp, IdleRule, Estimated: true),
            price is double p ? new SourcedFigure(p, priceSource!) : null);
}
