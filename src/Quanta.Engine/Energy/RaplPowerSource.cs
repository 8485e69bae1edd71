using System.Globalization;

namespace Quanta.Engine.Energy;

/// <summary>
/// Measured energy from Linux powercap RAPL counters: every top-level zone directory <c>intel-rapl:N</c> under the
/// powercap root (AMD Zen exposes its package counters under the same control type on newer kernels) contributes its
/// <c>energy_uj</c> counter. Subzones (<c>intel-rapl:N:M</c>: core, uncore, dram) are parts of their package and are not
/// added again; a <c>psys</c> zone (whole platform) is skipped when package zones exist, for the same reason.
/// <para>Counters wrap to 0 after <c>max_energy_range_uj</c>; a read that finds a smaller raw value than the last one
/// adds (max − last) + raw. A wrap is only seen if the source is read at least once per wrap period (max range /
/// package power: about 15 minutes at 300 W for a 2^38 µJ range), which the per-step reads of the metrics recorder
/// ensure while the engine works.</para>
/// <para>RAPL measures whole packages: on a shared host the energy includes other tenants' work. Since Linux 5.10
/// <c>energy_uj</c> is readable by root only (CVE-2020-8694); <see cref="TryCreate(string, out RaplPowerSource?, out string)"/>
/// reports that and any other reason it cannot be used instead of throwing.</para>
/// Thread-safe (one lock).
/// </summary>
public sealed class RaplPowerSource : IPowerSource
{
    /// <summary>The powercap sysfs root.</summary>
    public const string DefaultRoot = "/sys/class/powercap";

    private const string ZonePrefix = "intel-rapl:";

    private readonly Zone[] _zones;
    private readonly Func<string, string> _readText;
    private readonly Lock _gate = new();

    private RaplPowerSource(Zone[] zones, Func<string, string> readText)
    {
        _zones = zones;
        _readText = readText;
        var names = new string[zones.Length];
        for (int i = 0; i < zones.Length; i++) names[i] = zones[i].Name;
        Zones = names;
        Name = "rapl:" + string.Join('+', names);
    }

    /// <summary>The zones summed (their <c>name</c> files, e.g. "package-0").</summary>
    public IReadOnlyList<string> Zones { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public bool IsEstimated => false;

    /// <summary>
    /// Opens the RAPL zones under <paramref name="root"/> and takes a first reading. Returns false, with the reason in
    /// <paramref name="reason"/>, when the root or its zones are missing or a counter cannot be read.
    /// </summary>
    public static bool TryCreate(string root, out RaplPowerSource? source, out string reason) =>
        TryCreate(root, File.ReadAllText, out source, out reason);

    /// <summary>As the public overload, with file reads done by <paramref name="readText"/> (tests inject failures).</summary>
    internal static bool TryCreate(string root, Func<string, string> readText, out RaplPowerSource? source, out string reason)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(readText);
        source = null;
        if (!Directory.Exists(root))
        {
            reason = $"{root} does not exist (not Linux, or a virtual machine that exposes no powercap)";
            return false;
        }
        var top = new List<string>();
        foreach (string dir in Directory.EnumerateDirectories(root))
        {
            string leaf = Path.GetFileName(dir);
            if (leaf.StartsWith(ZonePrefix, StringComparison.Ordinal) && leaf.AsSpan(ZonePrefix.Length).IndexOf(':') < 0) top.Add(dir);
        }
        if (top.Count == 0)
        {
            reason = $"no {ZonePrefix}* zones under {root} (RAPL driver not loaded or not supported by this CPU/hypervisor)";
            return false;
        }
        top.Sort(StringComparer.Ordinal);
        var zones = new List<Zone>();
        try
        {
            foreach (string dir in top)
            {
                string name = TryReadName(dir, readText);
                ulong max = ReadMicrojoules(Path.Combine(dir, "max_energy_range_uj"), readText);
                if (max == 0) throw new InvalidDataException($"{dir}/max_energy_range_uj is 0");
                ulong raw = ReadMicrojoules(Path.Combine(dir, "energy_uj"), readText);
                zones.Add(new Zone(dir, name, max, raw));
            }
        }
        catch (UnauthorizedAccessException ex)
        {
            reason = $"permission denied reading RAPL counters ({ex.Message}); energy_uj is root-only since Linux 5.10 (CVE-2020-8694)";
            return false;
        }
        catch (Exception ex) when (ex is IOException or FormatException or OverflowException or InvalidDataException)
        {
            reason = $"unreadable RAPL zone: {ex.Message}";
            return false;
        }
        bool anyPackage = zones.Exists(z => z.Name.StartsWith("package", StringComparison.Ordinal));
        if (anyPackage) zones.RemoveAll(z => z.Name == "psys");
        source = new RaplPowerSource([.. zones], readText);
        reason = "ok";
        return true;
    }

    /// <inheritdoc/>
    public double ReadEnergyJoules()
    {
        lock (_gate)
        {
            ulong total = 0;
            foreach (Zone z in _zones)
            {
                try
                {
                    ulong raw = ReadMicrojoules(z.EnergyPath, _readText);
                    z.Accumulated += Delta(z.Last, raw, z.MaxRange);
                    z.Last = raw;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or OverflowException)
                {
                    // keep the zone's last total: a transient read failure must not make the meter go backwards
                }
                total += z.Accumulated;
            }
            return total * 1e-6;
        }
    }

    /// <inheritdoc/>
    public void ReportUtilization(double utilization)
    {
        // measured: nothing to do
    }

    /// <summary>Microjoules between two raw readings of a counter that wraps to 0 after <paramref name="maxRange"/>.</summary>
    internal static ulong Delta(ulong last, ulong raw, ulong maxRange) => raw >= last ? raw - last : maxRange - last + raw;

    private static ulong ReadMicrojoules(string path, Func<string, string> readText) =>
        ulong.Parse(readText(path).AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture);

    private static string TryReadName(string dir, Func<string, string> readText)
    {
        try { return readText(Path.Combine(dir, "name")).Trim(); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return Path.GetFileName(dir); }
    }

    private sealed class Zone(string dir, string name, ulong maxRange, ulong first)
    {
        public string Name { get; } = name;
        public string EnergyPath { get; } = Path.Combine(dir, "energy_uj");
        public ulong MaxRange { get; } = maxRange;
        public ulong Last { get; set; } = first;
        public ulong Accumulated { get; set; }
    }
}
