using Quanta.Core.Diagnostics;

namespace Quanta.Core.Tests.Diagnostics;

public class ComputeRateTests
{
    // No x64 or Arm64 core issues more than two 512-bit integer multiply-add pairs (256 int8 ops) or two 512-bit FMAs
    // (64 flops) per cycle, and none clocks above 6 GHz: a rate above these means the probe's loop was optimised away.
    private const double Int8OpsPerThreadMax = 256 * 6e9;
    private const double FlopsPerThreadMax = 64 * 6e9;

    [Fact]
    public void Int8_rate_is_positive_and_physically_possible()
    {
        ComputeRate.Reading r = ComputeRate.MeasureInt8(1, 0.2);
        Assert.Equal(1, r.Threads);
        Assert.True(r.Seconds >= 0.2, $"measured {r.Seconds} s");
        Assert.InRange(r.OpsPerSecond, 1e9, Int8OpsPerThreadMax);
        Assert.Equal(ComputeRate.Int8Instructions, r.Instructions);
        Assert.Equal(r.OpsPerSecond / 1e9, r.GOps, 9);
    }

    [Fact]
    public void Fp32_rate_is_positive_and_physically_possible()
    {
        ComputeRate.Reading r = ComputeRate.MeasureFp32Fma(1, 0.2);
        Assert.True(r.Seconds >= 0.2, $"measured {r.Seconds} s");
        Assert.InRange(r.OpsPerSecond, 1e8, FlopsPerThreadMax);
        Assert.Equal(ComputeRate.Fp32Instructions, r.Instructions);
    }

    [Fact]
    public void Two_threads_report_their_sum_within_the_physical_bound()
    {
        ComputeRate.Reading r = ComputeRate.MeasureInt8(2, 0.2);
        Assert.Equal(2, r.Threads);
        Assert.InRange(r.OpsPerSecond, 1e9, 2 * Int8OpsPerThreadMax);
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(1, 0.0)]
    [InlineData(1, double.NaN)]
    [InlineData(1, 601.0)]
    public void Bad_arguments_are_rejected(int threads, double seconds)
    {
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => ComputeRate.MeasureInt8(threads, seconds));
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => ComputeRate.MeasureFp32Fma(threads, seconds));
    }
}
