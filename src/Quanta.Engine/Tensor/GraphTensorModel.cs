using Quanta.Core.ModelFiles.Onnx;
using Quanta.Models.Graph;

namespace Quanta.Engine.Tensor;

/// <summary>
/// A raw ONNX graph run by <see cref="GraphSession"/> as a tensor model. Metadata come from the graph's declared
/// inputs and outputs: float types are served as FP32 (the executor computes in float32), integer types under their
/// declared name (values computed as int64), BOOL as BOOL; symbolic or unknown dimensions are -1. The model batches
/// (concatenating requests along the first dimension) only when every input and output has a symbolic first
/// dimension; otherwise <see cref="MaxBatchSize"/> is 0 and each request runs alone. Runs serialize.
/// </summary>
public sealed class GraphTensorModel : ITensorModel
{
    private readonly GraphSession _session;
    private readonly Lock _gate = new();

    /// <summary>Builds a session for <paramref name="model"/>.</summary>
    public GraphTensorModel(OnnxModel model, string name, int maxBatchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(model);
        Name = name ?? throw new ArgumentNullException(nameof(name));
        _session = new GraphSession(model);
        var inputs = _session.InputInfos.Select(Spec).ToArray();
        var outputs = model.Graph.Outputs.Where(o => _session.OutputNames.Contains(o.Name)).Select(Spec).ToArray();
        Inputs = inputs;
        Outputs = outputs;
        bool batchable = maxBatchSize > 0 && inputs.Length > 0 &&
            _session.InputInfos.Concat(model.Graph.Outputs).All(v => v.Shape is { Count: > 0 } s && s[0].Value is null);
        MaxBatchSize = batchable ? maxBatchSize : 0;
    }

    /// <summary>Loads an .onnx file.</summary>
    public static GraphTensorModel Load(string path, string name, int maxBatchSize = 64) => new(OnnxModel.Load(path), name, maxBatchSize);

    /// <inheritdoc/>
    public string Name { get; }
    /// <inheritdoc/>
    public string Platform => "onnx_quanta";
    /// <inheritdoc/>
    public IReadOnlyList<TensorSpec> Inputs { get; }
    /// <inheritdoc/>
    public IReadOnlyList<TensorSpec> Outputs { get; }
    /// <inheritdoc/>
    public int MaxBatchSize { get; }

    private static TensorSpec Spec(OnnxValueInfo v) =>
        new(v.Name, Map(v.ElementType), v.Shape is null ? [] : v.Shape.Select(d => d.Value ?? -1).ToArray());

    private static TensorDataType Map(OnnxDataType t) => t switch
    {
        OnnxDataType.Bool => TensorDataType.Bool,
        OnnxDataType.UInt8 => TensorDataType.UInt8,
        OnnxDataType.UInt16 => TensorDataType.UInt16,
        OnnxDataType.Int8 => TensorDataType.Int8,
        OnnxDataType.Int16 => TensorDataType.Int16,
        OnnxDataType.Int32 => TensorDataType.Int32,
        OnnxDataType.Int64 => TensorDataType.Int64,
        OnnxDataType.String => TensorDataType.Bytes,
        _ when (int)t is 12 => TensorDataType.UInt32,
        _ when (int)t is 13 => TensorDataType.UInt64,
        _ => TensorDataType.Fp32,
    };

    /// <inheritdoc/>
    public string BatchKey(InferenceRequest request) => TensorBatching.ShapeKey(request);

    /// <inheritdoc/>
    public IReadOnlyList<IReadOnlyList<InferenceTensor>> Run(IReadOnlyList<InferenceRequest> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var x = TensorBatching.ConcatInputs(batch);
        var feeds = new Dictionary<string, GraphTensor>(StringComparer.Ordinal);
        foreach (var (name, t) in x)
            feeds[name] = t.DataType switch
            {
                TensorDataType.Fp32 => GraphTensor.FromFloats(t.Shape, t.Floats!),
                TensorDataType.Bool => GraphTensor.FromBools(t.Shape, t.Longs!.Select(v => v != 0).ToArray()),
                TensorDataType.Fp64 or TensorDataType.Bytes => throw new TensorRequestException($"input '{name}': {t.DataType.ToProtocolName()} is not supported by the graph executor"),
                _ => GraphTensor.FromLongs(t.Shape, t.Longs!),
            };
        IReadOnlyDictionary<string, GraphTensor> y;
        lock (_gate)
        {
            try
            {
                y = _session.Run(feeds);
            }
            catch (GraphException e)
            {
                throw new TensorRequestException(e.Message, e);
            }
        }
        var outputs = new List<InferenceTensor>();
        foreach (var spec in Outputs)
        {
            var g = y[spec.Name];
            outputs.Add(g.Type switch
            {
                TensorElementType.Float32 => InferenceTensor.FromFloats(spec.Name, g.Shape, g.Floats.ToArray()),
                TensorElementType.Bool => InferenceTensor.FromLongs(spec.Name, TensorDataType.Bool, g.Shape, g.Bools.ToArray().Select(b => b ? 1L : 0L).ToArray()),
                _ => InferenceTensor.FromLongs(spec.Name, spec.DataType.IsInteger() ? spec.DataType : TensorDataType.Int64, g.Shape, g.Longs.ToArray()),
            });
        }
        if (MaxBatchSize > 0)
        {
            int rows = x.Values.First().Shape[0];
            foreach (var o in outputs)
                if (o.Shape.Length == 0 || o.Shape[0] != rows)
                    throw new InvalidOperationException($"output '{o.Name}' has shape [{string.Join(", ", o.Shape)}]; a batch of {rows} rows needs the batch dimension first");
        }
        return TensorBatching.SplitOutputs(batch, this, outputs);
    }
}
