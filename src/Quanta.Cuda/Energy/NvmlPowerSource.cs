using System.Diagnostics;
using Quanta.Cuda.Interop;
using Quanta.Engine.Energy;

namespace Quanta.Cuda.Energy;

/// <summary>
/// <see cref="IPowerSource"/> over NVML's total-energy counter (nvmlDeviceGetTotalEnergyConsumption, millijoules since
/// the driver loaded), so the engine's metrics, per-request usage and per-step energy use measured GPU board energy.
/// Measured, not estimated. Thread-safe.
/// <para>An NVML query takes long next to a decode step (milliseconds were seen on an H100, against a device step of a
/// few), so the device source reads the counter on a background thread every <c>samplePeriod</c> (default 10 ms) and
/// <see cref="ReadEnergyJoules"/> never calls NVML: it returns the latest sample extended by the power between the two
/// latest samples times the time since (at most one period ahead), never less than a value it returned before. Over a
/// run of many periods the error is a fraction of one period's energy. A source made over a plain counter function
/// (tests, other meters) reads it directly on every call instead.</para>
/// Owns the NVML session unless created over a caller's counter.
/// </summary>
public sealed class NvmlPowerSource : IPowerSource, IDisposable
{
    private readonly Func<double> _read;
    private readonly IDisposable? _owned;
    private readonly double _origin;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private readonly Thread? _sampler;
    private readonly ManualResetEventSlim _stop = new(false);
    private readonly TimeSpan _period;
    private double _e0, _t0, _e1, _t1, _returned;   // the two latest samples (joules since origin, seconds) and the last answer

    /// <summary>Reads GPU <paramref name="index"/> through NVML (throws <see cref="CudaUnavailableException"/> without NVML).</summary>
    public NvmlPowerSource(uint index = 0, TimeSpan? samplePeriod = null)
    {
        var dev = NvmlDevice.Open(index);
        _owned = dev;
        _read = dev.TotalEnergyJoules;
        Name = $"nvml:gpu{index}";
        _origin = _read();
        _t0 = _t1 = _clock.Elapsed.TotalSeconds;
        _period = samplePeriod ?? TimeSpan.FromMilliseconds(10);
        if (_period <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(samplePeriod), "the sample period must be positive");
        _sampler = new Thread(Sample) { IsBackground = true, Name = $"nvml-energy-{index}" };
        _sampler.Start();
    }

    /// <summary>A source over any cumulative joule counter, read on every call (tests; other meters with NVML's semantics).</summary>
    public NvmlPowerSource(Func<double> cumulativeJoules, string name)
    {
        _read = cumulativeJoules ?? throw new ArgumentNullException(nameof(cumulativeJoules));
        Name = name ?? throw new ArgumentNullException(nameof(name));
        _origin = _read();
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public bool IsEstimated => false;

    /// <inheritdoc/>
    public double ReadEnergyJoules()
    {
        if (_sampler is null) return Math.Max(0, _read() - _origin);
        lock (_gate)
        {
            double now = _clock.Elapsed.TotalSeconds;
            double power = _t1 > _t0 ? (_e1 - _e0) / (_t1 - _t0) : 0;
            double ahead = Math.Clamp(now - _t1, 0, _period.TotalSeconds);
            _returned = Math.Max(_returned, _e1 + power * ahead);
            return _returned;
        }
    }

    /// <summary>Ignored: the counter is measured.</summary>
    public void ReportUtilization(double utilization) { }

    private void Sample()
    {
        while (!_stop.Wait(_period))
        {
            double e;
            try
            {
                e = Math.Max(0, _read() - _origin);
            }
            catch (CudaException)
            {
                continue;   // a failed query leaves the last samples in place
            }
            double t = _clock.Elapsed.TotalSeconds;
            lock (_gate)
            {
                if (e < _e1) continue;
                _e0 = _e1;
                _t0 = _t1;
                _e1 = e;
                _t1 = t;
            }
        }
    }

    /// <summary>Stops the sampler and shuts down the owned NVML session.</summary>
    public void Dispose()
    {
        _stop.Set();
        _sampler?.Join();
        _stop.Dispose();
        _owned?.Dispose();
    }
}
