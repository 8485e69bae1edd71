using Quanta.Engine.Energy;

namespace Quanta.Engine.Tests.Energy;

public sealed class PowerModelTests
{
    [Fact]
    public void Power_is_linear_between_idle_and_busy()
    {
        var m = new PowerModel(10, 50);
        Assert.Equal(10, m.Watts(0));
        Assert.Equal(30, m.Watts(0.5));
        Assert.Equal(50, m.Watts(1));
        Assert.Equal(50, m.Watts(3));     // clamped
        Assert.Equal(10, m.Watts(-1));
    }

    [Fact]
    public void Timeline_integral_by_hand()
    {
        // 2 s idle (10 W) + 3 s busy (50 W) + 4 s at half (30 W) = 20 + 150 + 120 = 290 J
        var m = new PowerModel(10, 50);
        Assert.Equal(290, m.Joules([0, 1, 0.5], [2, 3, 4]), 12);
    }

    [Fact]
    public void Modeled_source_integrates_reported_utilization_over_time()
    {
        var clock = new SteppedClock();
        var src = new ModeledPowerSource(new PowerModel(10, 50), "model:test", clock);
        Assert.True(src.IsEstimated);
        clock.Advance(2);                 // idle 2 s: 20 J
        Assert.Equal(20, src.ReadEnergyJoules(), 9);
        src.ReportUtilization(1);
        clock.Advance(3);                 // busy 3 s: 150 J
        src.ReportUtilization(0.5);
        clock.Advance(4);                 // half 4 s: 120 J
        Assert.Equal(290, src.ReadEnergyJoules(), 9);
        src.ReportUtilization(0);
        clock.Advance(0.5);               // idle 0.5 s: 5 J
        Assert.Equal(295, src.ReadEnergyJoules(), 9);
    }

    [Fact]
    public void Rejects_busy_below_idle()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PowerModel(50, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PowerModel(-1, 10));
    }
}
