using System.Runtime.InteropServices;
using System.Text.Json;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Float;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Models.Conversion;

namespace Quanta.Models.Tests.Conversion;

/// <summary>
/// Hugging Face → GGUF (Q/K permutation checked by running both files: the HF checkpoint with rotate-half RoPE and the
/// GGUF with adjacent-pair RoPE must give the same logits) and safetensors → compressed-tensors FP8 / INT8.
/// </summary>
public sealed class HfConversionAndCompressedTensorsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"quanta-hf-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static float[] Logits(string path, int[] tokens)
    {
        using var model = ModelLoader.Load(path);
        using var s = model.CreateSession(new SessionOptions { ContextLength = 32, Threads = 2 });
        var all = new float[tokens.Length * model.Config.VocabSize];
        s.Prefill(tokens, all);
        return all;
    }

    [Fact]
    public void Hf_checkpoint_converted_to_gguf_gives_the_same_logits()
    {
        int seed = Environment.TickCount;
        string src = TinyHfCheckpoint.Write(Path.Combine(_dir, "src"), SafetensorsDType.F32, seed);
        string gguf = Path.Combine(_dir, "m.gguf");
        HuggingFaceToGguf.Convert(src, gguf);
        using (var f = GgufFile.Open(gguf))
        {
            Assert.Equal(GgmlType.F32, f.GetTensor("blk.0.attn_q.weight").Type);
            Assert.Equal(0u, f.GetUInt32("general.file_type"));
            Assert.True(f.TryGetTensor("output.weight", out _));
        }
        int[] tokens = [1, 5, 17, 40, 3, 90, 12, 60, 33, 2, 70, 8];
        float[] hf = Logits(src, tokens), gg = Logits(gguf, tokens);
        double worst = 0;
        for (int i = 0; i < hf.Length; i++) worst = Math.Max(worst, Math.Abs(hf[i] - gg[i]));
        Assert.True(worst < 1e-3, $"seed {seed}: HF and converted GGUF logits differ by {worst}");

        // The permutation itself, from its definition (GGUF row 2i + j of a head = HF row j·headDim/2 + i).
        var wrong = new float[TinyHfCheckpoint.Dim * TinyHfCheckpoint.Dim];
        var ident = Enumerable.Range(0, wrong.Length).Select(i => (float)i).ToArray();
        LlamaQkPermutation.ToGgufLayout(ident, wrong, TinyHfCheckpoint.Heads, TinyHfCheckpoint.Dim);
        // head 0, GGUF row 1 = HF row headDim/2 = 8
        Assert.Equal(8 * TinyHfCheckpoint.Dim, wrong[1 * TinyHfCheckpoint.Dim]);
        Assert.Equal(1 * TinyHfCheckpoint.Dim, wrong[2 * TinyHfCheckpoint.Dim]);
    }

    [Theory]
    [InlineData(CompressedTensorsScheme.Fp8)]
    [InlineData(CompressedTensorsScheme.Int8)]
    public void Compressed_tensors_output_reloads_with_dtypes_shapes_and_scales(CompressedTensorsScheme scheme)
    {
        int seed = Environment.TickCount;
        string src = TinyHfCheckpoint.Write(Path.Combine(_dir, "src"), SafetensorsDType.BF16, seed);
        File.WriteAllText(Path.Combine(src, "tokenizer.json"), "{\"stand-in\": true}");
        string dst = Path.Combine(_dir, "out");
        CompressedTensorsQuantizer.Quantize(src, dst, scheme);

        Assert.Equal("{\"stand-in\": true}", File.ReadAllText(Path.Combine(dst, "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(dst, "tokenizer_config.json")));
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dst, "config.json"))))
        {
            var q = doc.RootElement.GetProperty("quantization_config");
            Assert.Equal("compressed-tensors", q.GetProperty("quant_method").GetString());
            Assert.Equal(scheme == CompressedTensorsScheme.Fp8 ? "float-quantized" : "int-quantized", q.GetProperty("format").GetString());
            var wq = q.GetProperty("config_groups").GetProperty("group_0").GetProperty("weights");
            Assert.Equal(8, wq.GetProperty("num_bits").GetInt32());
            Assert.Equal("channel", wq.GetProperty("strategy").GetString());
            Assert.Equal(scheme == CompressedTensorsScheme.Fp8 ? "float" : "int", wq.GetProperty("type").GetString());
            Assert.Equal(64, doc.RootElement.GetProperty("hidden_size").GetInt32());
        }

        using var before = SafetensorsCheckpoint.Open(src);
        using var after = SafetensorsCheckpoint.Open(dst);
        int quantized = 0;
        foreach (string name in before.TensorNames)
        {
            var info = before.GetTensor(name, out _);
            var got = after.GetTensor(name, out _);
            Assert.Equal(info.Shape.ToArray(), got.Shape.ToArray());
            bool linear = name.StartsWith("model.layers.", StringComparison.Ordinal) && name.EndsWith("_proj.weight", StringComparison.Ordinal);
            if (!linear)
            {
                Assert.Equal(info.DType, got.DType);
                Assert.True(before.GetTensorData(name).SequenceEqual(after.GetTensorData(name)), $"{name} changed");
                continue;
            }
            quantized++;
            Assert.Equal(scheme == CompressedTensorsScheme.Fp8 ? SafetensorsDType.F8_E4M3 : SafetensorsDType.I8, got.DType);
            string scaleName = name[..^"weight".Length] + "weight_scale";
            var si = after.GetTensor(scaleName, out _);
            int rows = (int)info.Shape[0], cols = (int)info.Shape[1];
            Assert.Equal(SafetensorsDType.F32, si.DType);
            Assert.Equal(new long[] { rows, 1 }, si.Shape.ToArray());
            ReadOnlySpan<float> scales = MemoryMarshal.Cast<byte, float>(after.GetTensorData(scaleName));
            ReadOnlySpan<ushort> orig = MemoryMarshal.Cast<byte, ushort>(before.GetTensorData(name));
            ReadOnlySpan<byte> codes = after.GetTensorData(name);
            for (int r = 0; r < rows; r++)
            {
                float amax = 0;
                for (int c = 0; c < cols; c++) amax = Math.Max(amax, Math.Abs(BF16Conversion.ToSingle(orig[r * cols + c])));
                float s = amax / (scheme == CompressedTensorsScheme.Fp8 ? 448f : 127f);
                Assert.Equal(s, scales[r], 6);
                for (int c = 0; c < cols; c++)
                {
                    float w = BF16Conversion.ToSingle(orig[r * cols + c]);
                    float deq, bound;
                    if (scheme == CompressedTensorsScheme.Fp8)
                    {
                        deq = Fp8E4M3.Decode(codes[r * cols + c]) * s;
                        // E4M3: 3 mantissa bits → relative error ≤ 2⁻⁴ for normals; below 2⁻⁶·s half a subnormal step (2⁻¹⁰·s).
                        bound = Math.Max(Math.Abs(w) / 16f, s * MathF.Pow(2, -10)) * 1.0001f;
                    }
                    else
                    {
                        deq = (sbyte)codes[r * cols + c] * s;
                        bound = s / 2 * 1.0001f;
                    }
                    Assert.True(Math.Abs(w - deq) <= bound, $"seed {seed} {scheme} {name}[{r},{c}]: {w} -> {deq} (bound {bound})");
                }
            }
        }
        Assert.Equal(7 * TinyHfCheckpoint.Layers, quantized);
        Assert.Equal(before.TensorNames.Count + quantized, after.TensorNames.Count);
    }
}
