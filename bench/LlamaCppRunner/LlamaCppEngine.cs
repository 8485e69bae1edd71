using LLama;
using LLama.Common;
using LLama.Native;
using Quanta.Models.KvCache;

namespace Quanta.Bench.LlamaCpp;

/// <summary>
/// llama.cpp (LLamaSharp 0.30.0, CPU backend) as an <see cref="IBenchEngine"/>, configured like llama-bench: CPU only,
/// n_batch ≥ the longest prompt (one llama_decode per prompt), n_ubatch 512, flash attention off, the given threads for
/// both generation and batches, logits only for the last token of a batch.
/// </summary>
internal sealed class LlamaCppEngine : IBenchEngine
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();
    private int _position;

    public LlamaCppEngine(string path, int threads, int context, KvCacheType kvType, int microBatch = 512)
    {
        GGMLType kv = kvType == KvCacheType.F16 ? GGMLType.GGML_TYPE_F16 : GGMLType.GGML_TYPE_F32;
        var p = new ModelParams(path)
        {
            ContextSize = (uint)context,
            BatchSize = (uint)Math.Max(context, microBatch),
            UBatchSize = (uint)Math.Min(microBatch, context),
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
            TypeK = kv,
            TypeV = kv,
            FlashAttention = false,
        };
        _weights = LLamaWeights.LoadFromFile(p);
        _context = _weights.CreateContext(p);
    }

    public string Name => "llama.cpp";

    public int VocabSize => _weights.Vocab.Count;

    public void Reset()
    {
        _context.NativeHandle.MemoryClear(true);
        _position = 0;
    }

    public void Prefill(ReadOnlySpan<int> tokens)
    {
        _batch.Clear();
        for (int i = 0; i < tokens.Length; i++) _batch.Add(tokens[i], _position + i, LLamaSeqId.Zero, i == tokens.Length - 1);
        Check(_context.Decode(_batch));
        _position += tokens.Length;
    }

    public void Decode(int token)
    {
        _batch.Clear();
        _batch.Add(token, _position, LLamaSeqId.Zero, true);
        Check(_context.Decode(_batch));
        _position++;
    }

    private static void Check(DecodeResult r)
    {
        if (r != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp decode failed: {r}");
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }
}
