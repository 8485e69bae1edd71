using Quanta.Core.ModelFiles.Gguf;
using Quanta.Models.Architectures;
using Quanta.Models.Runtime;
using Quanta.Models.Weights;

namespace Quanta.Models;

/// <summary>Which kind of file a model came from.</summary>
public enum ModelSourceKind
{
    /// <summary>A GGUF file.</summary>
    Gguf,

    /// <summary>A llama2.c checkpoint.</summary>
    Llama2c,

    /// <summary>A Hugging Face directory (config.json + safetensors).</summary>
    Safetensors,
}

/// <summary>
/// A model ready to run: its configuration, weights, the shared forward pass, and the file mapping(s) the weights
/// point into. Dispose releases the weights and the mapping; sessions must be disposed/finished first.
/// Immutable and safe to share between sessions.
/// </summary>
public sealed class LoadedModel : IDisposable
{
    private readonly IDisposable[] _owners;
    private bool _disposed;

    /// <summary>Wraps loaded parts; takes ownership of <paramref name="weights"/> and <paramref name="owners"/>.</summary>
    public LoadedModel(string sourcePath, ModelSourceKind kind, IArchitecture architecture, ModelConfig config, ModelWeights weights,
        GgufFile? gguf, params IDisposable[] owners)
    {
        SourcePath = sourcePath;
        Kind = kind;
        Architecture = architecture ?? throw new ArgumentNullException(nameof(architecture));
        Config = config ?? throw new ArgumentNullException(nameof(config));
        Weights = weights ?? throw new ArgumentNullException(nameof(weights));
        Gguf = gguf;
        _owners = owners;
        Model = new DecoderModel(config, weights);
    }

    /// <summary>The file or directory loaded.</summary>
    public string SourcePath { get; }

    /// <summary>Source file kind.</summary>
    public ModelSourceKind Kind { get; }

    /// <summary>The architecture whose hooks loaded the model.</summary>
    public IArchitecture Architecture { get; }

    /// <summary>Hyper-parameters.</summary>
    public ModelConfig Config { get; }

    /// <summary>Weights (views into the mapping and/or owned memory).</summary>
    public ModelWeights Weights { get; }

    /// <summary>The forward pass.</summary>
    public DecoderModel Model { get; }

    /// <summary>The GGUF file (metadata such as the tokenizer) when loaded from GGUF; null otherwise.</summary>
    public GgufFile? Gguf { get; }

    /// <summary>Creates an inference session (see <see cref="InferenceSession"/>).</summary>
    public InferenceSession CreateSession(SessionOptions? options = null) => new(this, options ?? new SessionOptions());

    /// <summary>Releases the weights and the file mappings.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Weights.Dispose();
        foreach (var o in _owners) o.Dispose();
    }
}
