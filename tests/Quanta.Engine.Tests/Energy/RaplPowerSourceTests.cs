using Quanta.Engine.Energy;

namespace Quanta.Engine.Tests.Energy;

public sealed class RaplPowerSourceTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "quanta-powercap-" + Guid.NewGuid().ToString("N"));

    public RaplPowerSourceTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Zone(string dir, string name, ulong max, ulong energy)
    {
        string d = Path.Combine(_root, dir);
        Directory.CreateDirectory(d);
        File.WriteAllText(Path.Combine(d, "name"), name + "\n");
        File.WriteAllText(Path.Combine(d, "max_energy_range_uj"), max + "\n");
        File.WriteAllText(Path.Combine(d, "energy_uj"), energy + "\n");
    }

    private void SetEnergy(string dir, ulong energy) => File.WriteAllText(Path.Combine(_root, dir, "energy_uj"), energy + "\n");

    [Fact]
    public void Sums_top_level_packages_not_subzones_and_handles_wrap_around()
    {
        Zone("intel-rapl:0", "package-0", 1_000_000, 400_000);
        Zone("intel-rapl:0:0", "core", 1_000_000, 100_000);          // part of package-0: must not be added
        Zone("intel-rapl:1", "package-1", 2_000_000, 1_900_000);

        Assert.True(RaplPowerSource.TryCreate(_root, out RaplPowerSource? src, out string reason), reason);
        Assert.Equal(["package-0", "package-1"], src!.Zones);
        Assert.False(src.IsEstimated);
        Assert.Equal(0.0, src.ReadEnergyJoules());

        SetEnergy("intel-rapl:0", 650_000);      // +250_000 µJ
        SetEnergy("intel-rapl:0:0", 900_000);    // ignored
        SetEnergy("intel-rapl:1", 1_950_000);    // +50_000 µJ
        Assert.Equal(0.3, src.ReadEnergyJoules(), 12);

        // package-1 wraps: from 1_950_000 up to its range 2_000_000 (+50_000) and on to 30_000 (+30_000)
        SetEnergy("intel-rapl:1", 30_000);
        Assert.Equal(0.38, src.ReadEnergyJoules(), 12);

        // package-0 wraps too: 650_000 -> 1_000_000 (+350_000) -> 10 (+10)
        SetEnergy("intel-rapl:0", 10);
        Assert.Equal(0.73001, src.ReadEnergyJoules(), 12);
    }

    [Fact]
    public void Wrap_delta_by_hand()
    {
        Assert.Equal(150UL, RaplPowerSource.Delta(last: 999_900, raw: 50, maxRange: 1_000_000));
        Assert.Equal(25UL, RaplPowerSource.Delta(last: 100, raw: 125, maxRange: 1_000_000));
        Assert.Equal(0UL, RaplPowerSource.Delta(last: 7, raw: 7, maxRange: 1_000_000));
    }

    [Fact]
    public void Psys_is_skipped_when_packages_exist()
    {
        Zone("intel-rapl:0", "package-0", 1_000_000, 0);
        Zone("intel-rapl:1", "psys", 1_000_000, 0);
        Assert.True(RaplPowerSource.TryCreate(_root, out RaplPowerSource? src, out string reason), reason);
        Assert.Equal(["package-0"], src!.Zones);
        SetEnergy("intel-rapl:1", 500_000);
        SetEnergy("intel-rapl:0", 2_000);
        Assert.Equal(0.002, src.ReadEnergyJoules(), 12);
    }

    [Fact]
    public void Missing_root_or_zones_are_reported_not_thrown()
    {
        Assert.False(RaplPowerSource.TryCreate(Path.Combine(_root, "absent"), out RaplPowerSource? a, out string r1));
        Assert.Null(a);
        Assert.Contains("does not exist", r1);

        Directory.CreateDirectory(Path.Combine(_root, "dtpm"));   // another powercap control type, no RAPL
        Assert.False(RaplPowerSource.TryCreate(_root, out _, out string r2));
        Assert.Contains("no intel-rapl", r2);
    }

    [Fact]
    public void Permission_denied_is_reported_not_thrown()
    {
        Zone("intel-rapl:0", "package-0", 1_000_000, 5);
        string Deny(string path) => path.EndsWith("energy_uj", StringComparison.Ordinal)
            ? throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.")
            : File.ReadAllText(path);
        Assert.False(RaplPowerSource.TryCreate(_root, Deny, out RaplPowerSource? src, out string reason));
        Assert.Null(src);
        Assert.Contains("permission denied", reason);
        Assert.Contains("CVE-2020-8694", reason);
    }

    [Fact]
    public void A_read_failure_after_opening_keeps_the_total()
    {
        Zone("intel-rapl:0", "package-0", 1_000_000, 100);
        bool fail = false;
        string Read(string path) => fail && path.EndsWith("energy_uj", StringComparison.Ordinal) ? throw new IOException("gone") : File.ReadAllText(path);
        Assert.True(RaplPowerSource.TryCreate(_root, Read, out RaplPowerSource? src, out _));
        SetEnergy("intel-rapl:0", 1_100);
        Assert.Equal(0.001, src!.ReadEnergyJoules(), 12);
        fail = true;
        Assert.Equal(0.001, src.ReadEnergyJoules(), 12);
        fail = false;
        SetEnergy("intel-rapl:0", 2_100);
        Assert.Equal(0.002, src.ReadEnergyJoules(), 12);
    }

    [Fact]
    public void This_machine_falls_back_to_the_model_with_a_reason()
    {
        // Whatever this host exposes, Detect must return a usable source and say why when it is the model.
        IPowerSource s = PowerSources.Detect(Quanta.Core.Devices.DevicePowerCatalog.ThisCpu, out string reason);
        Assert.False(string.IsNullOrEmpty(reason));
        if (s.IsEstimated) Assert.NotEqual("ok", reason);
        else Assert.Equal("ok", reason);
        Assert.True(s.ReadEnergyJoules() >= 0);
    }
}
