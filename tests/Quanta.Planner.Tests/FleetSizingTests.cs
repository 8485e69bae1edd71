using Quanta.Planner.Catalogs;
using Quanta.Planner.Fleet;
using Quanta.Planner.Performance;
using Quanta.Planner.Simulation;

namespace Quanta.Planner.Tests;

/// <summary>Fleet sizing: monotonicity in load and objectives, cost and energy identities, infeasibility, dense workloads.</summary>
public class FleetSizingTests
{
    private static readonly ModelCatalog Models = ModelCatalog.BuiltIn();
    private static readonly DeviceCatalog Devices = DeviceCatalog.BuiltIn();
    private static readonly EfficiencyParameters Eff = EfficiencyParameters.BuiltIn();
    private static readonly DeviceSpec[] Some = [Devices.Get("h100-sxm"), Devices.Get("l40s"), Devices.Get("b200")];

    private static LlmWorkload Workload(double rate, ServiceLevel slo, double cap = 0.8) => new()
    {
        Model = Models.Find("llama-3.1-8b")!,
        Weights = Precision.Fp8,
        Kv = Precision.Fp8,
        Prompt = new LengthDistribution.Fixed(1500),
        Output = new LengthDistribution.Fixed(32),
        RequestsPerSecond = rate,
        Slo = slo,
        UtilizationCap = cap,
        SearchRequests = 300,
        OperatingRequests = 300,
        MaxTensorParallel = 2,
    };

    private static Dictionary<string, LlmDeviceOption> ById(IEnumerable<LlmDeviceOption> o) => o.ToDictionary(x => x.Device.Id);

    [Fact]
    public void MoreRateNeverNeedsFewerDevices()
    {
        var slo = new ServiceLevel { TtftP99S = 0.5, TpotP99S = 0.05 };
        var low = ById(LlmFleetSizer.Size(Workload(50, slo), Some, Eff));
        var high = ById(LlmFleetSizer.Size(Workload(500, slo), Some, Eff));
        foreach (var (id, a) in low)
        {
            Assert.Equal(a.Feasible, high[id].Feasible);
            if (!a.Feasible) continue;
            Assert.True(high[id].Devices >= a.Devices, $"{id}: {high[id].Devices} devices at 500 req/s < {a.Devices} at 50");
            Assert.True(high[id].Replicas * high[id].MaxRequestsPerSecond >= 500 - 1e-9, id);
        }
    }

    [Fact]
    public void TighterObjectivesOrLowerCapNeverNeedFewerDevices()
    {
        DeviceSpec[] two = [Devices.Get("h100-sxm"), Devices.Get("l40s")];
        var loose = ById(LlmFleetSizer.Size(Workload(200, new ServiceLevel { E2eMeanS = 1.0 }), two, Eff));
        var tight = ById(LlmFleetSizer.Size(Workload(200, new ServiceLevel { E2eMeanS = 0.4 }), two, Eff));
        var capped = ById(LlmFleetSizer.Size(Workload(200, new ServiceLevel { E2eMeanS = 1.0 }, cap: 0.3), two, Eff));
        foreach (var (id, a) in loose)
        {
            if (!a.Feasible) continue;
            if (tight[id].Feasible) Assert.True(tight[id].Devices >= a.Devices, $"{id}: tight {tight[id].Devices} < loose {a.Devices}");
            Assert.True(capped[id].Feasible);
            Assert.True(capped[id].Devices >= a.Devices, $"{id}: cap 30% {capped[id].Devices} < cap 80% {a.Devices}");
            Assert.True(capped[id].MaxRequestsPerSecond <= 0.3 * capped[id].SaturationRequestsPerSecond * (1 + 1e-9), id);
        }
    }

    [Fact]
    public void CostAndEnergyFollowFromDevicesPriceAndPower()
    {
        const double rate = 100;
        var res = LlmFleetSizer.Size(Workload(rate, new ServiceLevel { TtftP99S = 1, TpotP99S = 0.1 }), Some, Eff, new Dictionary<string, double> { ["l40s"] = 1.25 });
        foreach (var o in res.Where(o => o.Feasible))
        {
            Assert.Equal(o.Replicas * o.TensorParallel, o.Devices);
            Assert.True(o.Replicas * o.MaxRequestsPerSecond >= rate - 1e-9 && (o.Replicas - 1) * o.MaxRequestsPerSecond < rate, o.Device.Id);
            double price = o.Device.Id == "l40s" ? 1.25 : o.Device.PriceUsdPerHour.Value!.Value;
            Assert.Equal(price, o.PricePerDeviceHour);
            Assert.Equal(price * o.Devices, o.UsdPerHour!.Value, 9);
            Assert.Equal(o.UsdPerHour!.Value / (rate * 3600), o.UsdPerRequest!.Value, 12);
            Assert.Equal(o.UsdPerHour!.Value / (rate * 1532 * 3600) * 1e6, o.UsdPerMillionTokens!.Value, 9);
            double tdp = o.Device.TdpW.Value!.Value, idle = o.Device.IdleW.Value!.Value;
            Assert.Equal(idle + (tdp - idle) * o.Load, o.WattsPerDevice!.Value, 9);
            Assert.Equal(o.WattsPerDevice!.Value * o.Devices / rate, o.JoulesPerRequest!.Value, 9);
            Assert.Equal(o.JoulesPerRequest!.Value / 1532, o.JoulesPerToken!.Value, 12);
        }
        var priced = res.Where(o => o.Feasible && o.UsdPerRequest != null).Select(o => o.UsdPerRequest!.Value).ToArray();
        Assert.Equal(priced.Order(), priced);   // ranked by cost
    }

