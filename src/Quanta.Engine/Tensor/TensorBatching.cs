using System.Text;

namespace Quanta.Engine.Tensor;

/// <summary>Helpers for models that batch by concatenating requests along the first dimension.</summary>
public static class TensorBatching
{
    /// <summary>
    /// Key of requests that can be concatenated: for each input (by name) its datatype and every dimension but the
    /// first, then the parameters.
    /// </summary>
    public static string ShapeKey(InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var sb = new StringBuilder();
        foreach (var (name, t) in request.Inputs.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            sb.Append(name).Append(':').Append(t.DataType.ToProtocolName()).Append('[');
            for (int i = 1; i < t.Shape.Length; i++) sb.Append(t.Shape[i]).Append(',');
            sb.Append("];");
        }
        return sb.Append(ParameterKey(request)).ToString();
    }

    /// <summary>Key of the parameters alone (for models that pad).</summary>
    public static string ParameterKey(InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var sb = new StringBuilder("|");
        foreach (var (k, v) in request.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal)) sb.Append(k).Append('=').Append(v).Append(';');
        return sb.ToString();
    }

    /// <summary>Each input concatenated over the batch along the first dimension.</summary>
    public static Dictionary<string, InferenceTensor> ConcatInputs(IReadOnlyList<InferenceRequest> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var result = new Dictionary<string, InferenceTensor>(StringComparer.Ordinal);
        foreach (var name in batch[0].Inputs.Keys)
            result[name] = batch.Count == 1 ? batch[0].Inputs[name] : InferenceTensor.ConcatRows(name, batch.Select(r => r.Inputs[name]).ToArray());
        return result;
    }

    /// <summary>Splits batched outputs back by each request's rows, keeping only the outputs each request asked for.</summary>
    public static IReadOnlyList<IReadOnlyList<InferenceTensor>> SplitOutputs(IReadOnlyList<InferenceRequest> batch, ITensorModel model, IReadOnlyList<InferenceTensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(outputs);
        var result = new IReadOnlyList<InferenceTensor>[batch.Count];
        if (batch.Count == 1)
        {
            result[0] = Select(batch[0], outputs);
            return result;
        }
        int start = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            int rows = batch[i].BatchRows(model);
            var mine = new List<InferenceTensor>();
            foreach (var o in outputs) mine.Add(o.SliceRows(start, rows));
            result[i] = Select(batch[i], mine);
            start += rows;
        }
        return result;
    }

    /// <summary>The outputs <paramref name="request"/> asked for (all when it named none), in the order asked.</summary>
    public static IReadOnlyList<InferenceTensor> Select(InferenceRequest request, IReadOnlyList<InferenceTensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(outputs);
        if (request.Outputs is not { Count: > 0 } wanted) return outputs;
        return wanted.Select(w => outputs.FirstOrDefault(o => o.Name == w) ?? throw new TensorRequestException($"the model has no output '{w}'")).ToArray();
    }
}
