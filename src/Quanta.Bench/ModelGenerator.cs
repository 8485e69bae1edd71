using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Models.Conversion;

namespace Quanta.Bench;

/// <summary>One tensor of a generated model: where it goes, its stored type and the range of its random values.</summary>
/// <param name="Slot">Name, type and ggml shape.</param>
/// <param name="Kind">What fills it.</param>
/// <param name="Amplitude">Matrices: values uniform in [−a, a]; norms: 1 ± a.</param>
public sealed record GeneratedTensor(GgufTensorSlot Slot, GeneratedTensorKind Kind, float Amplitude);

/// <summary>How a generated tensor is filled.</summary>
public enum GeneratedTensorKind
{
    /// <summary>Uniform random matrix, quantized to the slot type.</summary>
    Matrix,

    /// <summary>Norm weights 1 ± amplitude (F32).</summary>
    Norm,

    /// <summary>Llama-3 RoPE frequency factors (F32).</summary>
    RopeFreqs,
}

/// <summary>
/// Writes a llama-architecture GGUF with random weights of a real <see cref="ModelShape"/> in any llama-quantize
/// target: llama.* hyper-parameters, a <see cref="SyntheticVocabulary"/>, F32 norms and every matrix typed by
/// <see cref="GgufQuantizationRules"/> (so output/tied embeddings become Q6_K, etc. as in files users run), quantized
/// with Quanta's codecs (bit-identical to ggml's reference quantizers). Tensors are generated and written a block of
/// rows at a time (<see cref="StreamingGgufWriter"/>), so memory stays small whatever the model size. Values depend
/// only on the seed, the tensor and the row (not on thread count). The file is written beside the destination and renamed.
/// </summary>
public static class ModelGenerator
{
    /// <summary>The tensors of <paramref name="shape"/> in file order with the types <paramref name="target"/>'s rules choose.</summary>
    public static IReadOnlyList<GeneratedTensor> Plan(ModelShape shape, GgufQuantType target)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(target);
        shape.Validate();
        int d = shape.Embedding, hd = shape.HeadDim, qd = shape.Heads * hd, kvd = shape.KvHeads * hd, f = shape.FeedForward;
        var list = new List<(string Name, long[] Shape, GeneratedTensorKind Kind, float Amp)>();
        float a = 1.7f / MathF.Sqrt(d);
        void M(string n, int rows, int cols, float amp) => list.Add((n, [cols, rows], GeneratedTensorKind.Matrix, amp));
        void N(string n) => list.Add((n, [d], GeneratedTensorKind.Norm, 0.2f));
        M("token_embd.weight", shape.Vocab, d, 1f);
        N("output_norm.weight");
        if (!shape.TiedOutput) M("output.weight", shape.Vocab, d, 0.5f);
        if (shape.Llama3RopeFreqs) list.Add(("rope_freqs.weight", [hd / 2], GeneratedTensorKind.RopeFreqs, 0f));
        for (int l = 0; l < shape.Layers; l++)
        {
            string b = $"blk.{l}.";
            N(b + "attn_norm.weight");
            M(b + "attn_q.weight", qd, d, 2f * a);
            M(b + "attn_k.weight", kvd, d, 2f * a);
            M(b + "attn_v.weight", kvd, d, a);
            M(b + "attn_output.weight", d, qd, a);
            N(b + "ffn_norm.weight");
            M(b + "ffn_gate.weight", f, d, a);
            M(b + "ffn_up.weight", f, d, a);
            M(b + "ffn_down.weight", d, f, 1.7f / MathF.Sqrt(f));
        }
        var types = GgufQuantizationRules.Plan(target, list.Select(t => (t.Name, t.Shape.Length, t.Shape[0], GgmlType.F32)).ToList(),
            shape.Layers, shape.Heads, shape.KvHeads);
        return list.Select(t => new GeneratedTensor(new GgufTensorSlot(t.Name, types[t.Name], t.Shape), t.Kind, t.Amp)).ToList();
    }

    /// <summary>The metadata (llama.* keys, general.* keys and the synthetic tokenizer) of a generated file.</summary>
    public static GgufWriter Metadata(ModelShape shape, GgufQuantType target)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(target);
        var w = new GgufWriter();
        const string P = "llama.";
        w.Add("general.architecture", "llama");
        w.Add("general.name", $"quanta-random-{shape.Name}-{target.Name}");
        w.Add("general.file_type", target.FileType);
        w.Add("general.quantization_version", 2u);
        w.Add(P + "context_length", (uint)shape.ContextLength);
        w.Add(P + "embedding_length", (uint)shape.Embedding);
        w.Add(P + "block_count", (uint)shape.Layers);
        w.Add(P + "feed_forward_length", (uint)shape.FeedForward);
        w.Add(P + "rope.dimension_count", (uint)shape.HeadDim);
        w.Add(P + "attention.head_count", (uint)shape.Heads);
        w.Add(P + "attention.head_count_kv", (uint)shape.KvHeads);
        w.Add(P + "attention.layer_norm_rms_epsilon", 1e-5f);
        w.Add(P + "rope.freq_base", shape.RopeTheta);
        w.Add(P + "vocab_size", (uint)shape.Vocab);
        SyntheticVocabulary.Write(w, shape.Vocab);
        return w;
    }

    /// <summary>
    /// Generates <paramref name="shape"/> as <paramref name="target"/> into <paramref name="path"/>; returns the tensors
    /// written. <paramref name="log"/> gets "[ i/n] name type" per tensor.
    /// </summary>
    public static IReadOnlyList<GeneratedTensor> Generate(ModelShape shape, GgufQuantType target, string path, ulong seed = 1,
        Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var plan = Plan(shape, target);
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (dir != null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");
        string tmp = full + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                var w = new StreamingGgufWriter(fs, Metadata(shape, target), plan.Select(t => t.Slot).ToList());
                for (int i = 0; i < plan.Count; i++)
                {
                    WriteTensor(w, plan[i], shape, seed, (ulong)i);
                    log?.Invoke($"[{i + 1,4}/{plan.Count}] {plan[i].Slot.Name,-28} {plan[i].Slot.Type,-5} [{string.Join(", ", plan[i].Slot.Shape)}]");
                }
                w.Complete();
            }
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
        return plan;
    }

    private static void WriteTensor(StreamingGgufWriter w, GeneratedTensor t, ModelShape shape, ulong seed, ulong index)
    {
        GgufTensorSlot s = t.Slot;
        int cols = checked((int)s.Shape[0]);
        if (t.Kind != GeneratedTensorKind.Matrix)
        {
            var v = new float[cols];
            if (t.Kind == GeneratedTensorKind.RopeFreqs)
                RopeScaling.Llama3FrequencyFactors(shape.HeadDim, shape.RopeTheta, 32f, 1f, 4f, 8192, v);
            else
            {
                var rng = new RowRandom(seed, index, 0);
                for (int i = 0; i < cols; i++) v[i] = 1f + rng.NextSigned() * t.Amplitude;
            }
            w.Write(MemoryMarshal.AsBytes(v.AsSpan()));
            return;
        }
        long rows = s.Rows;
        long rowBytes = GgmlTypeInfo.RowBytes(s.Type, cols);
        IRowCodec? codec = s.Type == GgmlType.F32 ? null : CodecRegistry.For(s.Type);
        int rowsPerChunk = (int)Math.Max(1, Math.Min(rows, (8L << 20) / Math.Max(rowBytes, cols * 4L)));
        var chunk = new byte[rowsPerChunk * rowBytes];
        for (long r0 = 0; r0 < rows; r0 += rowsPerChunk)
        {
            int n = (int)Math.Min(rowsPerChunk, rows - r0);
            long first = r0;
            Parallel.For(0, n, () => new float[cols], (r, _, values) =>
            {
                var rng = new RowRandom(seed, index, (ulong)(first + r));
                for (int i = 0; i < cols; i++) values[i] = rng.NextSigned() * t.Amplitude;
                Span<byte> dst = chunk.AsSpan((int)(r * rowBytes), (int)rowBytes);
                if (codec is null) MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(dst);
                else codec.Quantize(values, dst);
                return values;
            }, _ => { });
            w.Write(chunk.AsSpan(0, (int)(n * rowBytes)));
        }
    }

    /// <summary>SplitMix64-seeded xorshift64* stream for one row: values depend only on (seed, tensor, row).</summary>
    private struct RowRandom
    {
        private ulong _s;

        public RowRandom(ulong seed, ulong tensor, ulong row)
        {
            ulong z = seed * 0x9E3779B97F4A7C15UL ^ (tensor + 1) * 0xBF58476D1CE4E5B9UL ^ (row + 1) * 0x94D049BB133111EBUL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            _s = (z ^ (z >> 31)) | 1;
        }

        /// <summary>Uniform in [−1, 1).</summary>
        public float NextSigned()
        {
            _s ^= _s >> 12;
            _s ^= _s << 25;
            _s ^= _s >> 27;
            ulong x = _s * 0x2545F4914F6CDD1DUL;
            return (x >> 40) * (2f / (1 << 24)) - 1f;
        }
    }
}
