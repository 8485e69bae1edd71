using Quanta.Core.Formats;
using Quanta.Models.Conversion;
using Quanta.Models.Tests.Support;
using Xunit.Abstractions;

namespace Quanta.Models.Tests.Conversion;

/// <summary>
/// Perplexity by hand (token-by-token decoding and a direct softmax) against the evaluator's batched computation; KL of a
/// model against itself is 0; KL from the F32 model grows as the quantization gets coarser (Q8_0 &lt; Q4_0 &lt; Q2_K).
/// </summary>
public sealed class PerplexityEvaluatorTests(ITestOutputHelper output)
{
    private const int Context = 32, Chunks = 3;

    private static int[] RandomTokens(int seed, int n, int vocab)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => rng.Next(3, vocab)).ToArray();
    }

    [Fact]
    public void Perplexity_equals_a_direct_computation_from_decoded_logits()
    {
        using var model = ModelLoader.Load(SharedData.Get("testdata/llama2c/stories260K.bin"));
        int seed = Environment.TickCount;
        int[] tokens = RandomTokens(seed, Context * Chunks + 5, model.Config.VocabSize);
        var r = PerplexityEvaluator.Evaluate(model, tokens, new PerplexityOptions { Context = Context, Bos = 1, Threads = 2 });

        // By hand: each chunk from an empty cache, BOS first, one token at a time; score positions n/2 .. n-2.
        double nll = 0;
        int count = 0;
        using var s = model.CreateSession(new SessionOptions { ContextLength = Context, Threads = 2 });
        for (int c = 0; c < Chunks; c++)
        {
            int[] chunk = tokens.AsSpan(c * Context, Context).ToArray();
            chunk[0] = 1;
            s.Reset();
            for (int j = 0; j < Context - 1; j++)
            {
                float[] logits = s.Decode(chunk[j]).ToArray();
                if (j < Context / 2) continue;
                double max = logits.Max(), sum = logits.Sum(v => Math.Exp(v - max));
                nll += -(logits[chunk[j + 1]] - max - Math.Log(sum));
                count++;
            }
        }
        double expected = Math.Exp(nll / count);
        Assert.Equal(Chunks, r.Chunks);
        Assert.Equal(Chunks * (Context - 1 - Context / 2), r.TokensScored);
        Assert.Equal(count, r.TokensScored);
        Assert.True(Math.Abs(r.Perplexity - expected) <= 1e-4 * expected, $"seed {seed}: perplexity {r.Perplexity}, by hand {expected}");
        Assert.Equal(expected, r.ChunkPerplexities[^1], 4);
        Assert.Null(r.MeanKlDivergence);
        output.WriteLine($"stories260K on random tokens: PPL {r.Perplexity:F3} (by hand {expected:F3})");
    }

    [Fact]
    public void Kl_is_zero_against_itself_and_grows_with_coarser_quantization()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"quanta-ppl-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string f32 = RandomLlamaGguf.Write(new RandomLlamaSpec(GgmlType.F32, Tied: true), Path.Combine(dir, "f32.gguf"));
            using var reference = ModelLoader.Load(f32);
            int[] tokens = RandomTokens(7, Context * Chunks, reference.Config.VocabSize);
            var options = new PerplexityOptions { Context = Context, Bos = 1, Threads = 2 };

            var self = PerplexityEvaluator.Evaluate(reference, tokens, options, reference);
            Assert.Equal(0.0, self.MeanKlDivergence!.Value, 12);
            Assert.Equal(1.0, self.SameTopTokenRate!.Value);
            Assert.Equal(self.Perplexity, self.ReferencePerplexity!.Value, 12);

            var kl = new Dictionary<string, double>();
            foreach (var t in new[] { GgufQuantType.Q8_0, GgufQuantType.Q4_0, GgufQuantType.Q2_K })
            {
                string path = Path.Combine(dir, t.Name + ".gguf");
                GgufQuantizer.Quantize(f32, path, t);
                using var q = ModelLoader.Load(path);
                var r = PerplexityEvaluator.Evaluate(q, tokens, options, reference);
                kl[t.Name] = r.MeanKlDivergence!.Value;
                output.WriteLine($"{t.Name}: PPL {r.Perplexity:F3} (F32 {r.ReferencePerplexity:F3}), mean KL {r.MeanKlDivergence:G4}, same top {100 * r.SameTopTokenRate:F1}%");
            }
            Assert.True(kl["Q8_0"] > 0, "Q8_0 KL should be positive");
            Assert.True(kl["Q8_0"] < kl["Q4_0"], $"KL Q8_0 {kl["Q8_0"]:G4} should be below Q4_0 {kl["Q4_0"]:G4}");
            Assert.True(kl["Q4_0"] < kl["Q2_K"], $"KL Q4_0 {kl["Q4_0"]:G4} should be below Q2_K {kl["Q2_K"]:G4}");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
