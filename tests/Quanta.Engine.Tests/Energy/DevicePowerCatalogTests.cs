using System.Globalization;
using System.Text;
using Quanta.Core.Devices;

namespace Quanta.Engine.Tests.Energy;

public sealed class DevicePowerCatalogTests
{
    // catalog id -> accelerator column of shared/planner/gpu-catalog.csv
    private static readonly Dictionary<string, string> CsvNames = new()
    {
        ["h100-sxm"] = "NVIDIA H100 SXM5",
        ["h100-pcie"] = "NVIDIA H100 PCIe",
        ["h100-nvl"] = "NVIDIA H100 NVL",
        ["h200-sxm"] = "NVIDIA H200 SXM",
        ["b200"] = "NVIDIA B200 (HGX/DGX B200, per GPU)",
        ["gb200"] = "NVIDIA GB200 (per Blackwell GPU in GB200 NVL72)",
        ["l40s"] = "NVIDIA L40S",
        ["l4"] = "NVIDIA L4",
        ["a100-40gb-sxm"] = "NVIDIA A100 40GB SXM4",
        ["a100-80gb-sxm"] = "NVIDIA A100 80GB SXM4",
        ["a10"] = "NVIDIA A10",
        ["t4"] = "NVIDIA T4",
        ["mi300x"] = "AMD Instinct MI300X",
        ["mi325x"] = "AMD Instinct MI325X",
        ["gaudi3"] = "Intel Gaudi 3 (OAM HL-325L)",
        ["jetson-agx-orin-64gb"] = "NVIDIA Jetson AGX Orin 64GB",
    };

    [Fact]
    public void Every_entry_is_sourced_and_consistent()
    {
        foreach (DevicePowerSpec d in DevicePowerCatalog.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(d.TdpWatts.Source), d.Id);
            Assert.False(string.IsNullOrWhiteSpace(d.IdleWatts.Source), d.Id);
            Assert.True(d.IdleWatts.Value > 0 && d.IdleWatts.Value <= d.BusyWatts, d.Id);
            Assert.Equal(d.TdpWatts.Value * DevicePowerCatalog.IdleFractionOfTdp, d.IdleWatts.Value, 9);
            Assert.True(d.IdleWatts.Estimated, d.Id);
            if (d.PriceUsdPerHour is SourcedFigure p) Assert.True(p.Value > 0 && p.Source.Length > 0, d.Id);
            Assert.Same(d, DevicePowerCatalog.Find(d.Id.ToUpperInvariant()));
        }
        Assert.Null(DevicePowerCatalog.Find("no-such-device"));
    }

    [Fact]
    public void This_cpu_share_is_two_of_96_cores_of_a_360_watt_part()
    {
        DevicePowerSpec cpu = DevicePowerCatalog.ThisCpu;
        Assert.Equal(DeviceKind.Cpu, cpu.Kind);
        Assert.Equal(2 * 360.0 / 96, cpu.BusyWatts, 12);
        Assert.True(cpu.TdpWatts.Estimated);
    }

    [Fact]
    public void Gpu_tdp_matches_the_shared_catalog_upper_end()
    {
        string csv = File.ReadAllText(FindShared("planner/gpu-catalog.csv"));
        List<string[]> rows = ParseCsv(csv);
        int nameCol = Array.IndexOf(rows[0], "accelerator");
        int tdpCol = Array.IndexOf(rows[0], "tdp_w");
        Assert.True(nameCol >= 0 && tdpCol >= 0, "gpu-catalog.csv lacks accelerator/tdp_w columns");
        foreach (var (id, csvName) in CsvNames)
        {
            string[] row = rows.Single(r => r.Length > tdpCol && r[nameCol] == csvName);
            string main = row[tdpCol].Split('(')[0];          // parenthesised notes are not the per-device figure
            double upper = Numbers(main).Max();
            DevicePowerSpec d = DevicePowerCatalog.Find(id) ?? throw new InvalidOperationException("catalog lacks " + id);
            Assert.Equal(DeviceKind.Gpu, d.Kind);
            Assert.True(upper == d.TdpWatts.Value, $"{id}: csv '{row[tdpCol]}' -> {upper}, catalog {d.TdpWatts.Value}");
        }
        Assert.Equal(CsvNames.Count, DevicePowerCatalog.All.Count(d => d.Kind == DeviceKind.Gpu));
    }

    private static IEnumerable<double> Numbers(string text)
    {
        var sb = new StringBuilder();
        foreach (char c in text + " ")
        {
            if (char.IsDigit(c) || (c == '.' && sb.Length > 0)) { sb.Append(c); continue; }
            if (sb.Length > 0) yield return double.Parse(sb.ToString(), CultureInfo.InvariantCulture);
            sb.Clear();
        }
    }

    private static string FindShared(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", relative);
            if (File.Exists(candidate)) return candidate;
            candidate = Path.Combine(dir.FullName, "..", "shared", relative);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"shared/{relative} not found above {AppContext.BaseDirectory}");
    }

    private static List<string[]> ParseCsv(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (c == '\n')
            {
                row.Add(field.ToString().TrimEnd('\r'));
                field.Clear();
                rows.Add([.. row]);
                row.Clear();
            }
            else field.Append(c);
        }
        if (field.Length > 0 || row.Count > 0) { row.Add(field.ToString()); rows.Add([.. row]); }
        return rows;
    }
}
