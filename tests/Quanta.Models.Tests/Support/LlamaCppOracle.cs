using LLama;
using LLama.Common;
using LLama.Native;

namespace Quanta.Models.Tests.Support;

/// <summary>What llama.cpp computed for a prompt and its greedy continuation.</summary>
/// <param name="PromptLogits">[prompt.Length][vocab]: logits at every prompt position (one batch).</param>
/// <param name="Generated">Greedy tokens g1..gN (g1 = argmax of the last prompt logits).</param>
/// <param name="StepLogits">[N][vocab]: logits after feeding g1..gN one at a time.</param>
public sealed record OracleRun(float[][] PromptLogits, int[] Generated, float[][] StepLogits)
{
    /// <summary>Logits that chose generated token i (i = 0: the last prompt position).</summary>
    public float[] ChoiceLogits(int i) => i == 0 ? PromptLogits[^1] : StepLogits[i - 1];
}

/// <summary>
/// llama.cpp (LLamaSharp 0.30.0, CPU backend) as the oracle: loads a GGUF, decodes a prompt in one batch with logits
/// for every position, then greedy-decodes token by token. 2 threads, F32 KV cache, flash attention off, so the
/// reference computes attention in F32 like Quanta's F32 cache.
/// </summary>
public sealed class LlamaCppOracle : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly ModelParams _params;

    public LlamaCppOracle(string path, uint context = 128)
    {
        _params = new ModelParams(path)
        {
            ContextSize = context,
            BatchSize = context,
            UBatchSize = context,
            Threads = 2,
            BatchThreads = 2,
            GpuLayerCount = 0,
            TypeK = GGMLType.GGML_TYPE_F32,
            TypeV = GGMLType.GGML_TYPE_F32,
            FlashAttention = false,
        };
        _weights = LLamaWeights.LoadFromFile(_params);
    }

    public int Vocab => _weights.Vocab.Count;

    public OracleRun Run(int[] prompt, int steps)
    {
        using var ctx = _weights.CreateContext(_params);
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Length; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, true);
        Check(ctx.Decode(batch));
        var promptLogits = new float[prompt.Length][];
        for (int i = 0; i < prompt.Length; i++) promptLogits[i] = ctx.NativeHandle.GetLogitsIth(i).ToArray();
        var generated = new int[steps];
        var stepLogits = new float[steps][];
        float[] last = promptLogits[^1];
        for (int s = 0; s < steps; s++)
        {
            generated[s] = ArgMax(last);
            batch.Clear();
            batch.Add(generated[s], prompt.Length + s, LLamaSeqId.Zero, true);
            Check(ctx.Decode(batch));
            last = stepLogits[s] = ctx.NativeHandle.GetLogitsIth(0).ToArray();
        }
        return new OracleRun(promptLogits, generated, stepLogits);
    }

    private static void Check(DecodeResult r)
    {
        if (r != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp decode failed: {r}");
    }

    /// <summary>Index of the largest value (first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    /// <summary>Largest minus second largest value.</summary>
    public static float TopTwoMargin(ReadOnlySpan<float> x)
    {
        float a = float.NegativeInfinity, b = float.NegativeInfinity;
        foreach (float v in x)
        {
            if (v > a) { b = a; a = v; }
            else if (v > b) b = v;
        }
        return a - b;
    }

    public void Dispose() => _weights.Dispose();
}
