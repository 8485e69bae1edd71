using Quanta.Planner.Catalogs;
using Quanta.Planner.Fleet;
using Quanta.Planner.Performance;
using ScottPlot;

namespace Quanta.Planner.Charts;

/// <summary>
/// The planner's charts: throughput against p99 latency per device (from simulated rate sweeps), USD per million tokens
/// per device, and memory fit per tier. Each writes one PNG or SVG file (by extension).
/// </summary>
public static class FleetCharts
{
    /// <summary>
    /// One line per device: x = requests/s per device (replica rate / tensor-parallel degree), y = p99 end-to-end latency
    /// in ms, one point per simulated rate (<see cref="LlmDeviceOption.Probes"/> or a sweep). Devices without points are skipped.
    /// </summary>
    public static void ThroughputVsLatency(IEnumerable<(string Label, int Tp, IReadOnlyList<RateProbe> Probes)> series, string title, string path)
    {
        ArgumentNullException.ThrowIfNull(series);
        ChartFonts.EnsureFont();
        var plt = new Plot();
        int lines = 0;
        foreach (var (label, tp, probes) in series)
        {
            var pts = probes.Where(p => p.Result.E2e.Count > 0 && double.IsFinite(p.Result.E2e.P99)).OrderBy(p => p.Rate).ToArray();
            if (pts.Length == 0) continue;
            double[] xs = [.. pts.Select(p => p.Result.RequestsPerSecond / Math.Max(tp, 1))];
            double[] ys = [.. pts.Select(p => p.Result.E2e.P99 * 1e3)];
            var sc = plt.Add.Scatter(xs, ys);
            sc.LegendText = tp > 1 ? $"{label} (tp {tp})" : label;
            lines++;
        }
        plt.Title(title);
        plt.XLabel("throughput per device (requests/s)");
        plt.YLabel("p99 end-to-end latency (ms)");
        if (lines > 0) plt.ShowLegend(Alignment.UpperLeft);
        ChartFile.Save(plt, path);
    }

    /// <summary>Bars of USD per million tokens (prompt + output) for every feasible, priced option.</summary>
    public static void CostPerMillionTokens(IEnumerable<LlmDeviceOption> options, string title, string path)
    {
        ArgumentNullException.ThrowIfNull(options);
        var priced = options.Where(o => o.Feasible && o.UsdPerMillionTokens is double v && double.IsFinite(v)).ToList();
        Bars(priced.Select(o => ($"{o.Device.Id} x{o.Devices}", o.UsdPerMillionTokens!.Value)).ToList(), title, "USD per million tokens (prompt + output)", path);
    }

    /// <summary>Bars of USD per million samples for every feasible, priced dense option.</summary>
    public static void CostPerMillionSamples(IEnumerable<DenseDeviceOption> options, string title, string path)
    {
        ArgumentNullException.ThrowIfNull(options);
        var priced = options.Where(o => o.Feasible && o.UsdPerMillionSamples is double v && double.IsFinite(v)).ToList();
        Bars(priced.Select(o => ($"{o.Device.Id} x{o.Devices}", o.UsdPerMillionSamples!.Value)).ToList(), title, "USD per million samples", path);
    }

    /// <summary>
    /// Memory fit per tier: for each device (grouped by market tier), its memory beside what one device of the smallest
    /// fitting tensor-parallel group needs (weights / tp + activations + runtime overhead + one sequence's KV cache);
    /// bars are green when the model fits one device, orange when it needs a group, red when it does not fit 64.
    /// </summary>
    public static void MemoryFitPerTier(ModelSpec model, IEnumerable<DeviceSpec> devices, Precision weights, Precision kv, int context, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(devices);
        string[] tierOrder = ["edge", "entry datacenter", "mainstream", "large"];
        var list = devices.Where(d => d.MemoryBytes > 0).OrderBy(d => Array.IndexOf(tierOrder, d.Tier)).ThenBy(d => d.MemoryBytes).ToList();
        ChartFonts.EnsureFont();
        var plt = new Plot();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        for (int i = 0; i < list.Count; i++)
        {
            DeviceSpec d = list[i];
            MemoryFitResult f = MemoryFit.Compute(model, d, weights, kv, context);
            int tp = Math.Max(f.DevicesNeeded, 1);
            double need = (f.WeightBytes / tp + f.ActivationBytes + f.OverheadBytes + f.KvBytesPerToken * context / tp) / 1e9;
            Color c = f.DevicesNeeded == 1 ? Colors.SeaGreen : f.DevicesNeeded == 0 ? Colors.Crimson : Colors.DarkOrange;
            bars.Add(new Bar { Position = 3 * i, Value = d.MemoryBytes / 1e9, FillColor = Colors.LightGray });
            bars.Add(new Bar { Position = 3 * i + 1, Value = need, FillColor = c });
            ticks.Add(new Tick(3 * i + 0.5, $"{d.Id} ({d.Tier}){(f.DevicesNeeded > 1 ? $" tp {f.DevicesNeeded}" : f.DevicesNeeded == 0 ? " no fit" : "")}"));
        }
        plt.Add.Bars(bars);
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        plt.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plt.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plt.Axes.Bottom.MinimumSize = 170;
        plt.Legend.ManualItems.Add(new LegendItem { LabelText = "device memory (GB)", FillColor = Colors.LightGray });
        plt.Legend.ManualItems.Add(new LegendItem { LabelText = "needed per device: fits one", FillColor = Colors.SeaGreen });
        plt.Legend.ManualItems.Add(new LegendItem { LabelText = "needed per device of a tensor-parallel group", FillColor = Colors.DarkOrange });
        plt.Legend.ManualItems.Add(new LegendItem { LabelText = "does not fit 64 devices", FillColor = Colors.Crimson });
        plt.ShowLegend(Alignment.UpperLeft);
        plt.Axes.Margins(bottom: 0);
        plt.Title($"memory fit per tier: {model.Id} at {PrecisionInfo.Name(weights)}, {context}-token context");
        plt.YLabel("GB per device");
        ChartFile.Save(plt, path, 1200, 700);
    }

    private static void Bars(IReadOnlyList<(string Label, double Value)> items, string title, string yLabel, string path)
    {
        ChartFonts.EnsureFont();
        var plt = new Plot();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        for (int i = 0; i < items.Count; i++)
        {
            bars.Add(new Bar { Position = i, Value = items[i].Value, FillColor = Colors.SteelBlue, Label = items[i].Value.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) });
            ticks.Add(new Tick(i, items[i].Label));
        }
        var bp = plt.Add.Bars(bars);
        bp.ValueLabelStyle.FontSize = 12;
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        plt.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plt.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plt.Axes.Bottom.MinimumSize = 140;
        plt.Axes.Margins(bottom: 0);
        plt.Title(items.Count == 0 ? title + " (no priced option)" : title);
        plt.YLabel(yLabel);
        ChartFile.Save(plt, path);
    }
}
