using LLama;
using LLama.Native;
using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Models.Conversion;
using Quanta.Models.Tests.Support;
using Xunit.Abstractions;

namespace Quanta.Models.Tests.Conversion;

/// <summary>
/// `quantize` against llama.cpp's own quantizer: a random-weight F32 llama GGUF (4 layers, so the Q4_K_M/Q5_K_M
/// "more bits" layers 2 and 3 differ from 0 and 1) is quantized by Quanta and by llama_model_quantize (LLamaSharp,
/// output tensor quantized as the llama-quantize tool does); every tensor must have the same type and the same bytes.
/// Then llama.cpp loads Quanta's file and its logits match Quanta's on the same file.
/// </summary>
public sealed class GgufQuantizerTests(ITestOutputHelper output)
{
    public static TheoryData<string, LLamaFtype, double> Types() => new()
    {
        { "Q8_0", LLamaFtype.MOSTLY_Q8_0, 2e-2 },
        { "Q4_0", LLamaFtype.MOSTLY_Q4_0, 2e-2 },
        { "Q4_K", LLamaFtype.MOSTLY_Q4_K_M, 3e-2 },
        { "Q5_K", LLamaFtype.MOSTLY_Q5_K_M, 3e-2 },
        { "Q6_K", LLamaFtype.MOSTLY_Q6_K, 3e-2 },
        { "Q2_K", LLamaFtype.MOSTLY_Q2_K, 5e-2 },
    };

    private static string Temp(string what) => Path.Combine(Path.GetTempPath(), $"quanta-quantize-{what}-{Environment.ProcessId}-{Guid.NewGuid():N}.gguf");

    [Theory]
    [MemberData(nameof(Types))]
    public void Every_tensor_equals_llama_quantize_output_and_llama_cpp_runs_it(string type, LLamaFtype ftype, double relTol)
    {
        string src = Temp("src"), ours = Temp(type), theirs = Temp(type + "-llama");
        try
        {
            RandomLlamaGguf.Write(new RandomLlamaSpec(GgmlType.F32) { Layers = 4 }, src);
            Assert.True(GgufQuantType.TryParse(type, out var target));
            GgufQuantizer.Quantize(src, ours, target);
            NativeApi.llama_empty_call(); // loads the native library (LLamaQuantizer's first P/Invoke does not)
            Assert.True(LLamaQuantizer.Quantize(src, theirs, ftype, 2, true, true), "llama.cpp quantization failed");

            using (var a = GgufFile.Open(ours))
            using (var b = GgufFile.Open(theirs))
            {
                Assert.Equal(b.GetUInt32("general.file_type"), a.GetUInt32("general.file_type"));
                Assert.Equal(b.Tensors.Count, a.Tensors.Count);
                var types = new SortedDictionary<string, int>();
                foreach (GgufTensorInfo t in b.Tensors)
                {
                    GgufTensorInfo q = a.GetTensor(t.Name);
                    Assert.True(t.Type == q.Type, $"{type}: {t.Name} is {q.Type}, llama-quantize chose {t.Type}");
                    Assert.Equal(t.Shape.ToArray(), q.Shape.ToArray());
                    Assert.True(a.GetTensorData(q).SequenceEqual(b.GetTensorData(t)), $"{type}: {t.Name} ({t.Type}) bytes differ from llama-quantize's");
                    types[t.Type.ToString()] = types.GetValueOrDefault(t.Type.ToString()) + 1;
                }
                output.WriteLine($"{type}: {string.Join(", ", types.Select(kv => $"{kv.Key}×{kv.Value}"))}");
            }

            // llama.cpp and Quanta agree on the logits of Quanta's quantized file.
            using var oracle = new LlamaCppOracle(ours, 64);
            int[] prompt = [1, 17, 300, 5, 999, 42, 640, 77, 123, 456, 789, 1000, 3, 250, 512, 8];
            float[][] expected = oracle.Run(prompt, 0).PromptLogits;
            using var model = ModelLoader.Load(ours);
            using var session = model.CreateSession(new SessionOptions { ContextLength = 64, Threads = 2 });
            int vocab = model.Config.VocabSize;
            var all = new float[prompt.Length * vocab];
            session.Prefill(prompt, all);
            double worst = 0;
            for (int p = 0; p < prompt.Length; p++)
            {
                float lo = expected[p].Min(), hi = expected[p].Max();
                for (int v = 0; v < vocab; v++)
                    worst = Math.Max(worst, Math.Abs(expected[p][v] - all[p * vocab + v]) / (hi - lo));
            }
            output.WriteLine($"{type}: max |quanta − llama.cpp| / range {worst:G3}");
            Assert.True(worst <= relTol, $"{type}: logits differ from llama.cpp by {worst:G3} of the range (tolerance {relTol})");
        }
        finally
        {
            File.Delete(src);
            File.Delete(ours);
            File.Delete(theirs);
        }
    }

    [Fact]
    public void Type_rules_follow_llama_quantize_for_tied_output_and_odd_rows()
    {
        // Tied embeddings: token_embd takes the output rule (Q6_K); rows of 96 do not divide 256: Q4_K -> Q5_0, Q6_K -> Q8_0.
        var tensors = new List<(string, int, long, GgmlType)>
        {
            ("token_embd.weight", 2, 256, GgmlType.F32),
            ("output_norm.weight", 1, 256, GgmlType.F32),
            ("blk.0.attn_norm.weight", 1, 256, GgmlType.F32),
            ("blk.0.attn_q.weight", 2, 256, GgmlType.F32),
            ("blk.0.attn_v.weight", 2, 256, GgmlType.F32),
            ("blk.0.ffn_down.weight", 2, 96, GgmlType.F32),
        };
        var plan = GgufQuantizationRules.Plan(GgufQuantType.Q4_K_M, tensors, 1, 4, 4);
        Assert.Equal(GgmlType.Q6_K, plan["token_embd.weight"]);
        Assert.Equal(GgmlType.F32, plan["output_norm.weight"]);
        Assert.Equal(GgmlType.Q4_K, plan["blk.0.attn_q.weight"]);
        // 1 layer: i=0 >= 7·1/8 = 0, so it is a "more bits" layer.
        Assert.Equal(GgmlType.Q6_K, plan["blk.0.attn_v.weight"]);
        Assert.Equal(GgmlType.Q8_0, plan["blk.0.ffn_down.weight"]);
        Assert.Equal(GgmlType.Q5_0, GgufQuantizationRules.Fallback(GgmlType.Q4_K, 96));
        Assert.Equal(GgmlType.F16, GgufQuantizationRules.Fallback(GgmlType.Q4_K, 100));
    }
}
