using Quanta.Planner.Catalogs;
using Quanta.Planner.Performance;
using Quanta.Planner.Simulation;

namespace Quanta.Planner.Fleet;

/// <summary>
/// Sizes a fleet for an <see cref="LlmWorkload"/> on each device type. Replicas behind a load balancer are independent,
/// so one replica is simulated (the engine's scheduler on a simulated executor with roofline step times) and the
/// result scaled:
/// <list type="number">
/// <item>the smallest tensor-parallel group that holds the weights and one full-length sequence (<see cref="MemoryFit"/>);
/// larger groups (powers of two up to the workload's limit) are tried while they raise the rate per device;</item>
/// <item>saturation throughput: an Offline simulation (every request at t = 0);</item>
/// <item>the sustainable rate: the largest Poisson (or the workload's) rate per replica, at most the utilization cap x
/// saturation, at which the SLOs hold, no request is aborted and completions keep up with arrivals (≥ 90% of the
/// offered rate over the window) — found by bisection (rates are feasible below and infeasible above, up to
/// simulation noise; every probe uses the same seed);</item>
/// <item>replicas = ⌈total rate / sustainable rate⌉; the operating point (total / replicas per replica) is simulated
/// again with more requests for the reported latencies, load and power.</item>
/// </list>
/// Costs use the device-hour price given or the catalog's; energy uses <see cref="PowerModel"/>. Devices are simulated
/// in parallel; results are deterministic for a seed.
/// </summary>
public static class LlmFleetSizer
{
    /// <summary>Bisection steps of the rate search (geometric, so the ratio hi/lo of the final bracket is (cap / light load)^(2^-steps)).</summary>
    public const int SearchSteps = 7;

    /// <summary>Fraction of the offered rate completions must keep up with for a load to count as sustainable.</summary>
    public const double KeepUpFraction = 0.9;

    /// <summary>Lowest load probed, as a fraction of saturation: the SLO must hold there or the device is infeasible.</summary>
    public const double LightLoad = 0.01;

