using System.Text.Json;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.Threading;
using Quanta.Models.Tests.Support;

namespace Quanta.Models.Tests;

/// <summary>
/// llama2.c's stories260K checkpoint against the stored reference (an independent NumPy float32 implementation whose
/// 256-step text equals the sample published with llama2.c): greedy ids from BOS and the logits after BOS.
/// </summary>
public sealed class Stories260KTests
{
    private static JsonElement Expected()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(SharedData.Get("testdata/llama2c/stories260K.expected.json")));
        return doc.RootElement.Clone();
    }

    [Fact]
    public void Greedy_ids_from_bos_match_reference()
    {
        JsonElement gen = Expected().GetProperty("generation").EnumerateArray().First(g => g.GetProperty("prompt").GetString() == "");
        int[] expected = gen.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        int steps = gen.GetProperty("steps").GetInt32();

        using var model = ModelLoader.Load(SharedData.Get("testdata/llama2c/stories260K.bin"));
        Assert.Equal(ModelSourceKind.Llama2c, model.Kind);
        using var pool = new WorkerPool(2);
        using var session = model.CreateSession(new SessionOptions { ContextLength = steps, Pool = pool });
        var tokens = new List<int> { 1 };
        ReadOnlySpan<float> logits = session.Prefill([1]);
        while (tokens.Count < steps + 1)
        {
            int next = Argmax.Find(logits);
            if (next == 1) break;
            tokens.Add(next);
            if (tokens.Count == steps + 1) break;
            logits = session.Decode(next);
        }
        Assert.Equal(expected, tokens.ToArray());
    }

    [Fact]
    public void Logits_after_bos_match_reference()
    {
        float[] expected = Expected().GetProperty("bos_step_logits").GetProperty("all").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        using var model = ModelLoader.Load(SharedData.Get("testdata/llama2c/stories260K.bin"));
        using var session = model.CreateSession(new SessionOptions { ContextLength = 16, Threads = 2 });
        ReadOnlySpan<float> logits = session.Prefill([1]);
        Assert.Equal(expected.Length, logits.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - logits[i]) <= 1e-4f, $"logit {i}: {logits[i]} vs reference {expected[i]}");
    }
}
