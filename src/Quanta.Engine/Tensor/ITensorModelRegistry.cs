using System.Collections.Concurrent;

namespace Quanta.Engine.Tensor;

/// <summary>The tensor models a server exposes, each behind its own <see cref="DynamicBatcher"/>.</summary>
public interface ITensorModelRegistry
{
    /// <summary>Names of the registered models.</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>The batcher of model <paramref name="name"/>, if registered.</summary>
    bool TryGet(string name, out DynamicBatcher batcher);

    /// <summary>Whether model <paramref name="name"/> is registered and accepts requests.</summary>
    bool IsReady(string name);
}

/// <summary>A thread-safe <see cref="ITensorModelRegistry"/> that owns its batchers (disposing it stops them).</summary>
public sealed class TensorModelRegistry : ITensorModelRegistry, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, DynamicBatcher> _models = new(StringComparer.Ordinal);

    /// <summary>Registers <paramref name="model"/> behind a new batcher; throws when the name is taken.</summary>
    public DynamicBatcher Add(ITensorModel model, DynamicBatcherOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var b = new DynamicBatcher(model, options);
        if (!_models.TryAdd(model.Name, b))
        {
            _ = b.DisposeAsync().AsTask();
            throw new ArgumentException($"a model named '{model.Name}' is already registered", nameof(model));
        }
        return b;
    }

    /// <inheritdoc/>
    public IReadOnlyCollection<string> Names => _models.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <inheritdoc/>
    public bool TryGet(string name, out DynamicBatcher batcher) => _models.TryGetValue(name, out batcher!);

    /// <inheritdoc/>
    public bool IsReady(string name) => _models.ContainsKey(name);

    /// <summary>Stops every batcher.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var b in _models.Values) await b.DisposeAsync().ConfigureAwait(false);
        _models.Clear();
    }
}
