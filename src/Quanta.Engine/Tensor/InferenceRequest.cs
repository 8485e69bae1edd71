namespace Quanta.Engine.Tensor;

/// <summary>
/// One inference request to a tensor model: input tensors by name (the first dimension is the batch dimension when
/// the model batches), the outputs wanted (null or empty: all), and integer parameters (e.g. "dimensions" of an
/// embedding model). Requests with different parameters never share a batch.
/// </summary>
public sealed class InferenceRequest
{
    /// <summary>Creates a request.</summary>
    public InferenceRequest(IReadOnlyList<InferenceTensor> inputs, IReadOnlyList<string>? outputs = null, IReadOnlyDictionary<string, long>? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var byName = new Dictionary<string, InferenceTensor>(StringComparer.Ordinal);
        foreach (var t in inputs)
            if (!byName.TryAdd(t.Name, t)) throw new TensorRequestException($"input '{t.Name}' is given twice");
        Inputs = byName;
        Outputs = outputs;
        Parameters = parameters ?? new Dictionary<string, long>(StringComparer.Ordinal);
    }

    /// <summary>Input tensors by name.</summary>
    public IReadOnlyDictionary<string, InferenceTensor> Inputs { get; }
    /// <summary>Requested output names (null: all outputs).</summary>
    public IReadOnlyList<string>? Outputs { get; }
    /// <summary>Integer request parameters.</summary>
    public IReadOnlyDictionary<string, long> Parameters { get; }

    /// <summary>Rows this request contributes to a batch: its inputs' first dimension (1 for a model that does not batch).</summary>
    public int BatchRows(ITensorModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.MaxBatchSize == 0) return 1;
        foreach (var t in Inputs.Values) return t.Shape.Length == 0 ? 1 : t.Shape[0];
        return 1;
    }
}
