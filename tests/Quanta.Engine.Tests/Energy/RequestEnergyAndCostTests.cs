using Quanta.Engine.Energy;
using Quanta.Engine.Metrics;
using Quanta.Engine.Scheduling;

namespace Quanta.Engine.Tests.Energy;

public sealed class RequestEnergyAndCostTests
{
    private static ServingMetrics Create(SteppedClock clock, double? price, out ModeledPowerSource power)
    {
        power = new ModeledPowerSource(new PowerModel(10, 50), "model:test", clock);
        return new ServingMetrics(new ServingMetricsOptions { TimeProvider = clock, PowerSource = power, PriceUsdPerHour = price });
    }

    [Fact]
    public void Step_energy_and_cost_are_split_by_token_share()
    {
        var clock = new SteppedClock();
        using ServingMetrics m = Create(clock, price: 3600, out _);    // $3600/h = $1/s (exact in binary)
        RequestTracker a = m.RequestQueued(1, "m", promptTokens: 6);
        RequestTracker b = m.RequestQueued(2, "m", promptTokens: 2);
        clock.Advance(1);                                                 // idle gap: charged to nobody

        StepToken s = m.BeginStep();
        clock.Advance(0.5);                                               // busy 0.5 s at 50 W = 25 J, cost $0.5
        double joules = m.EndStep(s, "m", [new StepShare(1, 6), new StepShare(2, 2)]);
        Assert.Equal(25, joules, 9);

        s = m.BeginStep();
        clock.Advance(0.25);                                              // 12.5 J, $0.25, one token each
        m.EndStep(s, "m", [new StepShare(1, 1), new StepShare(2, 1)]);

        RequestUsage ua = a.Finished(FinishReason.Stop, 1);
        RequestUsage ub = b.Finished(FinishReason.Stop, 1);
        Assert.Equal(25 * 6 / 8.0 + 12.5 / 2, ua.EnergyJoules, 9);
        Assert.Equal(25 * 2 / 8.0 + 12.5 / 2, ub.EnergyJoules, 9);
        Assert.Equal(37.5, ua.EnergyJoules + ub.EnergyJoules, 9);
        Assert.True(ua.EnergyEstimated);
        Assert.Equal(0.5 * 6 / 8 + 0.25 / 2, ua.CostUsd!.Value, 12);
        Assert.Equal(0.75, ua.CostUsd.Value + ub.CostUsd!.Value, 12);

        string text = m.Exporter.Scrape();
        Assert.Contains("quanta:energy_joules_total{estimated=\"true\",model_name=\"m\"} 37.5\n", text);
        Assert.Contains("quanta:cost_usd_total{model_name=\"m\"} 0.75\n", text);
    }

    [Fact]
    public void Cost_from_dollars_per_hour_by_hand()
    {
        var clock = new SteppedClock();
        using ServingMetrics m = Create(clock, price: 1.8, out _);        // $1.80/h
        RequestTracker r = m.RequestQueued(7, "m", 4);
        StepToken s = m.BeginStep();
        clock.Advance(10);                                                 // 10 s = 1.8 / 360 = $0.005
        m.EndStep(s, "m", [new StepShare(7, 4)]);
        Assert.Equal(0.005, r.Finished(FinishReason.Length, 0).CostUsd!.Value, 12);
    }

    [Fact]
    public void Without_a_price_cost_is_not_reported()
    {
        var clock = new SteppedClock();
        using var m = new ServingMetrics(new ServingMetricsOptions
        {
            TimeProvider = clock,
            PowerSource = new ModeledPowerSource(new PowerModel(1, 2), "model:x", clock),
            Device = Quanta.Core.Devices.DevicePowerCatalog.Find("t4")!,     // no price captured for the T4
        });
        Assert.Null(m.PriceUsdPerHour);
        RequestTracker r = m.RequestQueued(1, "m", 1);
        StepToken s = m.BeginStep();
        clock.Advance(1);
        m.EndStep(s, "m", [new StepShare(1, 1)]);
        Assert.Null(r.Finished(FinishReason.Stop, 1).CostUsd);
        Assert.DoesNotContain("quanta:cost_usd", m.Exporter.Scrape());
    }

    [Fact]
    public void Default_price_comes_from_the_device_catalog()
    {
        using var m = new ServingMetrics(new ServingMetricsOptions { Device = Quanta.Core.Devices.DevicePowerCatalog.Find("h100-sxm")!, EnableEnergy = false });
        Assert.Equal(4.92, m.PriceUsdPerHour);
        Assert.Null(m.PowerSource);
    }

    [Fact]
    public void Steps_reported_before_the_request_is_registered_still_count()
    {
        var clock = new SteppedClock();
        using ServingMetrics m = Create(clock, price: 3.6, out _);
        long t0 = m.Now;
        StepToken s = m.BeginStep();
        clock.Advance(1);
        m.EndStep(s, "m", [new StepShare(42, 3)]);                       // engine ran before the server registered id 42
        RequestTracker r = m.RequestQueued(42, "m", 3, t0);
        RequestUsage u = r.Finished(FinishReason.Stop, 0);
        Assert.Equal(50, u.EnergyJoules, 9);
        Assert.Equal(0.0, u.QueueSeconds);
        Assert.Equal(0, m.TrackedRequests);
    }
}
