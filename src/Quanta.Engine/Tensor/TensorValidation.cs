namespace Quanta.Engine.Tensor;

/// <summary>Checks a request against a model's metadata before it is queued.</summary>
public static class TensorValidation
{
    /// <summary>
    /// Throws <see cref="TensorRequestException"/> unless every input is known and every required input present, each
    /// has the declared datatype and rank and matches every fixed dimension, all inputs agree on the batch dimension
    /// (batching models; at least 1 row and at most <see cref="ITensorModel.MaxBatchSize"/>), and every requested
    /// output exists.
    /// </summary>
    public static void Validate(ITensorModel model, InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(request);
        foreach (var name in request.Inputs.Keys)
            if (!model.Inputs.Any(s => s.Name == name))
                throw new TensorRequestException($"unexpected input '{name}' for model '{model.Name}' (inputs: {string.Join(", ", model.Inputs.Select(s => s.Name))})");
        int rows = -1;
        foreach (var spec in model.Inputs)
        {
            if (!request.Inputs.TryGetValue(spec.Name, out var t))
            {
                if (spec.Optional) continue;
                throw new TensorRequestException($"input '{spec.Name}' is missing");
            }
            if (t.DataType != spec.DataType)
                throw new TensorRequestException($"input '{spec.Name}' has datatype {t.DataType.ToProtocolName()}, the model expects {spec.DataType.ToProtocolName()}");
            if (t.Shape.Length != spec.Shape.Count)
                throw new TensorRequestException($"input '{spec.Name}' has shape [{string.Join(", ", t.Shape)}], the model expects [{string.Join(", ", spec.Shape)}]");
            for (int i = 0; i < t.Shape.Length; i++)
                if (spec.Shape[i] >= 0 && spec.Shape[i] != t.Shape[i])
                    throw new TensorRequestException($"input '{spec.Name}' has shape [{string.Join(", ", t.Shape)}], the model expects [{string.Join(", ", spec.Shape)}]");
            if (model.MaxBatchSize > 0)
            {
                int r = t.Shape[0];
                if (rows >= 0 && r != rows) throw new TensorRequestException($"inputs disagree on the batch dimension ({rows} and {r} for '{spec.Name}')");
                rows = r;
            }
        }
        if (request.Inputs.Count == 0) throw new TensorRequestException("the request has no inputs");
        if (model.MaxBatchSize > 0 && (rows < 1 || rows > model.MaxBatchSize))
            throw new TensorRequestException($"batch dimension {rows} is outside 1..{model.MaxBatchSize} for model '{model.Name}'");
        if (request.Outputs is { } outs)
            foreach (var o in outs)
                if (!model.Outputs.Any(s => s.Name == o)) throw new TensorRequestException($"the model '{model.Name}' has no output '{o}'");
    }
}
