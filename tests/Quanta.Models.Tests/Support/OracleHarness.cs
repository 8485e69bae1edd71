using Quanta.Core.Kernels.Ops;
using Xunit.Abstractions;

namespace Quanta.Models.Tests.Support;

/// <summary>What one oracle comparison measured.</summary>
/// <param name="MaxRelativeDifference">Largest |quanta − llama.cpp| over a position's logits, divided by that position's logit range, over all compared positions.</param>
/// <param name="MinMarginRatio">Smallest llama.cpp top-two margin (relative to the range) over the greedy steps.</param>
/// <param name="PromptSeed">Seed of the prompt used.</param>
public sealed record OracleComparison(double MaxRelativeDifference, double MinMarginRatio, int PromptSeed);

/// <summary>
/// The oracle comparison every architecture test runs on a GGUF file: llama.cpp (LLamaSharp) and Quanta both load the
/// file; a 64-token prompt is chosen (by seed, with the oracle alone) such that llama.cpp's top-two margin at each of 32
/// greedy steps exceeds the tolerance; then the logits at all 64 prompt positions (one batch in both engines) and at each
/// greedy step (token by token in both) must agree within the tolerance (relative to the position's logit range), and the
/// 32 greedy tokens must be identical.
/// </summary>
public static class OracleHarness
{
    public const int PromptLength = 64, Steps = 32;

    public static OracleComparison Run(string path, string label, double relTol, ITestOutputHelper? output = null, Action<LoadedModel>? checkModel = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var oracle = new LlamaCppOracle(path);
        using var model = ModelLoader.Load(path);
        checkModel?.Invoke(model);
        int vocab = model.Config.VocabSize;
        Assert.Equal(oracle.Vocab, vocab);

        int[] prompt = [];
        OracleRun? run = null;
        double marginRatio = 0;
        int seed;
        for (seed = 1; seed <= 60; seed++)
        {
            var rng = new Random(seed);
            prompt = new int[PromptLength];
            prompt[0] = 1;
            for (int i = 1; i < PromptLength; i++) prompt[i] = rng.Next(3, vocab);
            var candidate = oracle.Run(prompt, Steps);
            marginRatio = Enumerable.Range(0, Steps).Min(i => LlamaCppOracle.TopTwoMargin(candidate.ChoiceLogits(i)) / Range(candidate.ChoiceLogits(i)));
            if (marginRatio > relTol) { run = candidate; break; }
        }
        Assert.True(run != null, $"{label}: no prompt seed in 1..60 gives llama.cpp top-two margins above the tolerance {relTol}");

        using var session = model.CreateSession(new SessionOptions { ContextLength = 128, Threads = 2 });
        var all = new float[PromptLength * vocab];
        session.Prefill(prompt, all);
        double worst = 0;
        for (int p = 0; p < PromptLength; p++)
            worst = Math.Max(worst, Compare(run!.PromptLogits[p], all.AsSpan(p * vocab, vocab), relTol, $"{label} prompt position {p}"));

        ReadOnlySpan<float> logits = all.AsSpan((PromptLength - 1) * vocab, vocab);
        var tokens = new int[Steps];
        for (int s = 0; s < Steps; s++)
        {
            tokens[s] = Argmax.Find(logits);
            Assert.True(tokens[s] == run!.Generated[s],
                $"{label}: greedy token {s} is {tokens[s]}, llama.cpp chose {run.Generated[s]} (so far {string.Join(",", tokens[..s])})");
            logits = session.Decode(tokens[s]);
            worst = Math.Max(worst, Compare(run.StepLogits[s], logits, relTol, $"{label} greedy step {s}"));
        }
        output?.WriteLine($"{label}: max |diff|/range {worst:G3} (tolerance {relTol}), min llama.cpp margin/range {marginRatio:G3} (prompt seed {seed})");
        return new OracleComparison(worst, marginRatio, seed);
    }

    public static float Range(ReadOnlySpan<float> x)
    {
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (float v in x) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
        return hi - lo;
    }

    private static double Compare(float[] expected, ReadOnlySpan<float> actual, double relTol, string what)
    {
        double range = Range(expected), worst = 0;
        int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs(expected[i] - actual[i]);
            if (!(d <= worst)) { worst = d; at = i; }
        }
        double rel = worst / range;
        Assert.True(rel <= relTol, $"{what}: logit {at} is {actual[at]}, llama.cpp {expected[at]} (|diff|/range {rel:G3} > {relTol}, range {range:G4})");
        return rel;
    }

    /// <summary>Writes <paramref name="spec"/> to a temp file, runs <see cref="Run"/>, deletes the file.</summary>
    public static OracleComparison RunSpec(RandomDecoderSpec spec, string label, double relTol, ITestOutputHelper? output = null, Action<LoadedModel>? checkModel = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string path = Path.Combine(Path.GetTempPath(), $"quanta-arch-{spec.Arch}-{spec.Type}-{Environment.ProcessId}-{Guid.NewGuid():N}.gguf");
        try
        {
            RandomDecoderGguf.Write(spec, path);
            return Run(path, label, relTol, output, checkModel);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
