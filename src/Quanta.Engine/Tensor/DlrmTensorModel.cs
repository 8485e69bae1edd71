using Quanta.Models.Recommendation;

namespace Quanta.Engine.Tensor;

/// <summary>
/// <see cref="DlrmModel"/> as a tensor model: inputs "dense" FP32 [n, 13] and "sparse" INT64 [n, 26, bag]; output
/// "probability" FP32 [n, 1]. Requests with different bag sizes are not mixed (no padding).
/// </summary>
public sealed class DlrmTensorModel(DlrmModel model, string name, int maxBatchSize = 256) : ITensorModel
{
    private readonly DlrmModel _model = model ?? throw new ArgumentNullException(nameof(model));

    /// <inheritdoc/>
    public string Name { get; } = name ?? throw new ArgumentNullException(nameof(name));
    /// <inheritdoc/>
    public string Platform => "quanta_dlrm";
    /// <inheritdoc/>
    public IReadOnlyList<TensorSpec> Inputs { get; } =
        [new("dense", TensorDataType.Fp32, [-1, CriteoFeatures.DenseCount]), new("sparse", TensorDataType.Int64, [-1, CriteoFeatures.SparseCount, -1])];
    /// <inheritdoc/>
    public IReadOnlyList<TensorSpec> Outputs { get; } = [new("probability", TensorDataType.Fp32, [-1, 1])];
    /// <inheritdoc/>
    public int MaxBatchSize { get; } = maxBatchSize > 0 ? maxBatchSize : throw new ArgumentOutOfRangeException(nameof(maxBatchSize));

    /// <inheritdoc/>
    public string BatchKey(InferenceRequest request) => TensorBatching.ShapeKey(request);

    /// <inheritdoc/>
    public IReadOnlyList<IReadOnlyList<InferenceTensor>> Run(IReadOnlyList<InferenceRequest> batch)
    {
        var x = TensorBatching.ConcatInputs(batch);
        int n = x["dense"].Shape[0];
        var p = _model.Predict(x["dense"].Floats!, x["sparse"].Longs!, n);
        return TensorBatching.SplitOutputs(batch, this, [InferenceTensor.FromFloats("probability", [n, 1], p)]);
    }
}