    /// <summary>Sizes every device in <paramref name="devices"/>, ranked (see <see cref="Rank"/>).</summary>
    /// <param name="workload">The workload.</param>
    /// <param name="devices">Device types to consider.</param>
    /// <param name="eff">Efficiency parameters of the performance model.</param>
    /// <param name="prices">Device-hour prices by device id overriding the catalog's (optional).</param>
    public static IReadOnlyList<LlmDeviceOption> Size(LlmWorkload workload, IEnumerable<DeviceSpec> devices, EfficiencyParameters eff,
        IReadOnlyDictionary<string, double>? prices = null)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(eff);
        workload.Validate();
        var list = devices.ToList();
        var results = new LlmDeviceOption[list.Count];
        Parallel.For(0, list.Count, i => results[i] = SizeOne(workload, list[i], eff, Price(list[i], prices)));
        return Rank(results);
    }

    /// <summary>
    /// Ranking: feasible options with a price by USD per request (then fewer devices), then feasible ones without a
    /// price by devices, then infeasible ones by id.
    /// </summary>
    public static IReadOnlyList<LlmDeviceOption> Rank(IEnumerable<LlmDeviceOption> options) =>
        [.. options.OrderBy(o => o.Feasible ? (o.UsdPerRequest is null ? 1 : 0) : 2)
            .ThenBy(o => o.UsdPerRequest ?? double.MaxValue)
            .ThenBy(o => o.Feasible ? o.Devices : long.MaxValue)
            .ThenBy(o => o.Device.Id, StringComparer.Ordinal)];

    /// <summary>The device-hour price: the override for its id, else the catalog's, else null.</summary>
    public static double? Price(DeviceSpec d, IReadOnlyDictionary<string, double>? prices)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (prices != null)
            foreach (var (k, v) in prices)
                if (string.Equals(k, d.Id, StringComparison.OrdinalIgnoreCase)) return v;
        return d.PriceUsdPerHour.Value;
    }

    /// <summary>Sizes one device type.</summary>
    public static LlmDeviceOption SizeOne(LlmWorkload w, DeviceSpec d, EfficiencyParameters eff, double? pricePerHour)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(d);
        ArgumentNullException.ThrowIfNull(eff);
        if (d.PeakOpsPerSecond(w.Weights) is null) return Infeasible(d, $"states no tensor throughput usable at {PrecisionInfo.Name(w.Weights)}");
        if (d.BandwidthBytesPerSecond <= 0) return Infeasible(d, "states no memory bandwidth");
        int context = w.Prompt.Max + w.Output.Max;
        MemoryFitResult fit = MemoryFit.Compute(w.Model, d, w.Weights, w.Kv, context);
        if (fit.DevicesNeeded == 0) return Infeasible(d, $"{w.Model.Id} with a {context}-token sequence does not fit on 64 devices");

        ReplicaCapacity? best = null;
        string? reason = null;
        int maxTp = Math.Max(w.MaxTensorParallel, fit.DevicesNeeded);
        for (int tp = fit.DevicesNeeded; tp <= maxTp; tp *= 2)
        {
            ReplicaCapacity c = Capacity(w, d, eff, tp, best is null ? 0 : best.MaxRate / best.Tp);
            if (c.Reason != null)
            {
                if (best != null) break;   // a larger group that cannot beat the best so far: stop climbing
                reason = c.Reason;
                continue;
            }
            if (best is null || c.MaxRate / tp > best.MaxRate / best.Tp * 1.0001) best = c;
            else break;   // a larger group no longer raises the rate per device
        }
        if (best is null)
        {
            string groups = maxTp > fit.DevicesNeeded ? $"tp {fit.DevicesNeeded} to {maxTp}" : $"tp {maxTp}";
            return Infeasible(d, $"no group ({groups}) meets the objectives; at tp {maxTp}: {reason}") with { MinTensorParallel = fit.DevicesNeeded };
        }

        long replicas = (long)Math.Ceiling(w.RequestsPerSecond / best.MaxRate - 1e-9);
        replicas = Math.Max(replicas, 1);
        long devices = replicas * best.Tp;
        double perReplica = w.RequestsPerSecond / replicas;
        SimulationResult op = ServingSimulator.Run(best.Options with { Rate = perReplica, Requests = w.OperatingRequests }, best.Step);
        double load = perReplica / best.Saturation;
        double tokensPerS = w.RequestsPerSecond * (w.Prompt.Mean + w.Output.Mean);
        double outPerS = w.RequestsPerSecond * w.Output.Mean;
        double? usdH = pricePerHour * devices;
        double? watts = PowerModel.Watts(d, load);
        double? fleetW = watts * devices;
        return new LlmDeviceOption
        {
            Device = d,
            Feasible = true,
            MinTensorParallel = fit.DevicesNeeded,
            TensorParallel = best.Tp,
            KvTokens = best.KvTokens,
            SaturationRequestsPerSecond = best.Saturation,
            MaxRequestsPerSecond = best.MaxRate,
            Replicas = replicas,
            Devices = devices,
            OperatingRequestsPerSecond = perReplica,
            Operating = op,
            Load = load,
            PricePerDeviceHour = pricePerHour,
            UsdPerHour = usdH,
            UsdPerMillionTokens = usdH / (tokensPerS * 3600) * 1e6,
            UsdPerMillionOutputTokens = usdH / (outPerS * 3600) * 1e6,
            UsdPerRequest = usdH / (w.RequestsPerSecond * 3600),
            WattsPerDevice = watts,
            FleetWatts = fleetW,
            JoulesPerToken = fleetW / tokensPerS,
            JoulesPerOutputToken = fleetW / outPerS,
            JoulesPerRequest = fleetW / w.RequestsPerSecond,
            Probes = best.Probes,
        };
    }

    /// <summary>
    /// Simulates one replica of <paramref name="option"/>'s device and tensor-parallel degree at each fraction of its
    /// saturation rate in <paramref name="fractions"/> (for throughput-latency curves).
    /// </summary>
    public static IReadOnlyList<RateProbe> Sweep(LlmWorkload w, LlmDeviceOption option, EfficiencyParameters eff, IReadOnlyList<double> fractions)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(option);
        ArgumentNullException.ThrowIfNull(eff);
        ArgumentNullException.ThrowIfNull(fractions);
        if (!option.Feasible || option.TensorParallel < 1 || !(option.SaturationRequestsPerSecond > 0)) return [];
        var step = new RooflineStepTime(new RooflineModel(w.Model, option.Device, w.Weights, w.Kv, option.TensorParallel, eff));
        SimulationOptions o = ReplicaOptions(w, option.Device, option.TensorParallel);
        var probes = new List<RateProbe>();
        foreach (double f in fractions)
        {
            if (!(f > 0)) throw new ArgumentException($"sweep fractions must be positive, got {f}", nameof(fractions));
            double rate = f * option.SaturationRequestsPerSecond;
            SimulationResult r = ServingSimulator.Run(o with { Rate = rate }, step);
            probes.Add(new RateProbe(rate, r, r.SloViolation == null && r.Aborted == 0 && r.RequestsPerSecond >= KeepUpFraction * r.OfferedRequestsPerSecond));
        }
        return probes;
    }

    /// <summary>
    /// The rate search alone for one replica of <paramref name="tp"/> devices: saturation throughput (Offline) and the
    /// largest rate meeting the workload's objectives and utilization cap (MLPerf Server style: the highest Poisson
    /// rate whose latency constraints hold). <see cref="RateSearch.Reason"/> is set when no rate qualifies.
    /// </summary>
    public static RateSearch MaxRate(LlmWorkload w, DeviceSpec d, EfficiencyParameters eff, int tp)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(d);
        ArgumentNullException.ThrowIfNull(eff);
        w.Validate();
        if (tp < 1) throw new ArgumentException($"tensor-parallel degree must be >= 1, got {tp}");
        ReplicaCapacity c = Capacity(w, d, eff, tp, 0);
        return new RateSearch(tp, c.Saturation, c.MaxRate, c.Probes, c.Reason);
    }

    private sealed record ReplicaCapacity(int Tp, double KvTokens, SimulationOptions Options, IStepTimeModel Step, double Saturation,
        double MaxRate, IReadOnlyList<RateProbe> Probes, string? Reason);

    /// <summary>
    /// The simulation settings of one replica of <paramref name="tp"/> devices: KV blocks of 16 positions from the memory
    /// fit, capped at what MaxRunning full-length sequences can use (the rest could never be allocated).
    /// </summary>
    public static SimulationOptions ReplicaOptions(LlmWorkload w, DeviceSpec d, int tp)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(d);
        double kv = MemoryFit.KvTokens(w.Model, d, w.Weights, w.Kv, tp);
        const int blockSize = 16;
        // blocks beyond what MaxRunning full-length sequences can hold are never used: leave them out (same
        // scheduling, bounded memory for small models on large devices)
        long perSequence = (w.Prompt.Max + w.Output.Max + blockSize) / blockSize + 1;
        int blocks = (int)Math.Min(Math.Floor(kv / blockSize), Math.Min((long)w.MaxRunning * perSequence, 1 << 22)) + 1;
        return new SimulationOptions
        {
            Arrival = w.Arrival,
            Prompt = w.Prompt,
            Output = w.Output,
            Requests = w.SearchRequests,
            Seed = w.Seed,
            MaxBatchTokens = w.MaxBatchTokens,
            MaxRunning = w.MaxRunning,
            KvBlocks = Math.Max(blocks, 2),
            BlockSize = blockSize,
            Slo = w.Slo,
        };
    }

    // beat: rate per device a larger group must be able to exceed to be worth searching (0: none yet)
    private static ReplicaCapacity Capacity(LlmWorkload w, DeviceSpec d, EfficiencyParameters eff, int tp, double beat)
    {
        var step = new RooflineStepTime(new RooflineModel(w.Model, d, w.Weights, w.Kv, tp, eff));
        SimulationOptions o = ReplicaOptions(w, d, tp);
        double kv = MemoryFit.KvTokens(w.Model, d, w.Weights, w.Kv, tp);
        // unloaded: one request of mean lengths alone; if even that misses the objectives, no load will meet them
        SimulationResult alone = ServingSimulator.Run(o with
        {
            Arrival = new ArrivalProcess.Offline(), Requests = 1,
            Prompt = new LengthDistribution.Fixed(Math.Max(1, (int)Math.Round(w.Prompt.Mean))),
            Output = new LengthDistribution.Fixed(Math.Max(1, (int)Math.Round(w.Output.Mean))),
        }, step);
        if (alone.Completed == 0) return new ReplicaCapacity(tp, kv, o, step, 0, 0, [], "a request of mean lengths does not fit the KV cache");
        if (alone.SloViolation is string unloaded) return new ReplicaCapacity(tp, kv, o, step, 0, 0, [], $"objectives unreachable even unloaded ({unloaded})");
        SimulationResult sat = ServingSimulator.Run(o with { Arrival = new ArrivalProcess.Offline() }, step);
        if (sat.Completed == 0 || !(sat.RequestsPerSecond > 0))
            return new ReplicaCapacity(tp, kv, o, step, 0, 0, [], "no request completes (KV cache too small)");
        double saturation = sat.RequestsPerSecond;
        if (beat > 0 && w.UtilizationCap * saturation / tp <= beat)
            return new ReplicaCapacity(tp, kv, o, step, saturation, 0, [], "cannot beat the smaller group's rate per device even at the utilization cap");
        var probes = new List<RateProbe>();
        bool Probe(double rate)
        {
            SimulationResult r = ServingSimulator.Run(o with { Rate = rate }, step);
            bool ok = r.SloViolation == null && r.Aborted == 0 && r.RequestsPerSecond >= KeepUpFraction * r.OfferedRequestsPerSecond;
            probes.Add(new RateProbe(rate, r, ok));
            return ok;
        }
        double lo = LightLoad * saturation, hi = w.UtilizationCap * saturation;
        if (!Probe(lo))
        {
            string why = probes[^1].Result.SloViolation ?? "cannot keep up even at light load";
            return new ReplicaCapacity(tp, kv, o, step, saturation, 0, probes, $"objectives unreachable even at {LightLoad:P0} load ({why})");
        }
        double best = lo;
        if (Probe(hi)) best = hi;
        else
        {
            for (int i = 0; i < SearchSteps; i++)
            {
                double mid = Math.Sqrt(lo * hi);   // geometric: the answer may lie anywhere from light load to the cap
                if (Probe(mid)) lo = best = mid; else hi = mid;
            }
        }
        probes.Sort((a, b) => a.Rate.CompareTo(b.Rate));
        return new ReplicaCapacity(tp, kv, o, step, saturation, best, probes, null);
    }

    private static LlmDeviceOption Infeasible(DeviceSpec d, string reason) => new() { Device = d, Feasible = false, Reason = reason };
}
