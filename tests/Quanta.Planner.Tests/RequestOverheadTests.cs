using Quanta.Planner.Catalogs;
using Quanta.Planner.Performance;
using Quanta.Planner.Simulation;
using Quanta.Planner.Validation;

namespace Quanta.Planner.Tests;

/// <summary>
/// The per-request overhead (host time once per request) adds to TTFT and end-to-end latency but never to the time per
/// output token; the fitter can hold a parameter at a chosen value.
/// </summary>
public class RequestOverheadTests
{
    private static readonly ModelSpec Llama8B = ModelCatalog.BuiltIn().Find("llama-3.1-8b")!;
    private static readonly DeviceSpec H100 = DeviceCatalog.BuiltIn().Get("h100-sxm");
    private static readonly EfficiencyParameters Ideal = new(1, 1, 1, 0, 1, 1);

    [Fact]
    public void TtftGainsTheRequestOverheadOnce()
    {
        var with = Ideal with { RequestOverheadS = 0.007 };
        double a = ServingModel.TtftSeconds(new RooflineModel(Llama8B, H100, Precision.Fp8, Precision.Fp8, 1, Ideal), 1000);
        double b = ServingModel.TtftSeconds(new RooflineModel(Llama8B, H100, Precision.Fp8, Precision.Fp8, 1, with), 1000);
        Assert.Equal(0.007, b - a, 12);
    }

    private sealed record OverheadStepTime(double Fixed, double Request) : IStepTimeModel
    {
        public double Seconds(in StepShape step) => Fixed;
        public double RequestOverheadSeconds => Request;
    }

    [Fact]
    public void SimulatedLatencyShiftsTtftAndE2eButNotTpot()
    {
        SimulationOptions o = new()
        {
            Arrival = ArrivalProcess.Parse("poisson"), Rate = 0.5, Prompt = new LengthDistribution.Fixed(10),
            Output = new LengthDistribution.Fixed(8), Requests = 200, Seed = 3,
        };
        var plain = ServingSimulator.Run(o, new OverheadStepTime(0.010, 0));
        var over = ServingSimulator.Run(o, new OverheadStepTime(0.010, 0.25));
        Assert.Equal(plain.Ttft.Mean + 0.25, over.Ttft.Mean, 9);
        Assert.Equal(plain.E2e.P99 + 0.25, over.E2e.P99, 9);
        Assert.Equal(plain.Tpot.Mean, over.Tpot.Mean, 12);
        // a lone request (rate far below capacity): TTFT = one 10 ms prefill step + 250 ms, e2e = 8 steps + 250 ms
        Assert.Equal(0.26, over.Ttft.P50, 9);
        Assert.Equal(0.33, over.E2e.P50, 9);
    }

    [Fact]
    public void HeldParametersKeepTheirValueAndUnknownNamesAreRefused()
    {
        var rows = CalibrationRow.Load(CliHarness.Shared("planner/calibration.csv"));
        var predictor = new RowPredictor(DeviceCatalog.BuiltIn(), ModelCatalog.BuiltIn());
        var fit = EfficiencyFitter.Fit(rows, ["A01", "A02", "A05"], predictor, EfficiencyParameters.BuiltIn(), new DateOnly(2026, 1, 1),
            new Dictionary<string, double> { ["step_overhead_s"] = 0.002, ["eff_compute_prefill"] = 0.5 });
        Assert.Equal(0.002, fit.StepOverheadS);
        Assert.Equal(0.5, fit.EffComputePrefill);
        Assert.Contains("held: ", fit.Method, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => EfficiencyFitter.Fit(rows, ["A01"], predictor, EfficiencyParameters.BuiltIn(),
            new DateOnly(2026, 1, 1), new Dictionary<string, double> { ["no_such_parameter"] = 1 }));
        Assert.Throws<ArgumentException>(() => EfficiencyFitter.Fit(rows, ["A01"], predictor, EfficiencyParameters.BuiltIn(),
            new DateOnly(2026, 1, 1), new Dictionary<string, double> { ["eff_bandwidth"] = 1.5 }));
    }
}
