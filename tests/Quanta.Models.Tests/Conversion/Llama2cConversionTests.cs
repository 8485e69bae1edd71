using LLama;
using LLama.Common;
using LLama.Native;
using Quanta.Core.Formats;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.Tokenizers;
using Quanta.Models.Conversion;
using Quanta.Models.Tests.Support;

namespace Quanta.Models.Tests.Conversion;

/// <summary>
/// stories260K (llama2.c) converted to GGUF: llama.cpp loads the file and greedy-decodes from BOS (until BOS or 256
/// steps) exactly the reference text, detokenized by llama.cpp's own token-to-piece; Quanta on the converted file
/// produces the same ids; the tokenizer metadata follows SentencePiece conventions.
/// </summary>
public sealed class Llama2cConversionTests
{
    private const int Steps = 256;

    private static string Convert(GgufOutputType type)
    {
        string path = Path.Combine(Path.GetTempPath(), $"quanta-stories260K-{type}-{Environment.ProcessId}-{Guid.NewGuid():N}.gguf");
        Llama2cToGguf.Convert(SharedData.Get("testdata/llama2c/stories260K.bin"), SharedData.Get("testdata/llama2c/tok512.bin"), path, type);
        return path;
    }

    private static string ExpectedText()
    {
        string text = File.ReadAllText(SharedData.Get("testdata/llama2c/stories260K.greedy.txt"));
        return text.EndsWith('\n') ? text[..^1] : text;
    }

    private static List<int> LlamaCppGreedy(string path, out string text)
    {
        var p = new ModelParams(path)
        {
            ContextSize = 512, BatchSize = 512, UBatchSize = 512, Threads = 2, BatchThreads = 2, GpuLayerCount = 0,
            TypeK = GGMLType.GGML_TYPE_F32, TypeV = GGMLType.GGML_TYPE_F32, FlashAttention = false,
        };
        using var weights = LLamaWeights.LoadFromFile(p);
        using var ctx = weights.CreateContext(p);
        var batch = new LLamaBatch();
        batch.Add(1, 0, LLamaSeqId.Zero, true);
        var ids = new List<int>();
        var bytes = new List<byte>();
        var buf = new byte[64];
        for (int step = 0; step < Steps; step++)
        {
            if (ctx.Decode(batch) != DecodeResult.Ok) throw new InvalidOperationException("llama.cpp decode failed");
            int next = LlamaCppOracle.ArgMax(ctx.NativeHandle.GetLogitsIth(0));
            if (next == 1) break;
            ids.Add(next);
            int n = (int)weights.NativeHandle.TokenToSpan((LLamaToken)next, buf, 0, false);
            bytes.AddRange(buf.AsSpan(0, n).ToArray());
            batch.Clear();
            batch.Add(next, step + 1, LLamaSeqId.Zero, true);
        }
        text = System.Text.Encoding.UTF8.GetString(bytes.ToArray());
        return ids;
    }

    private static List<int> QuantaGreedy(string path)
    {
        using var model = ModelLoader.Load(path);
        Assert.Equal(ModelSourceKind.Gguf, model.Kind);
        using var session = model.CreateSession(new SessionOptions { ContextLength = Steps + 1, Threads = 2 });
        var ids = new List<int>();
        ReadOnlySpan<float> logits = session.Prefill([1]);
        for (int step = 0; step < Steps; step++)
        {
            int next = Argmax.Find(logits);
            if (next == 1) break;
            ids.Add(next);
            if (step + 1 < Steps) logits = session.Decode(next);
        }
        return ids;
    }

    [Fact]
    public void Llama_cpp_greedy_text_from_converted_gguf_equals_reference_and_quanta_agrees()
    {
        string path = Convert(GgufOutputType.Source);
        try
        {
            List<int> cpp = LlamaCppGreedy(path, out string cppText);
            // llama.cpp's token-to-piece keeps the leading space of the first piece ("▁Once"); SentencePiece detokenization drops it.
            string text = cppText.StartsWith(' ') ? cppText[1..] : cppText;
            Assert.Equal(ExpectedText(), text);

            List<int> quanta = QuantaGreedy(path);
            Assert.Equal(cpp, quanta);

            using var gguf = GgufFile.Open(path);
            Assert.Equal(ExpectedText(), TokenizerFactory.FromGguf(gguf).Decode(quanta.ToArray()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Converted_metadata_and_tensors_follow_llama_cpp_conventions()
    {
        string path = Convert(GgufOutputType.F16);
        try
        {
            using var f = GgufFile.Open(path);
            Assert.Equal("llama", f.GetString("general.architecture"));
            Assert.Equal(1u, f.GetUInt32("general.file_type"));
            Assert.Equal(512u, f.GetUInt32("llama.context_length"));
            Assert.Equal(64u, f.GetUInt32("llama.embedding_length"));
            Assert.Equal(5u, f.GetUInt32("llama.block_count"));
            Assert.Equal(8u, f.GetUInt32("llama.attention.head_count"));
            Assert.Equal(4u, f.GetUInt32("llama.attention.head_count_kv"));
            Assert.Equal(8u, f.GetUInt32("llama.rope.dimension_count"));
            Assert.Equal(1e-5f, f.GetFloat32("llama.attention.layer_norm_rms_epsilon"));
            Assert.Equal("llama", f.GetString("tokenizer.ggml.model"));
            Assert.Equal(1u, f.GetUInt32("tokenizer.ggml.bos_token_id"));
            Assert.Equal(2u, f.GetUInt32("tokenizer.ggml.eos_token_id"));
            var tokens = f.GetArray<string>("tokenizer.ggml.tokens");
            var types = f.GetArray<int>("tokenizer.ggml.token_type");
            Assert.Equal(512, tokens.Length);
            Assert.Equal(("<unk>", 2), (tokens[0], types[0]));
            Assert.Equal(("<s>", 3), (tokens[1], types[1]));
            Assert.Equal(("</s>", 3), (tokens[2], types[2]));
            Assert.Equal(("<0x0A>", 6), (tokens[3 + 0x0A], types[3 + 0x0A]));
            int normal = 0;
            for (int i = 259; i < tokens.Length; i++)
            {
                Assert.Equal(1, types[i]);
                Assert.DoesNotContain(' ', tokens[i]);
                if (tokens[i].StartsWith('\u2581')) normal++;
            }
            Assert.True(normal > 50, $"only {normal} pieces start with U+2581");
            // Matrices F16, norms F32; the classifier is shared so there is no output.weight.
            Assert.Equal(GgmlType.F16, f.GetTensor("blk.0.attn_q.weight").Type);
            Assert.Equal(GgmlType.F16, f.GetTensor("token_embd.weight").Type);
            Assert.Equal(GgmlType.F32, f.GetTensor("blk.0.attn_norm.weight").Type);
            Assert.False(f.TryGetTensor("output.weight", out _));
            Assert.Equal(new long[] { 64, 32 }, f.GetTensor("blk.4.attn_k.weight").Shape.ToArray());
            Assert.Equal(2 + 9 * 5, f.Tensors.Count);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
