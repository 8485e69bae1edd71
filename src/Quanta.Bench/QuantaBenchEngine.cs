using Quanta.Models;
using Quanta.Models.KvCache;

namespace Quanta.Bench;

/// <summary>Quanta's <see cref="InferenceSession"/> as an <see cref="IBenchEngine"/> (owns the loaded model).</summary>
public sealed class QuantaBenchEngine : IBenchEngine
{
    private readonly LoadedModel _model;
    private readonly InferenceSession _session;

    /// <summary>Loads <paramref name="path"/> (a GGUF file's weights held as <paramref name="residency"/> says; null:
    /// <see cref="ModelLoader.DefaultResidency"/>) and opens a session of <paramref name="context"/> positions on
    /// <paramref name="threads"/> threads.</summary>
    public QuantaBenchEngine(string path, int threads, int context, KvCacheType kvType, int microBatch = 512,
        Quanta.Core.ModelFiles.FileResidency? residency = null)
    {
        _model = ModelLoader.Load(path, residency);
        try
        {
            _session = _model.CreateSession(new SessionOptions
            {
                ContextLength = context,
                Threads = threads,
                KvCacheType = kvType,
                MaxChunk = Math.Min(microBatch, context),
            });
        }
        catch
        {
            _model.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public string Name => "quanta";

    /// <inheritdoc/>
    public int VocabSize => _session.VocabSize;

    /// <inheritdoc/>
    public void Reset() => _session.Reset();

    /// <inheritdoc/>
    public void Prefill(ReadOnlySpan<int> tokens) => _session.Prefill(tokens);

    /// <inheritdoc/>
    public void Decode(int token) => _session.Decode(token);

    /// <inheritdoc/>
    public void Dispose()
    {
        _session.Dispose();
        _model.Dispose();
    }
}
