namespace Quanta.Planner.Catalogs;

/// <summary>
/// An inference device as the catalog describes it. Throughput figures are DENSE peaks (TFLOPS / TOPS), bandwidth in
/// TB/s (10^12 bytes/s), memory in GB (10^9 bytes), interconnect in aggregate bidirectional GB/s per device.
/// </summary>
public sealed record DeviceSpec(string Id, string Name, string Variant, IReadOnlyList<string> Aliases, string Kind, string MemoryType,
    string Verification, string Notes, Figure MemoryGb, Figure MemBwTbS, Figure Fp16Tflops, Figure Fp8Tflops, Figure Int8Tops,
    Figure Int4Tops, Figure Fp4Tflops, Figure Fp32Tflops, Figure TdpW, Figure IdleW, Figure InterconnectGbS, Figure PriceUsdPerHour)
{
    /// <summary>Every figure with its field name, in catalog order.</summary>
    public IEnumerable<(string Field, Figure Figure)> Figures()
    {
        yield return ("memory_gb", MemoryGb);
        yield return ("mem_bw_tb_s", MemBwTbS);
        yield return ("fp16_tflops", Fp16Tflops);
        yield return ("fp8_tflops", Fp8Tflops);
        yield return ("int8_tops", Int8Tops);
        yield return ("int4_tops", Int4Tops);
        yield return ("fp4_tflops", Fp4Tflops);
        yield return ("fp32_tflops", Fp32Tflops);
        yield return ("tdp_w", TdpW);
        yield return ("idle_w", IdleW);
        yield return ("interconnect_gb_s", InterconnectGbS);
        yield return ("price_usd_per_hour", PriceUsdPerHour);
    }

    /// <summary>Device memory in bytes.</summary>
    public double MemoryBytes => (MemoryGb.Value ?? 0) * 1e9;

    /// <summary>Peak memory bandwidth in bytes/s.</summary>
    public double BandwidthBytesPerSecond => (MemBwTbS.Value ?? 0) * 1e12;

    /// <summary>Interconnect bandwidth in one direction, bytes/s (half the aggregate bidirectional figure); null when none.</summary>
    public double? LinkBytesPerSecond => InterconnectGbS.Value is double v ? v * 1e9 / 2 : null;

    /// <summary>
    /// Dense peak operations per second for math at <paramref name="p"/>. A device without a unit for that precision
    /// runs it on the next wider one it has (fp4 -> fp8 -> fp16 -> fp32; int4 -> int8 -> fp16): weights are up-converted.
    /// </summary>
    /// <returns>Ops/s, or null when the device states no usable figure.</returns>
    public double? PeakOpsPerSecond(Precision p)
    {
        double? t = p switch
        {
            Precision.Fp4 => Fp4Tflops.Value ?? Fp8Tflops.Value ?? Fp16Tflops.Value ?? Fp32Tflops.Value,
            Precision.Fp8 => Fp8Tflops.Value ?? Fp16Tflops.Value ?? Fp32Tflops.Value,
            Precision.Int4 => Int4Tops.Value ?? Int8Tops.Value ?? Fp16Tflops.Value ?? Fp32Tflops.Value,
            Precision.Int8 => Int8Tops.Value ?? Fp8Tflops.Value ?? Fp16Tflops.Value ?? Fp32Tflops.Value,
            Precision.Fp32 => Fp32Tflops.Value ?? Fp16Tflops.Value,
            _ => Fp16Tflops.Value ?? Fp32Tflops.Value,
        };
        return t * 1e12;
    }

    /// <summary>Market tier by memory: &lt;=16 GB edge, 16-32 GB entry datacenter, 32-80 GB mainstream, &gt;80 GB large.</summary>
    public string Tier => MarketTier.Of(MemoryGb.Value ?? 0);
}

/// <summary>Market tiers by device memory.</summary>
public static class MarketTier
{
    /// <summary>Tier name for a device with <paramref name="memoryGb"/> GB.</summary>
    public static string Of(double memoryGb) => memoryGb switch
    {
        <= 16 => "edge",
        <= 32 => "entry datacenter",
        <= 80 => "mainstream",
        _ => "large",
    };
}
