using Quanta.Core.Threading;
using Quanta.Models.KvCache;
using Quanta.Models.Runtime;

namespace Quanta.Models;

/// <summary>Options of an <see cref="InferenceSession"/>.</summary>
public sealed record SessionOptions
{
    /// <summary>KV capacity in positions; 0 means min(model context, 4096).</summary>
    public int ContextLength { get; init; }

    /// <summary>KV cache element type.</summary>
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F32;

    /// <summary>Most tokens per forward pass (longer prompts are split); 0 means min(512, context).</summary>
    public int MaxChunk { get; init; }

    /// <summary>Pool to run on (not disposed by the session); null creates an owned pool of <see cref="Threads"/>.</summary>
    public WorkerPool? Pool { get; init; }

    /// <summary>Threads of an owned pool; 0 means the processor count.</summary>
    public int Threads { get; init; }
}

/// <summary>
/// One sequence being run through a <see cref="LoadedModel"/>: owns its KV cache, workspace and logits buffer.
/// <see cref="Prefill(ReadOnlySpan{int})"/> feeds prompt tokens, <see cref="Decode"/> one token; both return the
/// logits of the last token ([vocab], valid until the next call). Decode never allocates. Not thread-safe.
/// </summary>
public sealed class InferenceSession : IDisposable
{
    private readonly LoadedModel _model;
    private readonly DecoderWorkspace _workspace;
    private readonly float[] _logits;   // [vocab]
    private readonly int[] _one = new int[1];
    private readonly WorkerPool? _ownedPool;

    /// <summary>Creates a session with a contiguous KV cache.</summary>
    public InferenceSession(LoadedModel model, SessionOptions options)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        ArgumentNullException.ThrowIfNull(options);
        ModelConfig c = model.Config;
        int ctx = options.ContextLength > 0 ? options.ContextLength : Math.Min(c.ContextLength, 4096);
        int chunk = options.MaxChunk > 0 ? Math.Min(options.MaxChunk, ctx) : Math.Min(512, ctx);
        WorkerPool pool = options.Pool ?? (_ownedPool = new WorkerPool(options.Threads));
        Cache = ContiguousKvCache.For(c, ctx, options.KvCacheType);
        _workspace = model.Model.CreateWorkspace(chunk, ctx, pool);
        _logits = new float[c.VocabSize];
    }

    /// <summary>The KV cache this session writes.</summary>
    public ContiguousKvCache Cache { get; }

    /// <summary>Tokens processed so far (the position of the next token).</summary>
    public int Position { get; private set; }

    /// <summary>Positions the session can hold.</summary>
    public int Capacity => Cache.Capacity;

    /// <summary>Vocabulary size (length of a logits row).</summary>
    public int VocabSize => _model.Config.VocabSize;

    /// <summary>Runs <paramref name="tokens"/> (any count; chunked internally) and returns the last token's logits.</summary>
    public ReadOnlySpan<float> Prefill(ReadOnlySpan<int> tokens)
    {
        if (tokens.IsEmpty) throw new ArgumentException("no tokens", nameof(tokens));
        for (int i = 0; i < tokens.Length; i += _workspace.MaxChunk)
        {
            var chunk = tokens.Slice(i, Math.Min(_workspace.MaxChunk, tokens.Length - i));
            _model.Model.Forward(chunk, Position, Cache, _logits, allPositions: false, _workspace);
            Position += chunk.Length;
        }
        return _logits;
    }

    /// <summary>Runs <paramref name="tokens"/> and writes every position's logits into <paramref name="logits"/> ([n, vocab]).</summary>
    public void Prefill(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        int v = VocabSize;
        if (logits.Length < (long)tokens.Length * v) throw new ArgumentException($"logits must hold {tokens.Length}·{v} floats", nameof(logits));
        for (int i = 0; i < tokens.Length; i += _workspace.MaxChunk)
        {
            int n = Math.Min(_workspace.MaxChunk, tokens.Length - i);
            _model.Model.Forward(tokens.Slice(i, n), Position, Cache, logits.Slice(i * v, n * v), allPositions: true, _workspace);
            Position += n;
        }
        if (tokens.Length > 0) logits.Slice((tokens.Length - 1) * v, v).CopyTo(_logits);
    }

    /// <summary>Runs one token at <see cref="Position"/> and returns its logits ([vocab]).</summary>
    public ReadOnlySpan<float> Decode(int token)
    {
        _one[0] = token;
        _model.Model.Forward(_one, Position, Cache, _logits, allPositions: false, _workspace);
        Position++;
        return _logits;
    }

    /// <summary>Forgets the sequence (the cache is overwritten from position 0).</summary>
    public void Reset() => Position = 0;

    /// <summary>Disposes an owned pool.</summary>
    public void Dispose() => _ownedPool?.Dispose();
}
