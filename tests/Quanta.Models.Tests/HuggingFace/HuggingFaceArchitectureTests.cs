using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Core.Threading;
using Xunit.Abstractions;

namespace Quanta.Models.Tests.HuggingFace;

/// <summary>
/// Hugging Face checkpoints of Qwen2, Qwen3, Phi-3, Gemma 2 and Gemma 3 against the GGUF llama.cpp's converter makes of
/// the same weights (see <see cref="TinyFamilyCheckpoint"/>; the GGUF path of each family is proven llama.cpp-equivalent by
/// the Architectures oracle tests). Both are loaded through <see cref="ModelLoader.Load"/>; the hyper-parameters that
/// shape the forward pass must agree, the logits at every position of a 32-token prompt must agree within 1e-5 of the
/// logit range (F32 weights: only float summation order may differ, and both paths run the same kernels on the same
/// numbers, so any wrong name, norm offset, fused split, scale, window or RoPE setting shows as an order-one difference),
/// and the greedy continuations must be identical.
/// </summary>
public sealed class HuggingFaceArchitectureTests(ITestOutputHelper output) : IDisposable
{
    private const double Tolerance = 1e-5;
    private const int PromptLength = 32, Continuation = 8;
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"quanta-hfarch-{Environment.ProcessId}-{Guid.NewGuid():N}");
    private readonly WorkerPool _pool = new(2);

    public void Dispose()
    {
        _pool.Dispose();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private string PathFor(string name) => Path.Combine(_root, name);

    public static TheoryData<string> Families() => new() { "qwen2", "qwen3", "phi3", "gemma2", "gemma3", "gemma3-layer-types" };

    private static TinyFamilyCheckpoint Build(string family) => family switch
    {
        "qwen2" => TinyFamilyCheckpoint.Qwen2(seed: 101),
        "qwen3" => TinyFamilyCheckpoint.Qwen3(seed: 102),
        "phi3" => TinyFamilyCheckpoint.Phi3(seed: 103),
        "gemma2" => TinyFamilyCheckpoint.Gemma2(seed: 104),
        "gemma3" => TinyFamilyCheckpoint.Gemma3(seed: 105, layerTypesAndLinearScaling: false),
        "gemma3-layer-types" => TinyFamilyCheckpoint.Gemma3(seed: 106, layerTypesAndLinearScaling: true),
        _ => throw new ArgumentException(family, nameof(family)),
    };

    private static int[] Prompt(int vocab)
    {
        var rng = new Random(7);
        var p = new int[PromptLength];
        p[0] = 1;
        for (int i = 1; i < p.Length; i++) p[i] = rng.Next(3, vocab);
        return p;
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void F32_checkpoint_matches_its_converted_gguf(string family)
    {
        var model = Build(family);
        model.WriteHuggingFace(PathFor(family));
        model.WriteGguf(PathFor(family + ".gguf"));
        using var hf = ModelLoader.Load(PathFor(family));
        using var gguf = ModelLoader.Load(PathFor(family + ".gguf"));
        Assert.Equal(ModelSourceKind.Safetensors, hf.Kind);
        Assert.Equal(model.Arch, hf.Config.Architecture);
        var q = hf.Weights.Layers[0].Query;
        Assert.Equal(WeightFormat.F32, q.Format);
        Assert.False(q.OwnsMemory); // zero-copy view of the mapping (for Phi-3 a row block of the fused qkv_proj)
        CheckFamilyConfig(family, hf.Config);
        AssertSameShape(family, hf.Config, gguf.Config);
        Compare(family, hf, gguf);
    }

    /// <summary>
    /// Qwen2.5 as released (BF16 safetensors, BF16 biases and norms) against the GGUF convert_hf_to_gguf.py --outtype bf16
    /// writes (BF16 matrices, 1-D tensors widened to F32): the same numbers and the same BF16 kernels on both sides.
    /// </summary>
    [Fact]
    public void BF16_checkpoint_matches_its_BF16_gguf()
    {
        var model = TinyFamilyCheckpoint.Qwen2(seed: 201).RoundToBF16();
        model.WriteHuggingFace(PathFor("bf16"), SafetensorsDType.BF16);
        model.WriteGguf(PathFor("bf16.gguf"), GgmlType.BF16);
        using var hf = ModelLoader.Load(PathFor("bf16"));
        using var gguf = ModelLoader.Load(PathFor("bf16.gguf"));
        Assert.Equal(WeightFormat.BF16, hf.Weights.Layers[1].Down.Format);
        Assert.Equal(WeightFormat.BF16, gguf.Weights.Layers[1].Down.Format);
        Assert.False(hf.Weights.Layers[1].Down.OwnsMemory);
        AssertSameShape("qwen2 bf16", hf.Config, gguf.Config);
        Compare("qwen2 bf16", hf, gguf);
    }

    /// <summary>The config.json values each family must pick up (first principles: the values the test model was given).</summary>
    private static void CheckFamilyConfig(string family, ModelConfig c)
    {
        switch (family)
        {
            case "qwen2":
                Assert.True(c.QkvBias);
                Assert.True(c.TiedOutput);
                Assert.All(c.SlidingWindows, w => Assert.Equal(0, w)); // use_sliding_window false
                Assert.Equal(1000000f, c.Rope.FreqBase);
                break;
            case "qwen3":
                Assert.True(c.QkNorm);
                Assert.False(c.QkvBias);
                Assert.Equal(32, c.HeadDim);
                Assert.False(c.TiedOutput);
                break;
            case "phi3":
                Assert.True(c.ScaleQueryBeforeAttention);
                Assert.All(c.SlidingWindows, w => Assert.Equal(0, w)); // as llama.cpp: Phi-3's window is not applied
                Assert.False(c.TiedOutput);
                break;
            case "gemma2":
                Assert.Equal(32, c.HeadDim);
                Assert.Equal(TinyFamilyCheckpoint.Gemma2AttnCap, c.AttentionLogitSoftCap);
                Assert.Equal(TinyFamilyCheckpoint.Gemma2FinalCap, c.FinalLogitSoftCap);
                Assert.Equal([TinyFamilyCheckpoint.GemmaWindow, 0], c.SlidingWindows);
                Assert.Equal(1f / MathF.Sqrt(32), c.AttentionScale);
                Assert.Equal(MathF.Sqrt(64), c.EmbeddingScale);
                break;
            case "gemma3" or "gemma3-layer-types":
                int w = TinyFamilyCheckpoint.GemmaWindow;
                Assert.Equal([w, w, w, w, w, 0], c.SlidingWindows);
                Assert.True(c.QkNorm);
                Assert.Equal(10000f, c.RopeFor(0).FreqBase);
                Assert.Equal(1000000f, c.RopeFor(5).FreqBase);
                Assert.Equal(1f, c.RopeFor(0).FreqScale);
                Assert.Equal(family == "gemma3" ? 1f : 1f / 8f, c.RopeFor(5).FreqScale);
                Assert.Equal(0f, c.AttentionLogitSoftCap);
                Assert.Equal(0f, c.FinalLogitSoftCap);
                break;
        }
    }

    /// <summary>Every hyper-parameter that shapes the forward pass agrees between the two loads.</summary>
    private static void AssertSameShape(string what, ModelConfig hf, ModelConfig gguf)
    {
        Assert.Equal(gguf.Architecture, hf.Architecture);
        Assert.Equal(gguf.Layers, hf.Layers);
        Assert.Equal(gguf.EmbeddingLength, hf.EmbeddingLength);
        Assert.Equal(gguf.FeedForwardLength, hf.FeedForwardLength);
        Assert.Equal(gguf.Heads, hf.Heads);
        Assert.Equal(gguf.KvHeads, hf.KvHeads);
        Assert.Equal(gguf.HeadDim, hf.HeadDim);
        Assert.Equal(gguf.VocabSize, hf.VocabSize);
        Assert.Equal(gguf.NormEps, hf.NormEps);
        Assert.Equal(gguf.Rope, hf.Rope);
        Assert.Equal(gguf.SlidingRope, hf.SlidingRope);
        Assert.Equal(gguf.QkvBias, hf.QkvBias);
        Assert.Equal(gguf.QkNorm, hf.QkNorm);
        Assert.Equal(gguf.PostAttentionNorm, hf.PostAttentionNorm);
        Assert.Equal(gguf.PostFeedForwardNorm, hf.PostFeedForwardNorm);
        Assert.Equal(gguf.Activation, hf.Activation);
        Assert.Equal(gguf.EmbeddingScale, hf.EmbeddingScale);
        Assert.Equal(gguf.EffectiveAttentionScale, hf.EffectiveAttentionScale);
        Assert.Equal(gguf.ScaleQueryBeforeAttention, hf.ScaleQueryBeforeAttention);
        Assert.Equal(gguf.AttentionLogitSoftCap, hf.AttentionLogitSoftCap);
        Assert.Equal(gguf.FinalLogitSoftCap, hf.FinalLogitSoftCap);
        Assert.Equal(gguf.TiedOutput, hf.TiedOutput);
        var windows = Enumerable.Range(0, gguf.Layers).Select(gguf.SlidingWindow).ToArray();
        Assert.True(windows.SequenceEqual(Enumerable.Range(0, hf.Layers).Select(hf.SlidingWindow)),
            $"{what}: sliding windows HF [{string.Join(",", Enumerable.Range(0, hf.Layers).Select(hf.SlidingWindow))}] vs GGUF [{string.Join(",", windows)}]");
    }

    private float[] AllLogits(LoadedModel model, int[] tokens)
    {
        using var s = model.CreateSession(new SessionOptions { ContextLength = 64, Pool = _pool });
        var logits = new float[tokens.Length * model.Config.VocabSize];
        s.Prefill(tokens, logits);
        return logits;
    }

    private int[] Greedy(LoadedModel model, int[] prompt, out double minMargin)
    {
        using var s = model.CreateSession(new SessionOptions { ContextLength = 64, Pool = _pool });
        ReadOnlySpan<float> logits = s.Prefill(prompt);
        var tokens = new int[Continuation];
        minMargin = double.MaxValue;
        for (int t = 0; t < Continuation; t++)
        {
            int best = 0;
            for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
            double second = double.MinValue;
            for (int i = 0; i < logits.Length; i++) if (i != best) second = Math.Max(second, logits[i]);
            minMargin = Math.Min(minMargin, logits[best] - second);
            tokens[t] = best;
            if (t + 1 < Continuation) logits = s.Decode(best);
        }
        return tokens;
    }

    private void Compare(string what, LoadedModel hf, LoadedModel gguf)
    {
        int vocab = gguf.Config.VocabSize;
        int[] prompt = Prompt(vocab);
        float[] a = AllLogits(hf, prompt), b = AllLogits(gguf, prompt);
        double worst = 0, min = double.MaxValue, max = double.MinValue;
        int worstAt = 0;
        for (int i = 0; i < a.Length; i++)
        {
            Assert.True(float.IsFinite(a[i]), $"{what}: HF logit {i} is {a[i]}");
            double d = Math.Abs(a[i] - b[i]);
            if (d > worst) (worst, worstAt) = (d, i);
            min = Math.Min(min, b[i]);
            max = Math.Max(max, b[i]);
        }
        double range = max - min, rel = worst / range;
        output.WriteLine($"{what}: max |HF − GGUF| = {worst:E3} over logit range {range:F3} → {rel:E3} relative (position {worstAt / vocab}, token {worstAt % vocab})");
        Assert.True(range > 1, $"{what}: logit range {range} is too flat to tell models apart");
        Assert.True(rel <= Tolerance,
            $"{what}: HF and GGUF logits differ by {worst:E3} at position {worstAt / vocab}, token {worstAt % vocab} ({rel:E3} of the range {range:F3}; allowed {Tolerance:E0})");

        int[] ta = Greedy(hf, prompt, out double marginA), tb = Greedy(gguf, prompt, out double marginB);
        output.WriteLine($"{what}: greedy HF [{string.Join(",", ta)}] GGUF [{string.Join(",", tb)}], smallest top-1 margin {Math.Min(marginA, marginB):E3}");
        Assert.True(ta.SequenceEqual(tb), $"{what}: greedy continuation HF [{string.Join(",", ta)}] vs GGUF [{string.Join(",", tb)}]");
    }
}