    [Fact]
    public void ObjectiveBelowTheUnloadedLatencyIsInfeasibleWithAReason()
    {
        var res = LlmFleetSizer.Size(Workload(10, new ServiceLevel { E2eMeanS = 0.005 }), Some, Eff);
        Assert.All(res, o =>
        {
            Assert.False(o.Feasible);
            Assert.Contains("unreachable even unloaded", o.Reason, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void ModelTooLargeForOneDeviceGetsATensorParallelGroup()
    {
        var w = Workload(5, new ServiceLevel { TtftP99S = 5, TpotP99S = 0.2 }) with { Model = Models.Find("llama-3.1-70b")!, Weights = Precision.Bf16, Kv = Precision.Bf16, MaxTensorParallel = 8 };
        var o = LlmFleetSizer.SizeOne(w, Devices.Get("h100-sxm"), Eff, 2);
        // 70.6e9 parameters x 2 bytes = 141 GB: more than one 80 GB device, within two
        Assert.True(o.Feasible, o.Reason);
        Assert.Equal(2, o.MinTensorParallel);
        Assert.True(o.TensorParallel >= 2);
        Assert.Equal(0, o.Devices % o.TensorParallel);
    }

    [Fact]
    public void PowerModelIsIdleAtNoLoadAndTdpAtFullLoad()
    {
        var d = Devices.Get("h100-sxm");
        Assert.Equal(d.IdleW.Value, PowerModel.Watts(d, 0));
        Assert.Equal(d.TdpW.Value, PowerModel.Watts(d, 1));
        Assert.Equal(d.TdpW.Value, PowerModel.Watts(d, 3));
        Assert.Null(PowerModel.Watts(Devices.Get("inferentia2"), 0.5));
    }

    [Fact]
    public void DenseSizingHonoursTheLatencyBoundAndGrowsWithRate()
    {
        var m = Models.Find("resnet-50")!;
        var w = new DenseWorkload { Model = m, SamplesPerSecond = 10_000, LatencyBoundS = 0.015, UtilizationCap = 0.8 };
        var loose = DenseFleetSizer.Size(w, Devices.Devices, Eff).ToDictionary(o => o.Device.Id);
        var tight = DenseFleetSizer.Size(w with { LatencyBoundS = 0.008 }, Devices.Devices, Eff).ToDictionary(o => o.Device.Id);
        var more = DenseFleetSizer.Size(w with { SamplesPerSecond = 100_000 }, Devices.Devices, Eff).ToDictionary(o => o.Device.Id);
        foreach (var (id, a) in loose.Where(x => x.Value.Feasible))
        {
            Assert.True(a.LatencySeconds <= 0.015 + 1e-12, id);
            // first principles: batch B at peak rate S takes B / S + overhead
            double s = ServingModel.SamplesPerSecond(m, a.Device, Precision.Int8, Eff);
            Assert.Equal(a.Batch / s + Eff.StepOverheadS, a.BatchSeconds, 12);
            Assert.True(a.Devices * a.SamplesPerSecondPerDevice * 0.8 >= 10_000 - 1e-6, id);
            Assert.True(more[id].Devices >= a.Devices, id);
            if (tight[id].Feasible) Assert.True(tight[id].Batch <= a.Batch && tight[id].Devices >= a.Devices, id);
        }
        var none = DenseFleetSizer.Size(w with { LatencyBoundS = 1e-4 }, Devices.Devices, Eff);
        Assert.All(none, o => Assert.False(o.Feasible));
    }

    [Theory]
    [InlineData("180ms", 0.18)]
    [InlineData("0.5s", 0.5)]
    [InlineData("2", 2.0)]
    [InlineData("250us", 0.00025)]
    public void DurationsParse(string text, double seconds) => Assert.Equal(seconds, PlanArguments.Duration(text, "--x"), 12);

    [Fact]
    public void BadArgumentsGiveClearErrors()
    {
        Assert.Throws<ArgumentException>(() => PlanArguments.Duration("-1ms", "--x"));
        Assert.Throws<ArgumentException>(() => PlanArguments.Duration("fast", "--x"));
        Assert.Equal(0.8, PlanArguments.Fraction("80%", "--util"), 12);
        Assert.Throws<ArgumentException>(() => PlanArguments.Fraction("1.5", "--util"));
        Assert.Equal(15e6, PlanArguments.Positive("15e6", "--n"));
        Assert.Throws<ArgumentException>(() => PlanArguments.Prices(["h100"]));
        Assert.Equal(2.5, PlanArguments.Prices(["H100-SXM=$2.5"])["h100-sxm"]);
    }
}
